"""The network erase engine through every door, as a user gets it after `retouch models pull big-lama`.

LaMa with random weights, traced in the official TorchScript layout (as in test_erase_lama.py) and installed where
a pull puts it ($RETOUCH_HOME/models/big-lama/big-lama.pt, at the registry's size): `retouch erase --engine auto`,
`POST /api/erase` and the web app pick it by themselves, fill what was painted, record it in the provenance, and
leave every pixel outside the grown mask exactly as it was. On a photo larger than the network, the crop strategy
gives the network a full-resolution crop around the hole and the resize strategy the whole photo shrunk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from e2e.conftest import editor_page
from e2e.harness import api_client, live_server, upload, working_pixels
from e2e.photos import decode, encode, scene
from registry_sized import cache_path, pad_torchscript
from retouch import masks
from retouch.io import load_image, read_provenance, save_image
from retouch.tools import erase as erase_tool
from retouch.tools.erase import default_grow, erase
from retouch.tools.erase.hd import RESIZE_LIMIT
from retouch.types import Picture
from test_erase_lama import random_generator, write_torchscript

RETOUCH = str(Path(sys.executable).with_name("retouch"))
LAMA = "erase (engine=lama)"
PHOTO = scene(320, 240, radius=30)


@pytest.fixture(scope="module", autouse=True)
def lama_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh offline $RETOUCH_HOME holding big-lama.pt as a pull leaves it (random weights); every door in this
    module (the commands it runs inherit the environment) sees it."""
    home = tmp_path_factory.mktemp("retouch-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETOUCH_HOME", str(home))
        patch.setenv("RETOUCH_OFFLINE", "1")
        path, size = cache_path("big-lama")
        write_torchscript(path, random_generator(), "generator.")
        pad_torchscript(path, size)
        yield home


def outside(hole: np.ndarray, width: int, height: int) -> np.ndarray:
    """The pixels erase promises to leave alone: everything outside the mask grown by the default grow."""
    return ~masks.grow(hole, default_grow(width, height))


def assert_lama_erased(result: np.ndarray, original: np.ndarray, hole: np.ndarray) -> None:
    height, width = hole.shape
    keep = outside(hole, width, height)
    np.testing.assert_array_equal(result[keep], original[keep])
    expected = erase(Picture(original), hole, engine="lama").pixels  # the library, on the same weights
    # Another process may sum in another order: at most one level apart, and rarely.
    difference = np.abs(result.astype(int) - expected)
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01
    assert np.abs(result[hole].astype(int) - original[hole]).mean() > 20  # the dark disk was replaced


def test_the_command_with_engine_auto_uses_the_installed_network(tmp_path: Path) -> None:
    source, mask, out = tmp_path / "photo.png", tmp_path / "mask.png", tmp_path / "clean.png"
    source.write_bytes(encode(PHOTO.pixels, "PNG"))
    Image.fromarray(PHOTO.object_mask.astype(np.uint8) * 255).save(mask)

    done = subprocess.run(
        [RETOUCH, "erase", str(source), "--mask", str(mask), "--engine", "auto", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )

    assert done.returncode == 0, done.stderr
    result = load_image(out)
    assert_lama_erased(result.pixels, PHOTO.pixels, PHOTO.object_mask)
    provenance = read_provenance(result.metadata.xmp)
    assert provenance is not None and provenance.operations == (LAMA,)


def test_the_http_api_with_engine_auto_uses_the_installed_network() -> None:
    box = (150, 90, 70, 60)
    hole = masks.mask_from_boxes([box], (320, 240))
    with api_client() as client:
        erase_info = next(tool for tool in client.get("/api/info").json()["tools"] if tool["name"] == "erase")
        assert {"name": "lama", "available": True} in erase_info["engines"]
        doc = upload(client, encode(PHOTO.pixels, "PNG"), "scene.png")["id"]
        fields = {"document": doc, "boxes": ",".join(map(str, box)), "engine": "auto", "wait": "true"}
        response = client.post("/api/erase", data=fields)
        assert response.status_code == 200, response.text
        assert response.json()["result"]["document"]["operations"] == [LAMA]
        assert_lama_erased(working_pixels(client, doc), PHOTO.pixels, hole)
        download = client.get(f"/api/documents/{doc}/download")
        assert download.status_code == 200
        saved = load_image(download.content)
        np.testing.assert_array_equal(saved.pixels, working_pixels(client, doc))  # a PNG: lossless
        provenance = read_provenance(saved.metadata.xmp)
        assert provenance is not None and provenance.operations == (LAMA,)


@pytest.mark.slow
def test_the_web_app_erases_with_the_installed_network(browser: Any, tmp_path: Path) -> None:
    from e2e.test_editor import open_photo, painted_mask, sent_strokes, stroke_across, wait_idle

    source = tmp_path / "scene.png"
    source.write_bytes(encode(PHOTO.pixels, "PNG"))
    with live_server() as url, editor_page(browser, url) as page:
        assert page.locator("section.panel:visible [data-engine] option[value='lama']").is_enabled()
        open_photo(page, source)
        request = stroke_across(page, PHOTO, brush_px=40)
        strokes = sent_strokes(request)
        wait_idle(page, 1)
        doc = page.evaluate("document.body.dataset.document")
        info = httpx.get(f"{url}/api/documents/{doc}", timeout=60).json()
        preview = httpx.get(f"{url}/api/documents/{doc}/preview", params={"format": "png"}, timeout=60)
    assert re.search(rb'name="engine"\r\n\r\nauto\r\n', request.post_data_buffer)  # the page's default
    assert info["operations"] == [LAMA]
    painted = painted_mask(strokes, 320, 240)
    assert_lama_erased(decode(preview.content), PHOTO.pixels, painted)


class ShapeSpy:
    """Wraps the loaded engine and records the size of every image it is given."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.seen = engine, []
        self.name, self.max_side = engine.name, engine.max_side

    def __call__(self, image: np.ndarray, mask: np.ndarray, progress: Any = None) -> np.ndarray:
        self.seen.append(image.shape[:2])
        return self.engine(image, mask) if progress is None else self.engine(image, mask, progress=progress)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[ShapeSpy]:
    spies: list[ShapeSpy] = []
    load = erase_tool.load_engine

    def spied(*args: Any, **kwargs: Any) -> ShapeSpy:
        spies.append(ShapeSpy(load(*args, **kwargs)))
        return spies[-1]

    monkeypatch.setattr(erase_tool, "load_engine", spied)
    return spies


def high_frequency(pixels: np.ndarray, region: np.ndarray) -> float:
    """Mean absolute difference between horizontal neighbours inside ``region``: fine detail."""
    grey = pixels.astype(np.float32).mean(axis=2)
    both = region[:, 1:] & region[:, :-1]
    return float(np.abs(np.diff(grey, axis=1))[both].mean())


def test_a_photo_larger_than_the_network_by_crop_and_by_resize(spy: list[ShapeSpy]) -> None:
    """A 2100x300 panorama is wider than LaMa's 2048: crop works on a full-resolution crop around the hole, resize
    on the whole photo shrunk to 1280 wide; both fill the hole and leave everything else as it was."""
    big = scene(2100, 300, radius=40)
    picture = Picture(big.pixels)
    hole = big.object_mask
    keep = outside(hole, 2100, 300)

    cropped = erase(picture, hole, engine="auto", strategy="crop").pixels
    resized = erase(picture, hole, engine="auto", strategy="resize").pixels

    (crop_shape,), (resize_shape,) = spy[0].seen, spy[1].seen
    assert spy[0].name == spy[1].name == "lama"
    grown_width = masks.grow(hole, default_grow(2100, 300)).any(axis=0).sum()
    assert 2 * grown_width < crop_shape[1] < 2100 // 4  # a crop of the hole with context around it
    assert resize_shape == (round(300 * RESIZE_LIMIT / 2100), RESIZE_LIMIT)  # the whole photo, shrunk
    for result in (cropped, resized):
        np.testing.assert_array_equal(result[keep], big.pixels[keep])
        assert np.abs(result[hole].astype(int) - big.pixels[hole]).mean() > 20
    # The resize fill was made at 1280/2100 of the size and enlarged: its fine detail is weaker than the
    # full-resolution crop's.
    inner = masks.shrink(hole, 4)
    assert high_frequency(resized, inner) < 0.8 * high_frequency(cropped, inner)


def test_sixteen_bit_and_alpha_outside_the_grown_mask_are_kept_exactly(tmp_path: Path) -> None:
    """The README's promise with a network engine, through a file: 16-bit samples and alpha outside the grown mask
    are the file's own."""
    rng = np.random.default_rng(3)
    pixels = (rng.random((120, 160, 3)) * 65535).astype(np.uint16)
    alpha = np.full((120, 160), 65535, np.uint16)
    alpha[:, :20] = 1000
    source, out = tmp_path / "deep.png", tmp_path / "deep-clean.png"
    _write_rgba16(source, pixels, alpha)
    hole = masks.mask_from_boxes([(60, 40, 30, 30)], (160, 120))

    save_image(erase(load_image(source), hole, engine="auto"), out)

    result = load_image(out)
    keep = outside(hole, 160, 120)
    assert result.pixels.dtype == np.uint16 and result.alpha is not None
    np.testing.assert_array_equal(result.pixels[keep], pixels[keep])
    np.testing.assert_array_equal(result.alpha[keep], alpha[keep])
    assert np.abs(result.pixels[hole].astype(int) - pixels[hole]).mean() > 1000
    assert read_provenance(result.metadata.xmp).operations == (LAMA,)


def _write_rgba16(path: Path, pixels: np.ndarray, alpha: np.ndarray) -> None:
    import cv2

    assert cv2.imwrite(str(path), np.dstack([pixels[..., ::-1], alpha]))  # OpenCV writes BGRA
