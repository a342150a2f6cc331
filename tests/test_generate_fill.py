"""Prompt-driven fill (``erase(..., prompt=...)``, ``retouch erase --prompt``) and background
(``replace_background(..., prompt=...)``, ``retouch replace-bg --prompt``), with the tiny random diffusion model
built here (tests/diffusion_tiny.py) in a temporary model cache: the untouched-pixel guarantee, determinism, the
refusals (the stricter list with a person inside the region, the face detector faked), cancellation, the CLI's
exit-2 lines and the HTTP API's 4xx answers."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="the 'gen' extra (pip install 'retouch[gen]') is not installed")

import diffusion_tiny
from cutout_onnx import install_fake
from cutout_scenes import scene
from retouch import masks
from retouch.cli import _run
from retouch.errors import BackendUnavailable, InvalidInput, WeightsMissing
from retouch.io import load_image, save_image
from retouch.io.xmp import read_provenance
from retouch.models import registry
from retouch.tools.cutout import extract, replace_background
from retouch.tools.erase import erase
from retouch.tools.generate import backend
from retouch.tools.generate.refusals import PromptRefused
from retouch.types import Picture

EDITED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
CUTOUT = "u2netp"


class Stop(Exception):
    pass


@dataclass
class FakeFaces:
    """The face detector faked: it finds ``boxes`` (x, y, w, h) and counts its calls."""

    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    calls: int = 0

    def __call__(self, rgb: np.ndarray, **_: object) -> list[SimpleNamespace]:
        self.calls += 1
        return [SimpleNamespace(box=box) for box in self.boxes]


@pytest.fixture
def faces(monkeypatch: pytest.MonkeyPatch) -> FakeFaces:
    from retouch.tools.restore.faces import detect

    fake = FakeFaces()
    monkeypatch.setattr(detect, "detect_faces", fake)
    return fake


def photo(width: int = 160, height: int = 120, *, dtype: type = np.uint8, channels: int = 3) -> Picture:
    """Smooth gradients and fine noise: pixels no fill reproduces by chance."""
    rng = np.random.default_rng(1)
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack([x / width, y / height, 0.5 + 0.3 * np.sin(x / 7.0)], axis=2)[:, :, :channels]
    noisy = np.clip(base + rng.normal(0, 0.02, base.shape), 0, 1)
    return Picture(pixels=(noisy * top + 0.5).astype(dtype))


def hole(width: int = 160, height: int = 120) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[40:70, 60:100] = True
    return mask


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_the_fill_changes_only_the_grown_mask_and_differs_from_the_plain_erase(tiny: str, dtype: type) -> None:
    source = photo(dtype=dtype)
    mask = hole()
    seen: list[tuple[str, int, int]] = []
    result = erase(source, mask, prompt="a red brick wall", seed=3, grow=4, progress=lambda *r: seen.append(r))
    assert result.pixels.dtype == dtype and result.size == source.size
    grown = masks.grow(mask, 4)
    assert np.array_equal(result.pixels[~grown], source.pixels[~grown])  # bit-identical outside
    changed = np.any(result.pixels != source.pixels, axis=2)
    assert changed[mask].mean() > 0.9  # the painted region is made anew
    plain = erase(source, mask, engine="patch", seed=3, grow=4)
    inside = result.pixels[mask].astype(np.float64) - plain.pixels[mask]
    assert np.abs(inside).mean() > 0.02 * np.iinfo(dtype).max
    assert result.metadata.operations == (f"erase (engine=model, model={tiny}, steps=2, seed=3)",)
    assert seen[-1] == ("erase (model)", 100, 100) and ("erase (model)", 50, 100) in seen  # the model's steps


def test_the_fill_is_deterministic_and_the_seed_changes_it(tiny: str) -> None:
    source, mask = photo(), hole()
    first = erase(source, mask, prompt="grass", seed=5)
    assert np.array_equal(first.pixels, erase(source, mask, prompt="grass", seed=5).pixels)
    assert not np.array_equal(first.pixels, erase(source, mask, prompt="grass", seed=6).pixels)


def test_a_large_photo_is_filled_through_a_crop_around_the_hole(tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from retouch.tools.generate.backend import DiffusionModel

    sizes: list[tuple[int, int]] = []
    inpaint = DiffusionModel.inpaint

    def record(self: DiffusionModel, image: np.ndarray, mask: np.ndarray, *args: object, **kw: object) -> np.ndarray:
        sizes.append(mask.shape)
        return inpaint(self, image, mask, *args, **kw)

    monkeypatch.setattr(DiffusionModel, "inpaint", record)
    source = photo(1200, 900)
    mask = np.zeros((900, 1200), dtype=bool)
    mask[400:430, 500:560] = True  # a 60x30 hole: a crop about three times its size, not the 1200x900 photo
    result = erase(source, mask, prompt="a stone", grow=3)
    grown = masks.grow(mask, 3)
    assert np.array_equal(result.pixels[~grown], source.pixels[~grown])
    assert len(sizes) == 1
    height, width = sizes[0]
    assert width % 8 == 0 and height % 8 == 0 and width > height  # the crop's aspect at the model's size (64²)
    assert abs(width * height - 64 * 64) < 0.3 * 64 * 64


def test_a_refused_prompt_stops_before_the_model_is_looked_for(
    tiny: str, monkeypatch: pytest.MonkeyPatch, faces: FakeFaces
) -> None:
    monkeypatch.setattr(backend, "resolve_model", lambda *a, **k: pytest.fail("the model was looked for"))
    with pytest.raises(PromptRefused, match="nudity"):
        erase(photo(), hole(), prompt="topless")
    with pytest.raises(PromptRefused, match="nudity"):
        replace_background(photo(), prompt="a n.u.d.e beach")


def test_with_a_person_inside_the_mask_the_stricter_list_refuses(
    tiny: str, faces: FakeFaces
) -> None:
    source, mask = photo(), hole()
    erase(source, mask, prompt="a red bikini", grow=2)  # no face found: allowed
    faces.boxes.append((70.0, 45.0, 16.0, 16.0))  # a face inside the painted region
    with pytest.raises(PromptRefused, match="over a person"):
        erase(source, mask, prompt="a red bikini", grow=2)
    erase(source, mask, prompt="a red scarf", grow=2)  # not on the stricter list: allowed over a person
    faces.boxes[:] = [(5.0, 5.0, 10.0, 10.0)]  # a face far from the region: the strict list does not apply
    erase(source, mask, prompt="a red bikini", grow=2)
    calls = faces.calls
    erase(source, mask, prompt="a brick wall", grow=2)
    assert faces.calls == calls  # no detector run for a prompt whose answer it cannot change


def test_a_prompt_with_another_engine_or_a_bad_option_is_refused(tiny: str) -> None:
    with pytest.raises(InvalidInput, match="the lama engine cannot take one"):
        erase(photo(), hole(), prompt="grass", engine="lama")
    with pytest.raises(InvalidInput, match="empty"):
        erase(photo(), hole(), prompt="   ")
    with pytest.raises(InvalidInput, match="steps"):
        erase(photo(), hole(), prompt="grass", steps=51)
    with pytest.raises(InvalidInput, match="seed"):
        erase(photo(), hole(), prompt="grass", seed=2**64 - 1)  # the patch engine's seed, past torch's range
    with pytest.raises(InvalidInput, match="give the prompt too"):
        erase(photo(), hole(), steps=2)  # a model's option without a prompt is not silently dropped
    with pytest.raises(InvalidInput, match="give the prompt too"):
        replace_background(photo(), "white", diffusion_model=tiny)


def test_a_raising_progress_stops_the_fill(tiny: str) -> None:
    reports: list[tuple[str, int, int]] = []

    def stop_in_the_model(stage: str, done: int, total: int) -> None:
        reports.append((stage, done, total))
        if done >= 50:
            raise Stop

    with pytest.raises(Stop):
        erase(photo(), hole(), prompt="grass", progress=stop_in_the_model)
    assert reports[-1][1] == 50  # stopped after the first of the two steps


def test_the_cli_fills_with_composite_provenance_and_a_cancel_writes_nothing(
    tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retouch.cli import running

    source = tmp_path / "in.png"
    save_image(photo(), source, provenance=False)
    out = tmp_path / "filled.png"
    argv = ["erase", str(source), "--box", "60,40,40,30", "--prompt", "a red brick wall", "--seed", "2"]
    assert _run([*argv, "-o", str(out)]) == 0
    result = load_image(out)
    provenance = read_provenance(result.metadata.xmp)
    assert provenance is not None and provenance.digital_source_type == EDITED
    box = np.zeros((120, 160), dtype=bool)
    box[40:70, 60:100] = True
    same = erase(photo(), box, prompt="a red brick wall", seed=2)
    assert np.array_equal(result.pixels, same.pixels)  # the CLI and the API make the same pixels

    calls = 0

    def stop_on_second_report() -> None:
        nonlocal calls
        calls += 1
        if calls >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(running, "raise_if_stopping", stop_on_second_report)
    never = tmp_path / "never.png"
    assert _run([*argv, "-o", str(never)]) == 130
    assert not never.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["filled.png", "home", "in.png"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "patch"], ("retouch: error: a prompt is filled by a diffusion model: the patch engine cannot "
                                 "take one (leave the engine at auto, or erase without a prompt)")),
        ([], "retouch: error: this prompt is refused: Retouch does not make undressing (matched 'undress')"),
        (["--no-provenance"], ("retouch: error: a generative fill always carries its provenance marks: drop "
                               "--no-provenance")),
    ],
)
def test_the_cli_says_one_line_and_exits_2(
    tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    source = tmp_path / "in.png"
    save_image(photo(), source, provenance=False)
    prompt = "undress him" if not extra else "grass"
    out = tmp_path / "out.png"
    assert _run(["erase", str(source), "--box", "60,40,40,30", "--prompt", prompt, *extra, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [message]
    assert not out.exists()


def test_without_the_extra_or_a_model_the_cli_names_the_command(
    home: Path, tiny_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = diffusion_tiny.spec_for(tiny_files)
    for name in [n for n, s in registry._REGISTRY.items() if s.task == "generate"]:
        monkeypatch.delitem(registry._REGISTRY, name)
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)  # registered, not pulled
    source = tmp_path / "in.png"
    save_image(photo(), source, provenance=False)
    argv = ["erase", str(source), "--box", "60,40,40,30", "--prompt", "grass", "-o", str(tmp_path / "o.png")]
    with pytest.raises(WeightsMissing):
        erase(photo(), hole(), prompt="grass")
    assert _run(argv) == 2
    line = (
        f"weights for model '{spec.name}' are not installed (no generative model is installed); "
        f"run: retouch models pull {spec.name}"
    )
    assert capsys.readouterr().err.strip().splitlines() == [f"retouch: error: {line}"]
    monkeypatch.setattr(backend, "extra_installed", lambda: False)
    with pytest.raises(BackendUnavailable):
        replace_background(photo(), prompt="a beach")
    assert _run(argv) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "retouch: error: the generative tools need the optional diffusion backend; run: pip install 'retouch[gen]'"
    ]


# -- replace background from a prompt: the scene's disc is the subject (a generated cutout network) ------------


@pytest.fixture
def subject(tiny: str, monkeypatch: pytest.MonkeyPatch) -> Picture:
    install_fake(CUTOUT, monkeypatch)
    return Picture(pixels=(scene().image * 255 + 0.5).astype(np.uint8))


def test_a_prompted_background_goes_behind_the_subject(subject: Picture, faces: FakeFaces) -> None:
    alpha = extract(subject, model=CUTOUT).alpha
    result = replace_background(subject, prompt="a beach at sunset", seed=4, model=CUTOUT, harmonize=False)
    assert result.size == subject.size and result.alpha is None
    opaque, clear = alpha >= 1, alpha <= 0
    assert opaque.mean() > 0.1 and clear.mean() > 0.2
    assert np.array_equal(result.pixels[opaque], subject.pixels[opaque])  # the subject stays
    assert np.abs(result.pixels[clear].astype(int) - subject.pixels[clear]).mean() > 10  # a new background
    again = replace_background(subject, prompt="a beach at sunset", seed=4, model=CUTOUT, harmonize=False)
    assert np.array_equal(result.pixels, again.pixels)
    other = replace_background(subject, prompt="a beach at sunset", seed=5, model=CUTOUT, harmonize=False)
    assert not np.array_equal(result.pixels[clear], other.pixels[clear])
    assert result.metadata.operations == (
        f"replace background (model={CUTOUT}, prompt, diffusion={diffusion_tiny.NAME}, steps=2, seed=4)",
    )
    # harmonized (the default): the subject's colours move towards the new background's, the background does not
    matched = replace_background(subject, prompt="a beach at sunset", seed=4, model=CUTOUT)
    assert np.array_equal(matched.pixels[clear], result.pixels[clear])
    assert not np.array_equal(matched.pixels[opaque], subject.pixels[opaque])


def test_a_person_as_the_subject_makes_the_list_stricter(subject: Picture, faces: FakeFaces) -> None:
    replace_background(subject, prompt="a wet street", model=CUTOUT)  # no face: allowed
    faces.boxes.append((118.0, 95.0, 20.0, 20.0))  # a face in the middle of the disc
    with pytest.raises(PromptRefused, match="over a person"):
        replace_background(subject, prompt="a wet street", model=CUTOUT)
    with pytest.raises(InvalidInput, match="not both"):
        replace_background(subject, "white", prompt="a street", model=CUTOUT)


def test_the_replace_bg_cli_takes_a_prompt(subject: Picture, tmp_path: Path, faces: FakeFaces,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.png"
    save_image(subject, source, provenance=False)
    out = tmp_path / "beach.png"
    argv = ["replace-bg", str(source), "--model", CUTOUT, "--prompt", "a beach", "--seed", "4"]
    assert _run([*argv, "-o", str(out)]) == 0
    provenance = read_provenance(load_image(out).metadata.xmp)
    assert provenance is not None and provenance.digital_source_type == EDITED
    expected = replace_background(subject, prompt="a beach", seed=4, model=CUTOUT)
    assert np.array_equal(load_image(out).pixels, expected.pixels)
    capsys.readouterr()
    assert _run([*argv, "--with", "white", "-o", str(tmp_path / "x.png")]) == 2
    assert _run(["replace-bg", str(source), "-o", str(tmp_path / "x.png")]) == 2
    assert _run(["replace-bg", str(source), "--prompt", "a sexy beach", "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "retouch: error: give the new background: --with (a colour, an image file, blur, transparent) or --prompt",
        "retouch: error: give the new background: --with (a colour, an image file, blur, transparent) or --prompt",
        "retouch: error: this prompt is refused: Retouch does not make sexual content (matched 'sexy')",
    ]
    assert not (tmp_path / "x.png").exists()


# -- the HTTP API ---------------------------------------------------------------------------------------------------


def png(picture: Picture) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture.pixels).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_endpoints_take_a_prompt_and_answer_4xx_with_one_line(subject: Picture, faces: FakeFaces) -> None:
    from e2e.harness import api_client

    with api_client() as client:
        tools = {tool["name"]: tool for tool in client.get("/api/info").json()["tools"]}
        assert "prompt" in tools["replace-bg"]["fields"][0]["choices"]
        assert {"prompt", "model", "steps"} <= {field["name"] for field in tools["erase"]["fields"]}
        image = {"image": ("photo.png", png(photo()), "image/png")}
        filled = client.post("/api/erase", files=image, data={"boxes": "60,40,40,30", "prompt": "grass", "seed": "2"})
        assert filled.status_code == 200, filled.text
        box = np.zeros((120, 160), dtype=bool)
        box[40:70, 60:100] = True
        expected = erase(photo(), box, prompt="grass", seed=2)
        assert np.array_equal(load_image(filled.content).pixels, expected.pixels)
        plain = client.post("/api/erase", files=image, data={"boxes": "60,40,40,30", "prompt": " ", "engine": "patch"})
        assert plain.status_code == 200, plain.text  # an empty description: the usual erase
        for data, status, words in [
            ({"prompt": "nude"}, 400, "this prompt is refused: Retouch does not make nudity (matched 'nude')"),
            ({"prompt": "grass", "engine": "patch"}, 400, "the patch engine cannot take one"),
            ({"prompt": "grass", "steps": "51"}, 422, "steps"),
            ({"prompt": "x" * 1001}, 422, "prompt"),
        ]:
            bad = client.post("/api/erase", files=image, data={"boxes": "60,40,40,30", **data})
            assert bad.status_code == status, bad.text
            message = bad.json()["error"]["message"]
            assert words in message and "\n" not in message
        scene_file = {"image": ("scene.png", png(subject), "image/png")}
        made = client.post("/api/replace-bg", files=scene_file,
                           data={"background": "prompt", "prompt": "a beach", "seed": "4", "model": CUTOUT})
        assert made.status_code == 200, made.text
        expected = replace_background(subject, prompt="a beach", seed=4, model=CUTOUT)
        assert np.array_equal(load_image(made.content).pixels, expected.pixels)
        empty = client.post("/api/replace-bg", files=scene_file, data={"background": "prompt", "model": CUTOUT})
        assert empty.status_code == 400 and "needs 'prompt'" in empty.json()["error"]["message"]


def test_without_the_extra_the_endpoints_name_the_command(subject: Picture, monkeypatch: pytest.MonkeyPatch) -> None:
    from e2e.harness import api_client

    monkeypatch.setattr(backend, "extra_installed", lambda: False)
    line = "the generative tools need the optional diffusion backend; run: pip install 'retouch[gen]'"
    with api_client() as client:
        erased = client.post("/api/erase", files={"image": ("photo.png", png(photo()), "image/png")},
                             data={"boxes": "60,40,40,30", "prompt": "grass"})
        replaced = client.post("/api/replace-bg", files={"image": ("scene.png", png(subject), "image/png")},
                               data={"background": "prompt", "prompt": "a beach", "model": CUTOUT})
        plain = client.post("/api/erase", files={"image": ("photo.png", png(photo()), "image/png")},
                            data={"boxes": "60,40,40,30", "engine": "patch"})
    # the server's answer to any missing backend or weights (server/errors.py): 503, the one line naming the command
    for answer in (erased, replaced):
        assert answer.status_code == 503 and answer.json()["error"] == {"code": "backend_unavailable", "message": line}
    assert plain.status_code == 200  # erasing without a prompt needs no extra
