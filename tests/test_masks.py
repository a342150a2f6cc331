"""Masks: reading every file mode (through retouch.io, under its pixel limit), brush strokes, boxes, union, grow/shrink/feather, connected regions and merged crop boxes."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retouch import masks
from retouch.errors import CorruptImage, InvalidInput, RetouchError, TooLarge, UnsupportedFormat
from retouch.io import load_image
from retouch.types import Picture

# The pattern every mode test encodes: True = change. 6 wide, 4 high.
PATTERN = np.array(
    [
        [0, 0, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 0],
        [1, 1, 0, 0, 1, 1],
        [0, 0, 0, 1, 0, 0],
    ],
    dtype=bool,
)
SIZE = (PATTERN.shape[1], PATTERN.shape[0])


def png_bytes(img: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **params)
    return buf.getvalue()


def palette(*colours: tuple[int, int, int]) -> list[int]:
    flat = [c for rgb in colours for c in rgb]
    return flat + [0] * (768 - len(flat))


def by_mode(mode: str) -> Image.Image:
    """An image of ``mode`` whose rule (alpha or luminance) selects exactly PATTERN."""
    p = PATTERN
    if mode == "1":
        return Image.fromarray(p)
    if mode == "L":
        # 127 is not selected, 128 is: the threshold is "> 127".
        odd = np.arange(6) % 2 == 1
        return Image.fromarray(np.where(p, np.where(odd, 128, 255), np.where(odd, 127, 0)).astype(np.uint8))
    if mode == "P":
        img = Image.fromarray(np.where(p, 1, 2).astype(np.uint8), "P")
        img.putpalette(palette((0, 0, 0), (255, 255, 255), (200, 0, 0)))  # white selects, dark red (luma 60) not
        return img
    if mode == "P-transparency":
        # A painted layer: dark red strokes on a transparent WHITE background. Alpha decides, not luminance.
        img = Image.fromarray(np.where(p, 1, 0).astype(np.uint8), "P")
        img.putpalette(palette((255, 255, 255), (200, 0, 0)))
        img.info["transparency"] = 0
        return img
    if mode == "RGB":
        # Pure green (luma 150) selects, pure red (luma 76) does not.
        return Image.fromarray(np.where(p[..., None], [0, 255, 0], [255, 0, 0]).astype(np.uint8))
    if mode == "RGBA":
        # Black opaque strokes on transparent white: luminance alone would select the opposite.
        rgb = np.where(p[..., None], 0, 255)
        alpha = np.where(p, 255, 0)[..., None]
        return Image.fromarray(np.concatenate([rgb, rgb, rgb, alpha], axis=2).astype(np.uint8), "RGBA")
    if mode == "RGBA-opaque":
        rgb = np.where(p[..., None], 230, 20)
        return Image.fromarray(np.concatenate([rgb, rgb, rgb, np.full_like(rgb, 255)], axis=2).astype(np.uint8), "RGBA")
    if mode == "LA":
        grey = np.where(p, 0, 255)
        return Image.fromarray(np.stack([grey, np.where(p, 200, 10)], axis=2).astype(np.uint8), "LA")
    if mode == "I;16":
        # 32767 is not selected, 32768 is: half of full scale.
        odd = np.arange(6) % 2 == 1
        return Image.fromarray(np.where(p, np.where(odd, 32768, 65535), np.where(odd, 32767, 0)).astype(np.uint16))
    raise AssertionError(mode)


MODES = ["1", "L", "P", "P-transparency", "RGB", "RGBA", "RGBA-opaque", "LA", "I;16"]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_selects_the_painted_pixels_from_file_and_bytes(mode: str, tmp_path: Path) -> None:
    data = png_bytes(by_mode(mode))
    path = tmp_path / "mask.png"
    path.write_bytes(data)
    expected_mode = {"P-transparency": "P", "RGBA-opaque": "RGBA"}.get(mode, mode)
    assert Image.open(path).mode == expected_mode  # the file really is in that mode
    for source in (path, str(path), data):
        got = masks.load_mask(source, SIZE)
        assert got.dtype == np.bool_ and got.shape == PATTERN.shape
        np.testing.assert_array_equal(got, PATTERN)


def test_other_containers(tmp_path: Path) -> None:
    bmp = tmp_path / "mask.bmp"
    by_mode("1").save(bmp)
    np.testing.assert_array_equal(masks.load_mask(bmp, SIZE), PATTERN)
    tiff = tmp_path / "mask.tif"
    Image.fromarray(np.where(PATTERN, 65535, 0).astype(np.uint16)).save(tiff)
    np.testing.assert_array_equal(masks.load_mask(tiff, SIZE), PATTERN)


def test_float_masks_are_refused_as_float_photos_are(tmp_path: Path) -> None:
    tiff = tmp_path / "soft.tif"
    Image.fromarray(np.where(PATTERN, 0.75, 0.25).astype(np.float32)).save(tiff)
    with pytest.raises(UnsupportedFormat, match="mask"):
        masks.load_mask(tiff, SIZE)


def test_sixteen_bit_rgb_uses_luminance_at_half_scale() -> None:
    grey = np.where(PATTERN, 32768, 32767).astype(np.uint16)
    picture = Picture(pixels=np.repeat(grey[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(masks.mask_from_picture(picture, SIZE), PATTERN)


def test_luminance_matches_pillow_on_every_colour_of_a_random_image() -> None:
    rgb = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L")) > 127
    np.testing.assert_array_equal(masks.mask_from_picture(Picture(pixels=rgb), (64, 64)), expected)


def test_a_mask_over_the_pixel_limit_is_refused_like_a_photo(monkeypatch: pytest.MonkeyPatch) -> None:
    data = png_bytes(by_mode("L"))  # 24 pixels
    monkeypatch.setenv("RETOUCH_MAX_PIXELS", "20")
    with pytest.raises(TooLarge) as photo:
        load_image(data)
    with pytest.raises(TooLarge, match="mask") as mask:
        masks.load_mask(data, SIZE)
    assert type(mask.value) is type(photo.value)
    with pytest.raises(TooLarge):
        masks.load_mask(data, SIZE, max_pixels=23)
    np.testing.assert_array_equal(masks.load_mask(data, SIZE, max_pixels=24), PATTERN)


def test_fully_opaque_palette_transparency_falls_back_to_luminance() -> None:
    img = by_mode("P")
    img.info["transparency"] = 0  # index 0 is never used, so everything is opaque
    np.testing.assert_array_equal(masks.load_mask(png_bytes(img), SIZE), PATTERN)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to display
    data = png_bytes(by_mode("L"), exif=exif)
    displayed = np.rot90(PATTERN, k=-1)
    got = masks.load_mask(data, (displayed.shape[1], displayed.shape[0]))
    np.testing.assert_array_equal(got, displayed)


def test_size_mismatch_names_both_sizes_and_the_fix() -> None:
    with pytest.raises(InvalidInput) as err:
        masks.load_mask(png_bytes(by_mode("L")), (12, 8))
    message = str(err.value)
    assert "6x4" in message and "12x8" in message and "--resize-mask" in message


@pytest.mark.parametrize("img", [by_mode("1"), Image.fromarray(PATTERN.astype(np.uint8) * np.uint8(255))])
def test_resize_two_level_mask_uses_nearest(img: Image.Image) -> None:
    got = masks.load_mask(png_bytes(img), (18, 12), resize=True)
    np.testing.assert_array_equal(got, np.kron(PATTERN, np.ones((3, 3), dtype=bool)))


def test_resize_soft_mask_interpolates_then_thresholds() -> None:
    # A horizontal ramp 0..255 (256 wide): after scaling to 64 wide, the left half is off and the right half on.
    ramp = np.tile(np.arange(256, dtype=np.uint8), (8, 1))
    got = masks.load_mask(png_bytes(Image.fromarray(ramp)), (64, 4), resize=True)
    assert got.shape == (4, 64)
    assert not got[:, :32].any() and got[:, 32:].all()
    # Interpolation, not sampling: a soft one-pixel dot too faint on its own vanishes, a strong blob stays.
    soft = np.zeros((40, 40), np.uint8)
    soft[10:30, 10:30] = 220
    soft[2, 2] = 140
    got = masks.load_mask(png_bytes(Image.fromarray(soft)), (20, 20), resize=True)
    assert not got[:3, :3].any()
    assert got[6:14, 6:14].all() and got.sum() == pytest.approx(100, abs=12)


def test_bad_mask_files_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormat, match="not an image"):
        masks.load_mask(b"this is not an image at all", SIZE)
    truncated = png_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)))
    with pytest.raises(CorruptImage, match="mask"):
        masks.load_mask(truncated[: len(truncated) // 2], (64, 64))
    with pytest.raises(InvalidInput, match="mask file.*no such file"):
        masks.load_mask(tmp_path / "missing.png", SIZE)
    with pytest.raises(RetouchError):
        masks.load_mask(tmp_path, SIZE)
    with pytest.raises(InvalidInput, match="size"):
        masks.load_mask(png_bytes(by_mode("L")), (0, 4))


# --- brush strokes -----------------------------------------------------------------------------------------------


def test_strokes_paint_dots_and_lines_and_erase_clears() -> None:
    dot = masks.mask_from_strokes([masks.Stroke([(10.5, 10.5)], 3)], (21, 21))
    assert dot.dtype == np.bool_ and dot.shape == (21, 21)
    assert dot[10, 10] and dot[10, 12] and not dot[10, 15] and not dot[0, 0]
    np.testing.assert_array_equal(dot, dot[::-1, ::-1])  # a disk around the centre of pixel (10, 10)
    assert dot[7:14, 7:14].sum() == dot.sum() > math.pi * 9 * 0.9  # inside the disk's 7x7 box, most of it

    line = [masks.Stroke([(2.5, 10.5), (18.5, 10.5)], 2)]
    painted = masks.mask_from_strokes(line, (21, 21))
    assert painted[10, 2:19].all() and not painted[3, :].any()
    erased = masks.mask_from_strokes([*line, masks.Stroke([(10.5, 10.5)], 4, "erase")], (21, 21))
    assert not erased[10, 8:13].any() and erased[10, 2:5].all()
    assert not (erased & ~painted).any()


def test_strokes_on_a_smaller_canvas_are_scaled_to_the_image() -> None:
    on_canvas = masks.mask_from_strokes([masks.Stroke([(5.25, 5.25), (8.0, 6.0)], 1.5)], (40, 40), canvas=(20, 20))
    at_size = masks.mask_from_strokes([masks.Stroke([(10.5, 10.5), (16.0, 12.0)], 3.0)], (40, 40))
    np.testing.assert_array_equal(on_canvas, at_size)


@pytest.mark.parametrize(
    ("stroke", "canvas", "message"),
    [
        (masks.Stroke([(1, 1)], 0), None, "radius"),
        (masks.Stroke([(1, 1)], float("nan")), None, "radius"),
        (masks.Stroke([], 2), None, "point"),
        (masks.Stroke([(1, 1)], 2, "smudge"), None, "mode"),  # type: ignore[arg-type]
        (masks.Stroke([(1, 1)], 2), (0, 5), "size"),
    ],
)
def test_bad_strokes_raise_invalid_input(stroke: masks.Stroke, canvas: tuple[int, int] | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        masks.mask_from_strokes([stroke], (8, 8), canvas=canvas)


# --- boxes -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "box"),
    [("10,20,30,40", (10, 20, 30, 40)), (" 1, 2 ,3 ,4 ", (1, 2, 3, 4)), ("-5,-6,10,10", (-5, -6, 10, 10))],
)
def test_parse_box(text: str, box: tuple[int, int, int, int]) -> None:
    assert masks.parse_box(text) == box


@pytest.mark.parametrize("text", ["", "1,2,3", "1,2,3,4,5", "a,b,c,d", "1,2,0,4", "1,2,3,-4", "1.5,2,3,4", "1 2 3 4"])
def test_parse_box_rejects_bad_text_with_the_expected_form(text: str) -> None:
    with pytest.raises(InvalidInput, match="x,y,w,h"):
        masks.parse_box(text)


def test_mask_from_boxes_clips_and_rejects_boxes_outside() -> None:
    got = masks.mask_from_boxes([(1, 1, 2, 2), (-3, 3, 5, 10)], (8, 5))
    expected = np.zeros((5, 8), dtype=bool)
    expected[1:3, 1:3] = True
    expected[3:5, 0:2] = True
    np.testing.assert_array_equal(got, expected)
    assert masks.is_empty(masks.mask_from_boxes([], (8, 5)))
    for outside in [(8, 0, 3, 3), (0, -3, 4, 3), (-10, -10, 5, 5)]:
        with pytest.raises(InvalidInput, match="outside the 8x5 image"):
            masks.mask_from_boxes([(1, 1, 2, 2), outside], (8, 5))
    with pytest.raises(InvalidInput, match="no area"):
        masks.mask_from_boxes([(1, 1, 0, 2)], (8, 5))


def test_combine_is_the_union_of_one_shape() -> None:
    a = np.zeros((4, 5), bool)
    a[0, 0] = True
    b = np.zeros((4, 5), bool)
    b[3, 4] = True
    got = masks.combine(iter([a, b]))
    assert got.sum() == 2 and got[0, 0] and got[3, 4]
    assert got is not a and a.sum() == 1  # inputs are not modified
    with pytest.raises(InvalidInput, match="5x4 and 4x5"):
        masks.combine([a, b.T])
    with pytest.raises(InvalidInput, match="no mask"):
        masks.combine([])


def test_is_empty() -> None:
    m = np.zeros((3, 3), bool)
    assert masks.is_empty(m)
    m[1, 2] = True
    assert not masks.is_empty(m)


# --- morphology --------------------------------------------------------------------------------------------------


def disk(shape: tuple[int, int], cy: int, cx: int, r: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


@pytest.mark.parametrize("r", [1, 3, 10, 40])
def test_grow_a_pixel_gives_a_round_disk(r: int) -> None:
    m = np.zeros((101, 121), bool)
    m[50, 60] = True
    got = masks.grow(m, r)
    np.testing.assert_array_equal(got, disk(m.shape, 50, 60, r))
    assert got.sum() == pytest.approx(math.pi * r * r, rel=0.1, abs=4)


def test_grow_and_shrink_match_the_euclidean_definition_on_random_shapes() -> None:
    from scipy import ndimage

    rng = np.random.default_rng(1)
    m = (rng.random((90, 110)) > 0.97) | disk((90, 110), 70, 100, 14)  # specks and a disk cut by the frame
    for r in (2, 7):
        np.testing.assert_array_equal(masks.grow(m, r), ndimage.distance_transform_edt(~m) <= r)
        # Shrinking is growing the outside; the frame is not outside, so shapes touching it stay touching.
        np.testing.assert_array_equal(masks.shrink(m, r), ~masks.grow(~m, r))


def test_shrink_undoes_grow_on_a_big_square() -> None:
    m = np.zeros((200, 220), bool)
    m[50:150, 60:160] = True
    for r in (5, 25):
        grown = masks.grow(m, r)
        assert grown[50 - r : 150 + r, 90].all() and not grown[50 - r - 1, 90]
        assert not grown[50 - r, 60 - r]  # rounded corners: a disk, not a square
        np.testing.assert_array_equal(masks.shrink(grown, r), m)
        inset = np.zeros_like(m)
        inset[50 + r : 150 - r, 60 + r : 160 - r] = True
        np.testing.assert_array_equal(masks.shrink(m, r), inset)


def test_grow_shrink_edge_cases() -> None:
    m = np.zeros((10, 10), bool)
    m[4:6, 4:6] = True
    for op in (masks.grow, masks.shrink):
        same = op(m, 0)
        np.testing.assert_array_equal(same, m)
        assert same is not m
        np.testing.assert_array_equal(op(np.zeros((5, 5), bool), 3), np.zeros((5, 5), bool))
        with pytest.raises(InvalidInput, match=">= 0"):
            op(m, -1)
        with pytest.raises(InvalidInput, match="whole number"):
            op(m, 1.5)  # type: ignore[arg-type]
    assert masks.shrink(np.ones((6, 7), bool), 3).all()  # nothing outside the mask: nothing to erode from
    assert masks.grow(m, 100).all()
    edge = np.zeros((30, 40), bool)
    edge[:, :15] = True  # touches the left, top and bottom of the frame: only the right side erodes
    np.testing.assert_array_equal(masks.shrink(edge, 5), np.broadcast_to(np.arange(40) < 10, edge.shape))
    with pytest.raises(InvalidInput, match="2-D"):
        masks.grow(np.zeros((3, 3, 3), bool), 1)


def test_feather_ramps_inside_the_mask_only() -> None:
    shape = (120, 140)
    m = disk(shape, 60, 70, 40)
    w = masks.feather(m, 12)
    assert w.dtype == np.float32 and w.shape == shape
    assert np.all(w[~m] == 0.0)  # outside the mask: exactly zero, pasting leaves those pixels bit-identical
    assert np.all((w >= 0.0) & (w <= 1.0))
    from scipy import ndimage

    depth = ndimage.distance_transform_edt(m)
    assert np.all(w[depth >= 12.5] == 1.0)  # deep inside: exactly one
    ramp = (depth > 0) & (depth < 12.5)
    assert np.all((w[ramp] > 0.0) & (w[ramp] < 1.0))
    assert w[m & (depth == 1)].max() < 0.02  # the edge pixels of the mask are nearly off
    profile = w[60, 70:]  # centre to the right edge and beyond
    assert np.all(np.diff(profile) <= 0) and profile[0] == 1.0 and profile[-1] == 0.0
    # Weight is a smooth function of depth only: same depth, same weight.
    order = np.argsort(depth[m])
    assert np.all(np.diff(w[m][order]) >= 0)


def test_feather_keeps_full_weight_at_the_frame_and_handles_edge_cases() -> None:
    m = np.zeros((30, 40), bool)
    m[:, :15] = True  # touches the left, top and bottom edges of the frame
    w = masks.feather(m, 5)
    assert np.all(w[:, :10] == 1.0) and np.all(w[:, 15:] == 0.0)
    assert np.all(np.diff(w[10, 9:16]) < 0)
    np.testing.assert_array_equal(masks.feather(m, 0), m.astype(np.float32))
    np.testing.assert_array_equal(masks.feather(np.zeros((4, 4), bool), 3), np.zeros((4, 4), np.float32))
    np.testing.assert_array_equal(masks.feather(np.ones((4, 4), bool), 3), np.ones((4, 4), np.float32))
    with pytest.raises(InvalidInput, match=">= 0"):
        masks.feather(m, -2)


# --- regions -----------------------------------------------------------------------------------------------------


def test_regions_use_8_connectivity_with_boxes_areas_and_submasks() -> None:
    m = np.zeros((30, 40), bool)
    m[2:7, 3:8] = True  # square, 25 px
    for i in range(5):
        m[10 + i, 20 + i] = True  # diagonal: one region with 8-connectivity, 5 px
    m[25, 35] = True  # single pixel
    labels, found = masks.label_regions(m)
    assert [(r.box, r.area) for r in found] == [((3, 2, 5, 5), 25), ((20, 10, 5, 5), 5), ((35, 25, 1, 1), 1)]
    diagonal = found[1].submask(labels)
    np.testing.assert_array_equal(diagonal, np.eye(5, dtype=bool))
    np.testing.assert_array_equal(m[found[1].slices], diagonal)
    assert [r.area for r in masks.regions(m, min_area=5)] == [25, 5]
    assert masks.regions(np.zeros((5, 5), bool)) == []
    with pytest.raises(AttributeError):
        found[0].x = 1  # type: ignore[misc]
    with pytest.raises(InvalidInput):
        masks.regions(m, min_area=0)


def test_region_boxes_merge_overlaps_and_clip() -> None:
    m = np.zeros((100, 120), bool)
    m[10, 10] = m[10, 30] = m[10, 50] = True  # a chain: A overlaps B, B overlaps C once grown by 10
    m[80:85, 100:110] = True  # far away: its own box, clipped at the right edge
    m[0, 0] = True
    assert masks.region_boxes_merged(m, 10) == [(0, 0, 61, 21), (90, 70, 30, 25)]
    # Without margin nothing overlaps; boxes that only touch are not merged.
    assert len(masks.region_boxes_merged(m, 0)) == 5
    touching = np.zeros((10, 10), bool)
    touching[0, 0] = touching[0, 2] = True
    assert masks.region_boxes_merged(touching, 0) == [(0, 0, 1, 1), (2, 0, 1, 1)]
    assert masks.region_boxes_merged(np.zeros((5, 5), bool), 3) == []
    with pytest.raises(InvalidInput, match="margin"):
        masks.region_boxes_merged(m, -1)


def test_region_boxes_merged_needs_a_second_pass_when_a_union_overlaps_an_earlier_box() -> None:
    m = np.zeros((20, 30), bool)
    m[0, 10] = True  # A: first in raster order
    m[0, 15:26] = m[0:11, 25] = m[10, 12:26] = True  # C: a hook whose box is x 12..25, y 0..10
    m[5, 5:15] = True  # B: a bar inside C's box but not touching C; its box is x 5..14, y 5
    # Neither B's nor C's box holds A, but their union does: A must be merged in a later pass.
    assert len(masks.regions(m)) == 3
    assert masks.region_boxes_merged(m, 0) == [(5, 0, 21, 11)]


def test_region_boxes_merged_invariants_on_random_masks() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        m = rng.random((80, 90)) > 0.995
        m[rng.integers(0, 80), :] |= rng.random(90) > 0.8
        margin = int(rng.integers(0, 6))
        boxes = masks.region_boxes_merged(m, margin)
        cover = np.zeros(m.shape, np.int32)
        for x, y, w, h in boxes:
            assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= 90 and y + h <= 80
            cover[y : y + h, x : x + w] += 1
        assert cover.max() <= 1  # no two boxes overlap
        for r in masks.regions(m):  # every region, with its margin, lies inside one box
            y0, x0 = max(r.y - margin, 0), max(r.x - margin, 0)
            y1, x1 = min(r.y + r.height + margin, 80), min(r.x + r.width + margin, 90)
            assert cover[y0:y1, x0:x1].all()


def test_bounding_slices_are_the_set_pixels_box_grown_and_clipped() -> None:
    mask = np.zeros((20, 30), dtype=bool)
    assert masks.bounding_slices(mask) is None
    mask[4:9, 25:28] = True
    assert masks.bounding_slices(mask) == (slice(4, 9), slice(25, 28))
    assert masks.bounding_slices(mask, 3) == (slice(1, 12), slice(22, 30))
