"""Erase benchmark: the built-in `patch` engine against pypatchmatch and OpenCV, scored so that blur cannot win.

Quality: four mask kinds from ``bench/masks.py`` (LaMa-style thin, medium and thick strokes and boxes, and
``object``: one ragged blob over 5-15% of the frame, as a user paints over a passer-by), drawn with a fixed seed,
on the 24 Kodak photos. Every engine fills every (photo, mask) pair in the same run; each fill is quantised to
8 bits like a saved photo and composited into the original outside the hole (as the erase tool does), so only
the hole's pixels are scored. Per pair, then averaged over photos:

- swd (lower is better, the main number): texture distance, the sliced Wasserstein distance between the 7x7x3
  patches of the fill and those of the original, centred on the hole's pixels, on each of three levels of a
  Laplacian pyramid (two band-pass levels and the quarter-size low-pass rest), after Karras et al. 2018
  ("Progressive Growing of GANs", section 5, and their ``metrics/sliced_wasserstein.py``). Each channel of both
  descriptor sets is normalised by the ORIGINAL's mean and standard deviation at that level; 128 unit directions
  drawn once (seed 0); the 1-D distance per direction is the mean absolute difference of the sorted
  projections; averaged over directions and levels, times 1e3 as Karras reports it. A hole's coarser level is
  its 2x2-downsampled mask (a coarse pixel is in the hole if any child is); both sets use the same centres, at
  most 16384 per level, sampled with a fixed seed. A blurred fill has the original's colours but not its
  patches, so it scores far worse than a sharp copy of the photo's texture.
- detail (1 is best): the fill's mean luminance gradient over the hole's inner pixels (3+ px from its edge)
  against the original's there: near 0 = a smooth blur, above 1 = noisier than the photo.
- tone (lower is better, 0-255 scale): mean absolute difference, over the hole's pixels and RGB channels, of a
  31x31 box blur of the composited image against the same blur of the original: whether the fill has the right
  colours and brightness at a coarse scale, whatever its texture.
- PSNR (dB) and SSIM over the hole (secondary: both reward a smooth, blurred fill): 10 log10(1 / MSE) over the
  hole's pixels, RGB in [0, 1]; the SSIM map (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01,
  K2 0.03, per RGB channel of the whole photo, channels averaged) averaged over the hole's pixels.
- s/photo: wall-clock seconds of the engine call. With ``--jobs 2`` (the default, to keep a full run near ten
  minutes on two cores) two photos are filled at once, each engine on one thread; ``--jobs 1`` gives every
  engine all the cores (the speed section below always does).

Each mask kind prints a table of every engine, then patch against pypatchmatch (swd and tone ratios, PSNR
difference, photos won). A "targets" block then prints PASS or FAIL on the means over photos: for medium,
thick and object masks swd(patch) <= 0.85 swd(pypatchmatch), 0.85 <= detail(patch) <= 1.15,
tone(patch) <= tone(pypatchmatch) and PSNR(patch) >= PSNR(pypatchmatch) + 0.3 dB; for thin masks
swd(patch) <= swd(pypatchmatch).

Contact sheets (``--sheet``, the default, with object masks): ``bench/out/erase_object_sheet_N.png``, six photos
per sheet, one row per photo of crops around the hole (its bounding box and 30% margin) at 1:1 scale:
original | input with the hole in magenta | patch | pypatchmatch, labelled with each fill's swd and PSNR.

Speed: one 1200x1200 crop of an upscaled Kodak photo with a 400x400 hole in the middle (what the erase tool
hands the engine for a 400x400 object in a 4000x3000 photo), timed for `patch` and `pypatchmatch` in this
process, plus the whole `patch` call in a fresh process (imports included).

Engines: patch (ours), pypatchmatch (PyPI ``pypatchmatch``, ``patch_size=3`` as in its examples), telea and ns
(``cv2.inpaint``), fsr (``cv2.xphoto`` FSR_FAST). Run from the repository root:

    .venv/bin/python bench/erase.py                       # everything
    .venv/bin/python bench/erase.py --limit 3 --no-speed  # a quick look: 3 photos, every mask kind and engine
    .venv/bin/python bench/erase.py --types object --engines patch,pypatchmatch --no-speed
    .venv/bin/python bench/erase.py --no-quality          # speed section only

Other options: ``--seed`` (masks, default 2021), ``--jobs``, ``--no-sheet``, ``--sheet-dir``, ``--photos DIR``,
``--repeats`` (speed section).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, fields
from functools import cache
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from masks import MASK_KINDS, benchmark_masks  # noqa: E402

KODAK = ROOT.parent / "shared" / "eval" / "photos" / "kodak"
Engine = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (RGB uint8 HxWx3, bool HxW hole) -> RGB uint8

SWD_LEVELS = 3
SWD_RADIUS = 3  # 7x7 descriptors
SWD_DIRECTIONS = 128
SWD_MAX_CENTRES = 16384  # per level: enough for a stable distance, and the same centres for every engine
SWD_STD_FLOOR = 0.5 / 255  # a level flatter than half an 8-bit step holds only rounding noise: do not magnify it
TONE_WINDOW = 31

SWD_TARGET = 0.85  # swd(patch) / swd(pypatchmatch) at most this on medium, thick and object masks
DETAIL_BAND = (0.85, 1.15)
PSNR_MARGIN = 0.3  # dB over pypatchmatch
LENIENT_KINDS = ("thin",)  # only swd(patch) <= swd(pypatchmatch) here

SHEET_KIND = "object"
SHEET_ENGINES = ("patch", "pypatchmatch")
SHEET_ROWS = 6
SHEET_MARGIN = 0.3  # of the hole's bounding box, on each side
MAGENTA = (255, 0, 255)
LABEL_HEIGHT = 22
GAP = 6


def engine_patch(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
    from retouch.tools.erase.patch import inpaint_patch

    out = inpaint_patch(img.astype(np.float32) / np.float32(255), hole, seed=0)
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


def engine_pypatchmatch(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
    import patchmatch

    patchmatch.set_random_seed(0)
    return patchmatch.inpaint(img, hole.astype(np.uint8) * 255, patch_size=3)


def _cv2_inpaint(flag: int) -> Engine:
    def run(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        return cv2.cvtColor(cv2.inpaint(bgr, hole.astype(np.uint8) * 255, 3, flag), cv2.COLOR_BGR2RGB)

    return run


def engine_fsr(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    out = np.zeros_like(bgr)
    # xphoto's mask marks the *valid* pixels (non-zero) and the hole as zero
    cv2.xphoto.inpaint(bgr, (~hole).astype(np.uint8) * 255, out, cv2.xphoto.INPAINT_FSR_FAST)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


ENGINES: dict[str, Engine] = {
    "patch": engine_patch,
    "pypatchmatch": engine_pypatchmatch,
    "telea": _cv2_inpaint(cv2.INPAINT_TELEA),
    "ns": _cv2_inpaint(cv2.INPAINT_NS),
    "fsr": engine_fsr,
}


# --- texture distance: sliced Wasserstein on a Laplacian pyramid ---------------------------------------------


@dataclass(frozen=True)
class SwdLevel:
    """The original's side of one pyramid level: descriptor centres, channel statistics, sorted projections."""

    ys: np.ndarray
    xs: np.ndarray
    mean: np.ndarray  # (3,) per channel, over all the original's descriptors at this level
    std: np.ndarray
    projections: np.ndarray  # (SWD_DIRECTIONS, centres), each row sorted


@cache
def _directions() -> np.ndarray:
    """(7*7*3, SWD_DIRECTIONS) random unit vectors, the same on every run."""
    dirs = np.random.default_rng(0).standard_normal(((2 * SWD_RADIUS + 1) ** 2 * 3, SWD_DIRECTIONS))
    return (dirs / np.linalg.norm(dirs, axis=0, keepdims=True)).astype(np.float32)


def laplacian_pyramid(img: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels, finest first, then the low-pass rest (5-tap binomial filter, as Karras et al.)."""
    pyramid = []
    for _ in range(levels - 1):
        down = cv2.pyrDown(img)
        pyramid.append(img - cv2.pyrUp(down, dstsize=(img.shape[1], img.shape[0])))
        img = down
    pyramid.append(img)
    return pyramid


def coarser_hole(hole: np.ndarray) -> np.ndarray:
    """The hole at half size (the size cv2.pyrDown gives): a coarse pixel is in it if any of its children is."""
    h, w = hole.shape
    padded = np.zeros((h + h % 2, w + w % 2), bool)
    padded[:h, :w] = hole
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).any(axis=(1, 3))


def patch_descriptors(level: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(N, 3, 49) channel-major 7x7 patches of an HxWx3 level centred on (ys, xs), the border mirrored."""
    r = SWD_RADIUS
    padded = cv2.copyMakeBorder(level, r, r, r, r, cv2.BORDER_REFLECT_101)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * r + 1, 2 * r + 1), axis=(0, 1))
    return windows[ys, xs].reshape(len(ys), 3, -1)


def _sorted_projections(desc: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(SWD_DIRECTIONS, N) projections of the normalised descriptors, each row sorted."""
    taps = desc.shape[2]
    # normalising every descriptor is the same as scaling the directions and shifting the projections
    dirs = _directions() / np.repeat(std, taps)[:, None]
    proj = dirs.T @ desc.reshape(len(desc), -1).T - (np.repeat(mean, taps) @ dirs)[:, None]
    proj.sort(axis=1)
    return proj


def swd_reference(truth: np.ndarray, hole: np.ndarray) -> list[SwdLevel]:
    """The original's descriptors, computed once per (photo, mask) and shared by every engine's score."""
    rng = np.random.default_rng(0)
    refs = []
    for level in laplacian_pyramid(truth.astype(np.float32) / 255, SWD_LEVELS):
        ys, xs = np.nonzero(hole)
        if len(ys) > SWD_MAX_CENTRES:
            keep = np.sort(rng.choice(len(ys), SWD_MAX_CENTRES, replace=False))
            ys, xs = ys[keep], xs[keep]
        desc = patch_descriptors(level, ys, xs)
        # Karras et al. normalise each set by its own statistics, which would forgive a fill that lost contrast
        # (a blur rescaled to unit variance looks like texture): both sets take the original's here
        channels = desc.transpose(1, 0, 2).reshape(3, -1)
        mean = channels.mean(axis=1)
        std = np.maximum(channels.std(axis=1), np.float32(SWD_STD_FLOOR))
        refs.append(SwdLevel(ys, xs, mean, std, _sorted_projections(desc, mean, std)))
        hole = coarser_hole(hole)
    return refs


def sliced_wasserstein(result: np.ndarray, reference: list[SwdLevel]) -> float:
    """Texture distance (x 1e3) of an RGB uint8 fill, composited, to the original that ``reference`` describes."""
    levels = laplacian_pyramid(result.astype(np.float32) / 255, len(reference))
    dists = [
        np.abs(_sorted_projections(patch_descriptors(level, ref.ys, ref.xs), ref.mean, ref.std) - ref.projections)
        .mean()
        for level, ref in zip(levels, reference)
    ]
    return 1e3 * float(np.mean(dists))


# --- the other metrics ----------------------------------------------------------------------------------------


def masked_psnr(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    diff = (result.astype(np.float64) - truth.astype(np.float64))[hole] / 255.0
    mse = float(np.mean(diff**2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM of two RGB uint8 images (Gaussian window 11x11, sigma 1.5), channels averaged."""
    x = a.astype(np.float64) / 255.0
    y = b.astype(np.float64) / 255.0
    c1, c2 = 0.01**2, 0.03**2

    def blur(v: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(v, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean(axis=2)


def masked_ssim(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    return float(ssim_map(result, truth)[hole].mean())


def detail_ratio(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean luminance gradient magnitude of ``result`` over the hole's inner pixels (3+ px from its edge, where a
    seam cannot count as detail) divided by the same for ``truth``: 1 = as much texture as the photo had, below 1
    = blurred (a smooth fill scores near 0 however good its PSNR), above 1 = noisier than the photo."""
    inner = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    if not inner.any():
        inner = hole

    def gradient(img: np.ndarray) -> float:
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        return float(np.sqrt(gx * gx + gy * gy)[inner].mean())

    return gradient(result) / max(gradient(truth), 1e-6)


def tone_error(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean absolute difference (0-255 scale) over the hole's pixels and channels of the two images' 31x31 box
    blurs: the fill's colour and brightness at a coarse scale, blind to its texture."""

    def low_pass(img: np.ndarray) -> np.ndarray:
        return cv2.blur(img.astype(np.float32), (TONE_WINDOW, TONE_WINDOW), borderType=cv2.BORDER_REFLECT)

    return float(np.abs(low_pass(result) - low_pass(truth))[hole].mean())


@dataclass(frozen=True)
class Scores:
    swd: float
    detail: float
    tone: float
    psnr: float
    ssim: float
    secs: float


def score(out: np.ndarray, truth: np.ndarray, hole: np.ndarray, reference: list[SwdLevel], secs: float) -> Scores:
    """All metrics of one composited RGB uint8 fill."""
    return Scores(
        swd=sliced_wasserstein(out, reference),
        detail=detail_ratio(out, truth, hole),
        tone=tone_error(out, truth, hole),
        psnr=masked_psnr(out, truth, hole),
        ssim=masked_ssim(out, truth, hole),
        secs=secs,
    )


def mean_of(scores: list[Scores], metric: str) -> float:
    return float(np.mean([getattr(s, metric) for s in scores]))


# --- quality section ------------------------------------------------------------------------------------------

Results = dict[str, dict[str, list[Scores]]]  # mask kind -> engine -> one Scores per photo


def load_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class _Inputs:
    images: list[np.ndarray]
    holes: dict[str, list[np.ndarray]]  # mask kind -> one hole per image
    engines: list[str]


_inputs: _Inputs | None = None  # this process's, set once by _start_worker


def _start_worker(photos: list[Path], kinds: list[str], engines: list[str], seed: int, threads: int) -> None:
    """Load the photos, draw the masks and warm the engines up in this process (a first-call cost, such as a
    library's initialisation, is then charged to no photo). threads: the patch engine's and OpenCV's, 0 = their
    default (all cores)."""
    global _inputs
    if threads:  # so that parallel jobs do not oversubscribe the cores
        os.environ["RETOUCH_THREADS"] = str(threads)  # the patch engine reads it on every call
        cv2.setNumThreads(threads)
    images = [load_rgb(p) for p in photos]
    shapes = [im.shape[:2] for im in images]
    for name in engines:
        ENGINES[name](images[0][:64, :64].copy(), np.pad(np.ones((16, 16), bool), 24))
    _inputs = _Inputs(images, {k: benchmark_masks(k, shapes, seed) for k in kinds}, engines)


def _run_pair(task: tuple[str, int, tuple[str, ...]]) -> tuple[dict[str, Scores], dict[str, np.ndarray]]:
    """Every engine on one (mask kind, photo): scores per engine, and the fills of the engines in task[2]."""
    kind, index, keep = task
    assert _inputs is not None, "_start_worker runs first"
    img, hole = _inputs.images[index], _inputs.holes[kind][index]
    reference = swd_reference(img, hole)
    scores, fills = {}, {}
    for name in _inputs.engines:
        t0 = time.perf_counter()
        out = ENGINES[name](img, hole)
        secs = time.perf_counter() - t0
        # FSR alters a few pixels outside the hole; the erase tool composites every engine's fill anyway
        out[~hole] = img[~hole]
        scores[name] = score(out, img, hole, reference, secs)
        if name in keep:
            fills[name] = out
    return scores, fills


def print_table(kind: str, area: float, rows: dict[str, list[Scores]]) -> None:
    n = len(next(iter(rows.values())))
    print(f"\n-- {kind}: mean hole area {area:.1%}, {n} photos")
    print(f"   {'engine':<13} {'swd':>7} {'detail':>6} {'tone':>6} {'PSNR':>7} {'SSIM':>7} {'s/photo':>8}")
    for name, scores in rows.items():
        print(f"   {name:<13} {mean_of(scores, 'swd'):7.2f} {mean_of(scores, 'detail'):6.2f}"
              f" {mean_of(scores, 'tone'):6.2f} {mean_of(scores, 'psnr'):7.3f} {mean_of(scores, 'ssim'):7.4f}"
              f" {mean_of(scores, 'secs'):8.3f}")
    if "patch" in rows and "pypatchmatch" in rows:
        ours, theirs = rows["patch"], rows["pypatchmatch"]
        swd_wins = sum(a.swd < b.swd for a, b in zip(ours, theirs))
        tone_wins = sum(a.tone < b.tone for a, b in zip(ours, theirs))
        psnr_wins = sum(a.psnr > b.psnr for a, b in zip(ours, theirs))
        print(f"   patch / pypatchmatch: swd {mean_of(ours, 'swd') / mean_of(theirs, 'swd'):.3f}x"
              f" (lower on {swd_wins}/{n}), tone {mean_of(ours, 'tone') / mean_of(theirs, 'tone'):.3f}x"
              f" (lower on {tone_wins}/{n}), PSNR {mean_of(ours, 'psnr') - mean_of(theirs, 'psnr'):+.3f} dB"
              f" (higher on {psnr_wins}/{n})")


def check_targets(results: Results) -> list[tuple[bool, str]]:
    """(passed, description with the numbers) for every target whose mask kind and engines were run."""
    checks = []
    for kind, rows in results.items():
        if "patch" not in rows or "pypatchmatch" not in rows:
            continue
        ours = {f.name: mean_of(rows["patch"], f.name) for f in fields(Scores)}
        theirs = {f.name: mean_of(rows["pypatchmatch"], f.name) for f in fields(Scores)}
        if kind in LENIENT_KINDS:
            checks.append((ours["swd"] <= theirs["swd"],
                           f"{kind}: swd(patch) {ours['swd']:.2f} <= swd(pypatchmatch) {theirs['swd']:.2f}"))
            continue
        lo, hi = DETAIL_BAND
        checks += [
            (ours["swd"] <= SWD_TARGET * theirs["swd"],
             f"{kind}: swd(patch) {ours['swd']:.2f} <= {SWD_TARGET} x swd(pypatchmatch) {theirs['swd']:.2f}"
             f" = {SWD_TARGET * theirs['swd']:.2f}"),
            (lo <= ours["detail"] <= hi, f"{kind}: detail(patch) {ours['detail']:.3f} in [{lo}, {hi}]"),
            (ours["tone"] <= theirs["tone"],
             f"{kind}: tone(patch) {ours['tone']:.3f} <= tone(pypatchmatch) {theirs['tone']:.3f}"),
            (ours["psnr"] >= theirs["psnr"] + PSNR_MARGIN,
             f"{kind}: PSNR(patch) {ours['psnr']:.3f} >= PSNR(pypatchmatch) {theirs['psnr']:.3f} + {PSNR_MARGIN}"
             f" = {theirs['psnr'] + PSNR_MARGIN:.3f} dB"),
        ]
    return checks


# --- contact sheet --------------------------------------------------------------------------------------------


def crop_box(hole: np.ndarray, margin: float = SHEET_MARGIN) -> tuple[slice, slice]:
    """The hole's bounding box grown by ``margin`` of its size on each side, clipped to the image."""
    ys, xs = np.nonzero(hole)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    my, mx = round((y1 - y0) * margin), round((x1 - x0) * margin)
    h, w = hole.shape
    return slice(max(0, y0 - my), min(h, y1 + my)), slice(max(0, x0 - mx), min(w, x1 + mx))


def labelled(panel: np.ndarray, label: str) -> np.ndarray:
    """The panel under a white strip with its label, widened (never resampled) when the label is wider."""
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.45
    (text_w, _), _ = cv2.getTextSize(label, font, size, 1)
    tile = np.full((LABEL_HEIGHT + panel.shape[0], max(panel.shape[1], text_w + 8), 3), 255, np.uint8)
    cv2.putText(tile, label, (4, LABEL_HEIGHT - 7), font, size, (0, 0, 0), 1, cv2.LINE_AA)
    tile[LABEL_HEIGHT:, : panel.shape[1]] = panel
    return tile


def sheet_row(name: str, img: np.ndarray, hole: np.ndarray, fills: dict[str, np.ndarray],
              scores: dict[str, Scores]) -> np.ndarray:
    """One photo's crops side by side at 1:1: original | hole in magenta | each kept engine's fill."""
    ys, xs = crop_box(hole)
    painted = img.copy()
    painted[hole] = MAGENTA
    panels = [(f"{name} original", img), ("input", painted)]
    panels += [(f"{e} swd {scores[e].swd:.1f} {scores[e].psnr:.2f} dB", out) for e, out in fills.items()]
    tiles = [labelled(np.ascontiguousarray(p[ys, xs]), label) for label, p in panels]
    spacer = np.full((tiles[0].shape[0], GAP, 3), 128, np.uint8)
    return np.hstack([part for tile in tiles for part in (tile, spacer)][:-1])


def write_sheets(rows: list[np.ndarray], out_dir: Path) -> list[Path]:
    """Stack the rows SHEET_ROWS to a PNG, left-aligned on grey."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for start in range(0, len(rows), SHEET_ROWS):
        chunk = rows[start : start + SHEET_ROWS]
        width = max(r.shape[1] for r in chunk)
        sheet = np.vstack([np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=128)
                           for r in chunk])
        path = out_dir / f"erase_{SHEET_KIND}_sheet_{start // SHEET_ROWS + 1}.png"
        cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def quality(photos: list[Path], kinds: list[str], engines: list[str], seed: int, jobs: int,
            sheet_dir: Path | None) -> None:
    images = [load_rgb(p) for p in photos]
    holes = {kind: benchmark_masks(kind, [im.shape[:2] for im in images], seed) for kind in kinds}
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 0
    print(f"\n== quality: {len(images)} photos from {photos[0].parent}, mask seed {seed}, "
          + (f"{jobs} jobs of {threads} thread(s) at once" if jobs > 1 else "1 job"))
    print("   swd (texture distance, x1e3) and tone (31x31 low-pass error, 0-255): lower is better;"
          " detail: 1 is best; PSNR (dB), SSIM: higher is better but reward blur")
    keep = SHEET_ENGINES if sheet_dir is not None else ()
    tasks = [(kind, i, keep if kind == SHEET_KIND else ()) for kind in kinds for i in range(len(images))]
    setup = (photos, kinds, engines, seed, threads)
    with ExitStack() as stack:
        if jobs > 1:
            pool = stack.enter_context(get_context("spawn").Pool(jobs, _start_worker, setup))
            done = pool.imap(_run_pair, tasks)
        else:
            _start_worker(*setup)
            done = map(_run_pair, tasks)
        results: Results = {}
        t0 = time.perf_counter()
        for kind in kinds:
            pairs = [next(done) for _ in images]
            results[kind] = {name: [scores[name] for scores, _ in pairs] for name in engines}
            print_table(kind, float(np.mean([h.mean() for h in holes[kind]])), results[kind])
            print(f"   ({time.perf_counter() - t0:.0f} s so far)")
            if kind == SHEET_KIND and sheet_dir is not None:
                rows = [sheet_row(p.stem, img, hole, fills, scores)
                        for p, img, hole, (scores, fills) in zip(photos, images, holes[kind], pairs)]
                for path in write_sheets(rows, sheet_dir):
                    print(f"   contact sheet: {path}")
    checks = check_targets(results)
    if checks:
        print(f"\n== targets (means over {len(images)} photos): {sum(ok for ok, _ in checks)}/{len(checks)} pass")
        for ok, text in checks:
            print(f"   {'PASS' if ok else 'FAIL'}  {text}")


# --- speed section --------------------------------------------------------------------------------------------


def speed_case(side: int = 1200, hole_side: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A side x side crop of kodim23 enlarged 2.5x (bicubic), with a centred hole_side square hole."""
    img = load_rgb(KODAK / "kodim23.png")
    big = cv2.resize(img, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    y0 = (big.shape[0] - side) // 2
    x0 = (big.shape[1] - side) // 2
    crop = np.ascontiguousarray(big[y0 : y0 + side, x0 : x0 + side])
    hole = np.zeros(crop.shape[:2], bool)
    o = (side - hole_side) // 2
    hole[o : o + hole_side, o : o + hole_side] = True
    return crop, hole


COLD = """
import time
t0 = time.perf_counter()
import sys
sys.path.insert(0, {src!r})
import numpy as np
from retouch.tools.erase.patch import inpaint_patch
img = np.load({img!r})
hole = np.load({hole!r})
t1 = time.perf_counter()
inpaint_patch(img, hole)
t2 = time.perf_counter()
print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}}")
"""


def speed(engines: list[str], repeats: int, scratch: Path) -> None:
    crop, hole = speed_case()
    print(f"\n== speed: {crop.shape[1]}x{crop.shape[0]} crop (kodim23 x2.5), {hole.sum()} hole pixels (400x400)")
    timings: dict[str, float] = {}
    for name in [e for e in engines if e in ("patch", "pypatchmatch")]:
        ENGINES[name](crop[:64, :64].copy(), np.pad(np.ones((16, 16), bool), 24))
        secs = []
        for _ in range(repeats if name == "patch" else max(1, repeats // 2)):
            t0 = time.perf_counter()
            ENGINES[name](crop, hole)
            secs.append(time.perf_counter() - t0)
        timings[name] = statistics.median(secs)
        print(f"   {name:<13} median {timings[name]:.3f} s  (runs: {', '.join(f'{s:.3f}' for s in secs)})")
    if "patch" in timings and "pypatchmatch" in timings:
        print(f"   pypatchmatch / patch time: {timings['pypatchmatch'] / timings['patch']:.1f}x")
    if "patch" in engines:
        scratch.mkdir(parents=True, exist_ok=True)
        np.save(scratch / "speed_img.npy", crop.astype(np.float32) / np.float32(255))
        np.save(scratch / "speed_hole.npy", hole)
        code = COLD.format(src=str(ROOT / "src"), img=str(scratch / "speed_img.npy"),
                           hole=str(scratch / "speed_hole.npy"))
        for i in range(repeats):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                                  check=True)
            wall = time.perf_counter() - t0
            imports, call = (float(v) for v in done.stdout.split())
            print(f"   fresh process {i + 1}: {wall:.3f} s wall (imports {imports:.3f} s, inpaint_patch {call:.3f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=KODAK, help="folder of PNG photos (default: the Kodak set)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N photos")
    ap.add_argument("--types", default=",".join(MASK_KINDS), help="mask kinds, comma-separated")
    ap.add_argument("--engines", default=",".join(ENGINES), help="engines, comma-separated")
    ap.add_argument("--seed", type=int, default=2021, help="mask seed")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats in the speed section")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes for the quality section (default: 2, or 1 on one core)")
    ap.add_argument("--no-quality", action="store_true", help="skip the quality section")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed section")
    ap.add_argument("--sheet", action=argparse.BooleanOptionalAction, default=True,
                    help=f"write contact sheets of the {SHEET_KIND} masks (default: yes)")
    ap.add_argument("--sheet-dir", type=Path, default=ROOT / "bench" / "out", help="where the sheets go")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/retouch-bench-erase"), help="temporary files")
    args = ap.parse_args()

    engines = [e for e in args.engines.split(",") if e]
    unknown = [e for e in engines if e not in ENGINES]
    kinds = [t for t in args.types.split(",") if t]
    bad_kinds = [t for t in kinds if t not in MASK_KINDS]
    if unknown or bad_kinds:
        sys.exit(f"unknown engine(s) {unknown} or mask type(s) {bad_kinds}; engines: {list(ENGINES)}, "
                 f"types: {list(MASK_KINDS)}")
    if "pypatchmatch" in engines:
        try:
            import patchmatch  # noqa: F401
        except ImportError:
            print("pypatchmatch is not installed (pip install pypatchmatch): leaving it out")
            engines.remove("pypatchmatch")

    photos = sorted(args.photos.glob("*.png")) if args.photos.is_dir() else []
    if args.limit:
        photos = photos[: args.limit]
    started = time.perf_counter()
    if not args.no_quality:
        if photos:
            quality(photos, kinds, engines, args.seed, max(1, args.jobs), args.sheet_dir if args.sheet else None)
        else:
            print(f"quality skipped: no PNG photos in {args.photos} (the Kodak set: ../shared/eval/photos/kodak)")
    if not args.no_speed:
        if (KODAK / "kodim23.png").is_file():
            speed(engines, args.repeats, args.scratch)
        else:
            print(f"speed skipped: {KODAK / 'kodim23.png'} is absent")
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
