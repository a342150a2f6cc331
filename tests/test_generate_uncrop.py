"""Uncrop: the photo's own pixels stay bit-identical (8 and 16 bits, grey, alpha), with the built-in patch engine
and with a (tiny, random, locally built) diffusion model; the frame arithmetic; the CLI's messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retouch.cli import _run
from retouch.errors import InvalidInput
from retouch.io import load_image, save_image
from retouch.io.xmp import read_provenance
from retouch.tools.uncrop import border_for, uncrop
from retouch.types import Picture

EDITED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def photo(width: int = 80, height: int = 60, *, dtype: type = np.uint8, channels: int = 3, seed: int = 0) -> Picture:
    """Stripes and noise: a texture the patch engine can continue, and pixels no fill reproduces by chance."""
    rng = np.random.default_rng(seed)
    top = 255 if dtype is np.uint8 else 65535
    x = np.arange(width)[None, :]
    base = (np.sin(x / 3.0) * 0.3 + 0.5 + rng.normal(0, 0.05, (height, width)))[:, :, None]
    pixels = np.clip(np.repeat(base, channels, axis=2) * top, 0, top).astype(dtype)
    return Picture(pixels=pixels)


def placed(result: Picture, original: Picture, left: int, top: int) -> np.ndarray:
    return result.pixels[top : top + original.height, left : left + original.width]


@pytest.mark.parametrize(
    ("size", "to", "expected"),
    [((80, 60), "16:9", (13, 14, 0, 0)), ((160, 60), "1:1", (0, 0, 50, 50)), ((80, 60), "81x63", (0, 1, 1, 2))],
)
def test_the_frame_is_grown_the_short_way_and_centred(
    size: tuple[int, int], to: str, expected: tuple[int, int, int, int]
) -> None:
    border = border_for(*size, to=to)
    assert (border.left, border.right, border.top, border.bottom) == expected


@pytest.mark.parametrize(
    "arguments",
    [{"to": "16:0"}, {"to": "wide"}, {"to": "40x40"}, {"to": "4:3"}, {"to": "16:9", "left": 4}, {"left": -1}, {}],
)
def test_bad_frames_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        border_for(80, 60, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dtype", "channels", "alpha"), [(np.uint8, 3, False), (np.uint16, 3, True), (np.uint8, 1, False)]
)
def test_the_patch_engine_keeps_the_photo_bit_identical(dtype: type, channels: int, alpha: bool) -> None:
    source = photo(dtype=dtype, channels=channels)
    if alpha:
        source = source.replace(alpha=np.full(source.pixels.shape[:2], 1234, dtype=dtype))
    result = uncrop(source, left=10, right=3, top=7, bottom=0, engine="patch", seed=1)
    assert result.size == (93, 67) and result.pixels.dtype == dtype and result.pixels.shape[2] == channels
    assert np.array_equal(placed(result, source, 10, 7), source.pixels)
    if alpha:
        assert result.alpha is not None
        assert np.array_equal(result.alpha[7:67, 10:90], source.alpha)
        assert (result.alpha[:7] == 65535).all()
    # the border continues the stripes: its columns vary like the photo's, not a flat smear
    border = result.pixels[:7, 10:90, 0].astype(np.float64)
    assert border.std(axis=1).min() > 0.5 * source.pixels[:, :, 0].astype(np.float64).std(axis=1).mean()
    assert result.metadata.operations == ("uncrop (engine=patch)",)
    assert np.array_equal(result.pixels, uncrop(source, left=10, right=3, top=7, engine="patch", seed=1).pixels)


def test_the_cli_extends_a_png_and_says_a_model_gives_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import retouch.tools.uncrop as tool

    monkeypatch.setattr(tool, "_engine", lambda engine, model: None)  # no model here, whatever is installed
    source = tmp_path / "in.png"
    save_image(photo(), source, provenance=False)
    out = tmp_path / "wide.png"
    assert _run(["uncrop", str(source), "--to", "16:9", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "uncrop: the built-in patch engine extended the photo's own textures; a diffusion model gives more" in err
    result = load_image(out)
    assert result.size == (107, 60)
    assert np.array_equal(result.pixels[:, 13:93], load_image(source).pixels)
    assert load_image(source).size == (80, 60)  # the input is untouched
    assert _run(["uncrop", str(source), "--to", "2:1", "--left", "5", "-o", str(tmp_path / "x.png")]) == 2
    assert _run(["uncrop", str(source), "--to", "16:9", "-o", str(out)]) == 2  # exists: not overwritten
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("retouch: error:")


def test_a_model_fills_the_border_and_the_photo_stays_bit_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")
    import diffusion_tiny

    from retouch.models import registry

    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    paths = diffusion_tiny.write_model(tmp_path / "home" / "models" / diffusion_tiny.NAME)
    spec = diffusion_tiny.spec_for(paths)
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)
    source = photo(120, 90, seed=3)
    seen: list[tuple[str, int, int]] = []
    result = uncrop(source, to="16:9", engine="model", model=spec.name, seed=5,
                    progress=lambda *report: seen.append(report))
    left = (160 - 120) // 2
    assert result.size == (160, 90)
    assert np.array_equal(placed(result, source, left, 0), source.pixels)
    assert not np.array_equal(result.pixels[:, :left], uncrop(source, to="16:9", engine="patch").pixels[:, :left])
    assert seen[-1] == ("generate", 2, 2)
    assert result.metadata.operations == (f"uncrop (engine=model, model={spec.name})",)
    again = uncrop(source, to="16:9", engine="model", model=spec.name, seed=5)
    assert np.array_equal(result.pixels, again.pixels)
    out = tmp_path / "wide.png"
    save_image(result, out)
    provenance = read_provenance(load_image(out).metadata.xmp)
    assert provenance is not None and provenance.digital_source_type == EDITED
    with pytest.raises(InvalidInput, match="refused"):
        uncrop(source, to="16:9", engine="model", model=spec.name, prompt="topless")


def test_real_photos_keep_every_pixel(tmp_path: Path) -> None:
    from shared_data import KODAK, unavailable

    if not (KODAK / "kodim12.png").is_file():
        unavailable(f"needs {KODAK / 'kodim12.png'}")
    source = load_image(KODAK / "kodim12.png")
    result = uncrop(source, top=64, bottom=64, engine="patch")
    assert np.array_equal(result.pixels[64:-64], source.pixels)
