"""Remove text: the real PP-OCRv6 detector and recogniser (shipped in the rapidocr wheel that setup installs) on
generated photos with text drawn in Pillow's built-in font, through the API and the `retouch` program."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from homes import private_home
from retouch.io import load_image, save_image
from retouch.tools.detext import detext, find_text
from retouch.types import Picture

RETOUCH = str(Path(sys.executable).with_name("retouch"))


def textured(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A photo-like background: gradients, blotches and grain (no flat areas, no edges a detector takes for text)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([110 + 50 * np.sin(x / 97), 120 + 40 * np.cos(y / 73), 100 + 30 * np.sin((x + y) / 131)], 2)
    blotches = np.asarray(Image.fromarray(rng.integers(0, 255, (height // 16, width // 16, 3), np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC), np.float32)
    return np.clip(base + 0.25 * (blotches - 128) + rng.normal(0, 4, (height, width, 3)), 0, 255).astype(np.uint8)


def draw_lines(pixels: np.ndarray, lines: list[tuple[str, tuple[int, int], int, tuple[int, int, int]]]) -> list:
    """Draw each (text, (x, y), size, colour) with a dark or light outline; returns each line's pixels (bool)."""
    image = Image.fromarray(pixels)
    drawn = []
    for text, origin, size, colour in lines:
        font = ImageFont.load_default(size=size)
        outline = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
        stroke = max(1, size // 18)
        ink = Image.new("L", image.size, 0)
        ImageDraw.Draw(ink).text(origin, text, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
        ImageDraw.Draw(image).text(origin, text, font=font, fill=colour, stroke_width=stroke, stroke_fill=outline)
        drawn.append(np.asarray(ink) > 0)
    return np.asarray(image), drawn


LINES = [
    ("Summer sale 2026", (40, 40), 40, (255, 230, 40)),
    ("small print: terms apply", (60, 150), 14, (250, 250, 250)),
    ("RETOUCH", (300, 260), 72, (220, 30, 30)),
    ("keep this caption", (40, 420), 22, (255, 255, 255)),
]


@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    clean = textured(800, 520)
    with_text, drawn = draw_lines(clean, LINES)
    return clean, with_text, drawn


def test_every_line_is_found_and_its_letters_are_covered(scene) -> None:
    _, with_text, drawn = scene
    found = find_text(Picture(with_text))
    for ink, (text, *_rest) in zip(drawn, LINES, strict=True):
        covered = (found.mask & ink).sum() / ink.sum()
        assert covered > 0.99, (text, covered)
    anywhere_near = np.zeros_like(found.mask)
    for ink in drawn:
        ys, xs = np.nonzero(ink)
        anywhere_near[max(0, ys.min() - 20) : ys.max() + 20, max(0, xs.min() - 20) : xs.max() + 20] = True
    stray = (found.mask & ~anywhere_near).sum() / found.mask.sum()
    assert stray < 0.02, stray  # the mask stays on the text
    assert len(found.erased) == len(LINES) and not found.kept


def test_the_text_is_gone_and_nothing_else_changed(scene) -> None:
    clean, with_text, drawn = scene
    found = find_text(Picture(with_text))
    result = detext(Picture(with_text))
    assert result.metadata.operations[-1].startswith("detext (engine=")
    assert np.array_equal(result.pixels[~found.mask], with_text[~found.mask])  # untouched outside the mask
    again = find_text(result)
    assert not again.erased, [line.box for line in again.erased]  # the detector sees no text left
    ink = np.logical_or.reduce(drawn)
    before = np.abs(with_text[ink].astype(int) - clean[ink]).mean()
    after = np.abs(result.pixels[ink].astype(int) - clean[ink]).mean()
    assert after < before / 3, (before, after)  # the letters' pixels are back near the background


def test_keep_spares_the_lines_whose_text_matches(scene) -> None:
    _, with_text, drawn = scene
    found = find_text(Picture(with_text), keep=r"(?i)caption")
    assert [line.text for line in found.kept] == ["keep this caption"]
    assert not (found.mask & drawn[3]).any()
    assert (found.mask & drawn[2]).sum() > 0.99 * drawn[2].sum()


def test_boxes_limit_the_search(scene) -> None:
    _, with_text, drawn = scene
    found = find_text(Picture(with_text), boxes=[(280, 240, 420, 120)])
    assert len(found.erased) == 1
    assert (found.mask & drawn[2]).sum() > 0.99 * drawn[2].sum()
    assert not (found.mask & drawn[0]).any()


def test_text_on_a_flat_background_comes_back_as_that_background_exactly() -> None:
    flat = np.full((300, 900, 3), (244, 246, 248), np.uint8)
    with_text, drawn = draw_lines(flat, [("Settings  Profile  Export", (30, 30), 24, (30, 30, 30))] * 1)
    with_text, more = draw_lines(with_text, [("window editor layer photo", (30, 120), 18, (60, 60, 60))])
    result = detext(Picture(with_text))
    assert result.metadata.operations == ("detext (engine=smooth)",)
    error = np.abs(result.pixels.astype(int) - flat)
    assert error.max() <= 4 and error.mean() < 0.2  # Telea's interpolation: invisible (measured 4 / 0.03)


def test_a_16_bit_picture_keeps_its_depth(scene) -> None:
    _, with_text, _ = scene
    deep = Picture(with_text.astype(np.uint16) * 257)
    result = detext(deep)
    assert result.pixels.dtype == np.uint16
    assert not find_text(result).erased


def test_a_photo_without_text_comes_back_unchanged() -> None:
    clean = Picture(textured(400, 300, seed=3))
    result = detext(clean)
    assert result is clean


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RETOUCH, *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_command_erases_writes_the_mask_and_reports_the_lines(scene, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(private_home(tmp_path / "home")))  # no timings: no estimate line
    _, with_text, drawn = scene
    source = save_image(Picture(with_text), tmp_path / "poster.png")
    done = run("detext", str(source), "-o", str(tmp_path / "clean.png"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "4 lines of text found\n"
    assert b"compositeWithTrainedAlgorithmicMedia" in (tmp_path / "clean.png").read_bytes()  # marked as AI-edited
    assert not find_text(load_image(tmp_path / "clean.png")).erased

    masked = run("--json", "detext", str(source), "--mask-only", "--keep", "caption", "-o", str(tmp_path / "m.png"))
    assert masked.returncode == 0, masked.stderr
    report = json.loads(masked.stdout)
    assert [line["text"] for line in report["kept"]] == ["keep this caption"]
    assert len(report["erased"]) == 3
    mask = load_image(tmp_path / "m.png").pixels[:, :, 0] > 127
    assert (mask & drawn[2]).sum() > 0.99 * drawn[2].sum() and not (mask & drawn[3]).any()

    erased_with_mask = run("erase", str(source), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "e.png"))
    assert erased_with_mask.returncode == 0, erased_with_mask.stderr  # the mask feeds `retouch erase`


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--keep", "("], "keep is not a valid regular expression"),
        (["--grow", "9999"], "--grow must be between 0 and 500"),
        (["--engine", "nope"], "unknown engine 'nope'"),
        (["--box", "1,1,0,5"], "invalid box"),
        (["--box", "5000,5000,10,10"], "lies entirely outside"),
        (["--device", "tpu"], "unknown device 'tpu'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(scene, tmp_path, options, message) -> None:
    _, with_text, _ = scene
    source = save_image(Picture(with_text), tmp_path / "poster.png")
    done = run("detext", str(source), *options, "-o", str(tmp_path / "out.png"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("retouch: error:") and message in done.stderr
    assert not (tmp_path / "out.png").exists()


def test_the_http_api_removes_text_and_refuses_bad_options_as_json(scene) -> None:
    from e2e.harness import api_client, assert_error
    from e2e.photos import encode

    _, with_text, drawn = scene
    photo = encode(with_text, "PNG")
    with api_client() as client:
        answer = client.post("/api/detext", files={"image": ("p.png", photo, "image/png")}, data={"keep": "caption"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        result = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB"))
        assert np.array_equal(result[drawn[3]], with_text[drawn[3]])  # the kept caption is untouched
        assert (np.abs(result.astype(int) - with_text)[drawn[2]].max(axis=1) > 40).mean() > 0.5  # RETOUCH erased
        bad = client.post("/api/detext", files={"image": ("p.png", photo, "image/png")}, data={"keep": "("})
        assert "keep is not a valid regular expression" in assert_error(bad, 400, "invalid_input")
        too_much = client.post("/api/detext", files={"image": ("p.png", photo)}, data={"grow": "9999"})
        assert_error(too_much, 422, "invalid_request")


def marked_folder(count: int, opacity: float = 0.5) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """``count`` different photos, the same semi-transparent white mark (a ring and a word) on each: the clean
    photos, the marked ones and the mark's alpha."""
    shape = Image.new("L", (360, 240), 0)
    pen = ImageDraw.Draw(shape)
    pen.ellipse((60, 80, 120, 140), fill=255)
    pen.ellipse((74, 94, 106, 126), fill=0)
    pen.text((130, 88), "STOCK", font=ImageFont.load_default(size=44), fill=255)
    alpha = np.asarray(shape, np.float32)[:, :, None] / 255 * opacity
    clean = [textured(360, 240, seed) for seed in range(count)]
    marked = [np.rint(c * (1 - alpha) + 255 * alpha).astype(np.uint8) for c in clean]
    return clean, marked, alpha[:, :, 0]


def masked_psnr(result: np.ndarray, clean: np.ndarray, where: np.ndarray) -> float:
    error = ((result.astype(np.float64) - clean)[where] ** 2).mean()
    return float(10 * np.log10(255**2 / error))


def test_a_watermark_shared_by_a_folder_is_taken_off_by_inverting_its_blend() -> None:
    import cv2

    from retouch.tools.detext.watermark import estimate_watermark, remove_shared_watermark
    from retouch.tools.erase import erase

    clean, marked, alpha = marked_folder(12)
    under = alpha > 0.02
    estimated = estimate_watermark(marked).alpha
    found = estimated > 0
    assert found[cv2.erode(under.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0].mean() > 0.95  # the whole mark
    away = ~cv2.dilate(under.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert estimated[away].max() < 0.1  # and next to nothing elsewhere (the ring's hole: noise up to 0.06)
    results = remove_shared_watermark([Picture(m) for m in marked])
    for result, with_mark in zip(results, marked, strict=True):
        assert result.metadata.operations == ("detext (watermark)",)
        assert np.array_equal(result.pixels[~found], with_mark[~found])  # nothing outside the mark changes
    recovered = np.mean([masked_psnr(r.pixels, c, under) for r, c in zip(results, clean, strict=True)])
    erased = np.mean([masked_psnr(erase(Picture(m), under, grow=0).pixels, c, under) for m, c in zip(marked, clean)])
    kept = np.mean([masked_psnr(m, c, under) for m, c in zip(marked, clean, strict=True)])
    assert recovered > erased + 4 and recovered > kept + 12, (kept, erased, recovered)  # measured 12.7 / 29.2 / 38.5


def test_the_command_cleans_a_folder_and_refuses_what_it_cannot_do(tmp_path) -> None:
    _, marked, alpha = marked_folder(9)
    folder = tmp_path / "stock"
    folder.mkdir()
    for index, pixels in enumerate(marked):
        save_image(Picture(pixels), folder / f"photo{index}.png")
    (folder / "notes.txt").write_text("not a photo")
    done = run("detext", "--watermark", str(folder), "-o", str(tmp_path / "clean"))
    assert done.returncode == 0, done.stderr
    written = sorted(path.name for path in (tmp_path / "clean").iterdir())
    assert written == [f"photo{index}.png" for index in range(9)]
    before = np.abs(marked[0].astype(int) - textured(360, 240, 0))[alpha > 0.02].mean()
    after = np.abs(load_image(tmp_path / "clean" / "photo0.png").pixels.astype(int) - textured(360, 240, 0))
    assert after[alpha > 0.02].mean() < before / 3

    again = run("detext", "--watermark", str(folder), "-o", str(tmp_path / "clean"))
    assert again.returncode == 2 and "already exists" in again.stderr  # nothing overwritten unasked
    for extra in (["--keep", "x"], []):
        refused = run("detext", "--watermark", str(folder), *extra)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    few = tmp_path / "few"
    few.mkdir()
    for index in range(3):
        save_image(Picture(marked[index]), few / f"p{index}.png")
    too_few = run("detext", "--watermark", str(few), "-o", str(tmp_path / "out"))
    assert too_few.returncode == 2 and "at least 8 photos" in too_few.stderr


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core, which Chromium pulls


@pytest.mark.parametrize(("origin", "colour"), [((480, 175), (30, 40, 40)), ((300, 230), (20, 60, 70))])
def test_small_text_on_brickwork_is_found_and_masked_tightly(origin, colour) -> None:
    """10 px lettering over the brick wall of Kodak's kodim01: the first pass runs it together with the mortar
    into a region the recogniser cannot read; the second look finds the line itself."""
    from shared_data import KODAK, unavailable

    if not (KODAK / "kodim01.png").is_file():
        unavailable(f"needs {KODAK / 'kodim01.png'}")
    if not DEJAVU.is_file():
        pytest.skip(f"needs the font {DEJAVU} (apt-get install fonts-dejavu-core)")
    image = Image.open(KODAK / "kodim01.png").convert("RGB")
    font = ImageFont.truetype(str(DEJAVU), 10)
    ImageDraw.Draw(image).text(origin, "offer www copyright", font=font, fill=colour)
    ink = Image.new("L", image.size, 0)
    ImageDraw.Draw(ink).text(origin, "offer www copyright", font=font, fill=255)
    ink = np.asarray(ink) > 24
    found = find_text(Picture(np.asarray(image)))
    assert (found.mask & ink).sum() / ink.sum() > 0.95
    ys, xs = np.nonzero(ink)
    lines = [line for line in found.erased if "www" in (line.text or "")]
    assert len(lines) == 1
    x, y, w, h = lines[0].box  # the line itself, not the brickwork around it
    assert xs.min() - 24 <= x and x + w <= xs.max() + 24 and ys.min() - 12 <= y and y + h <= ys.max() + 12


def test_a_line_read_on_a_busy_background_ends_where_its_letters_end() -> None:
    """The recogniser's span: read on a box twice the line's length, the letters it reads bound the line."""
    from retouch.tools.detext import detect
    from retouch.tools.detext.recognize import Reader

    pixels, (ink,) = draw_lines(textured(700, 120, seed=3), [("Summer sale", (30, 40), 36, (255, 240, 60))])
    ys, xs = np.nonzero(ink)
    top, bottom, left, right = ys.min() - 6, ys.max() + 6, xs.min() - 6, xs.max() + 6
    long_box = (int(left), int(top), int(2 * (right - left)), int(bottom - top))  # runs on over the texture
    rect = ((left + long_box[2] / 2, (top + bottom) / 2), (float(long_box[2]), float(bottom - top)), 0.0)
    reading = Reader().read(pixels, rect)
    span = reading.span
    assert "sale" in reading.text.lower() and reading.confidence > 0.8
    assert reading.open_ends == (True, False)  # the letters start at the box's left end, stop well before its right
    height = bottom - top
    assert span[:, 0].min() <= xs.min() and xs.max() <= span[:, 0].max() <= xs.max() + 1.5 * height
    region = detect.TextRegion(long_box, np.ones((long_box[3], long_box[2]), bool), height, 0.9, rect)
    cut = detect.clipped(region, span)
    assert cut.box[0] + cut.box[2] <= xs.max() + 1.5 * height + 1
    assert cut.mask.sum() < 0.75 * region.mask.sum()


def test_a_whole_picture_responding_under_raised_contrast_is_not_one_line_of_text(monkeypatch) -> None:
    """The watermark pass sees the photo with its local contrast raised; on some busy pictures the detector then
    responds almost everywhere (seen on a cleaned Kodak photo: one region 696 px "high" over the 768x512 frame,
    which, taken for text on a plain background, erased the whole photo). Such a region is no line of text."""
    from retouch.tools.detext import detect

    photo = textured(768, 512, seed=5)
    real = detect._shrunk_pass

    def shrunk_pass(session, pixels, side):  # the watermark pass (the only one on contrast-raised pixels) fires
        if side == detect.WATERMARK_SIDE:
            return np.full(pixels.shape[:2], 0.9, np.float32)
        return real(session, pixels, side)

    monkeypatch.setattr(detect, "_shrunk_pass", shrunk_pass)
    regions = detect.find_regions(photo, detect.detector_session(), lambda done, total: None)
    whole = [r.box for r in regions if r.box[2] >= 0.9 * 768 and r.box[3] >= 0.9 * 512]
    assert not whole
