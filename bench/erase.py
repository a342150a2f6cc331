"""Erase benchmark: the built-in `patch` engine against classic inpainters, on the same photos and masks in one run.

Quality: LaMa-style masks (``bench/masks.py``, fixed seed) on the 24 Kodak photos; every engine fills every
(photo, mask) pair; the fill is quantised to 8 bits like a saved photo and scored against the original:

- masked PSNR: 10 log10(1 / MSE) over the hole pixels only (RGB in [0, 1]), averaged over photos;
- masked SSIM: the SSIM map (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, on each RGB
  channel of the whole photo, channels averaged) averaged over the hole pixels only, then over photos;
- detail: the hole's mean luminance gradient against the photo's there (``detail_ratio``), averaged over photos:
  1 = as much texture as the photo had, near 0 = a smooth blur; PSNR and SSIM alone reward blur;
- time: wall-clock seconds per photo.

Every fill is composited into the original outside the hole first (as the erase tool does), so all engines are
scored on their hole pixels alone.

Speed: one 1200x1200 crop of an upscaled Kodak photo with a 400x400 hole in the middle (what the erase tool
hands the engine for a 400x400 object in a 4000x3000 photo), timed for `patch` and `pypatchmatch` in this
process, plus the whole `patch` call in a fresh process (imports and numba's on-disk cache included).

Engines: patch (ours, default detail) and patch-detail1 (ours, ``detail=1``), telea and ns (cv2.inpaint),
fsr (cv2.xphoto FSR_FAST), pypatchmatch (PyPI ``pypatchmatch``,
``patch_size=3`` as in its examples). Run from the repository root:

    .venv/bin/python bench/erase.py                       # everything
    .venv/bin/python bench/erase.py --limit 4 --types thin --engines patch,telea
    .venv/bin/python bench/erase.py --no-quality          # speed section only
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from masks import MASK_KINDS, benchmark_masks  # noqa: E402

KODAK = ROOT.parent / "shared" / "eval" / "photos" / "kodak"
Engine = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (RGB uint8 HxWx3, bool HxW hole) -> RGB uint8


def _patch(detail: float | None) -> Engine:
    def run(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
        from retouch.tools.erase.patch import DEFAULT_DETAIL, inpaint_patch

        chosen = DEFAULT_DETAIL if detail is None else detail
        out = inpaint_patch(img.astype(np.float32) / np.float32(255), hole, seed=0, detail=chosen)
        return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)

    return run


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


def engine_pypatchmatch(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
    import patchmatch

    patchmatch.set_random_seed(0)
    return patchmatch.inpaint(img, hole.astype(np.uint8) * 255, patch_size=3)


ENGINES: dict[str, Engine] = {
    "patch": _patch(None),  # the default detail
    "patch-detail1": _patch(1.0),  # all the texture: sharper, less accurate
    "telea": _cv2_inpaint(cv2.INPAINT_TELEA),
    "ns": _cv2_inpaint(cv2.INPAINT_NS),
    "fsr": engine_fsr,
    "pypatchmatch": engine_pypatchmatch,
}


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


def load_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def quality(photos: list[Path], kinds: list[str], engines: list[str], seed: int) -> None:
    images = [load_rgb(p) for p in photos]
    shapes = [im.shape[:2] for im in images]
    # warm-up call so that a first-call cost (numba cache load, library init) is not charged to one photo
    for name in engines:
        ENGINES[name](images[0][:64, :64].copy(), np.pad(np.ones((16, 16), bool), 24))
    print(f"\n== quality: {len(images)} photos from {photos[0].parent}, mask seed {seed}")
    print("   masked PSNR (dB) and masked SSIM: higher is better; ratios are patch / engine (>1: patch better)")
    for kind in kinds:
        holes = benchmark_masks(kind, shapes, seed)
        area = np.mean([h.mean() for h in holes])
        rows: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {}
        for name in engines:
            psnrs, ssims, secs, details = [], [], [], []
            for img, hole in zip(images, holes):
                t0 = time.perf_counter()
                out = ENGINES[name](img, hole)
                secs.append(time.perf_counter() - t0)
                # FSR alters a few pixels outside the hole; the erase tool composites every engine's fill anyway
                out[~hole] = img[~hole]
                psnrs.append(masked_psnr(out, img, hole))
                ssims.append(masked_ssim(out, img, hole))
                details.append(detail_ratio(out, img, hole))
            rows[name] = (psnrs, ssims, secs, details)
        print(f"\n-- {kind}: mean hole area {area:.1%}")
        print(f"   {'engine':<13} {'PSNR':>7} {'SSIM':>7} {'detail':>6} {'s/photo':>8}   {'PSNR ratio':>10}"
              f" {'SSIM ratio':>10}"
              f" {'wins PSNR':>9} {'wins SSIM':>9}")
        ref = rows.get("patch")
        for name, (psnrs, ssims, secs, details) in rows.items():
            means = f"{np.mean(psnrs):7.3f} {np.mean(ssims):7.4f} {np.mean(details):6.2f} {np.mean(secs):8.3f}"
            line = f"   {name:<13} {means}"
            if ref is not None and name != "patch":
                wins_p = sum(a > b for a, b in zip(ref[0], psnrs))
                wins_s = sum(a > b for a, b in zip(ref[1], ssims))
                line += (f"   {np.mean(ref[0]) / np.mean(psnrs):10.4f} {np.mean(ref[1]) / np.mean(ssims):10.4f}"
                         f" {wins_p:>5}/{len(psnrs):<3} {wins_s:>5}/{len(ssims):<3}")
            print(line)


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
    ap.add_argument("--no-quality", action="store_true", help="skip the quality section")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed section")
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
    if not args.no_quality:
        if photos:
            quality(photos, kinds, engines, args.seed)
        else:
            print(f"quality skipped: no PNG photos in {args.photos} (the Kodak set: ../shared/eval/photos/kodak)")
    if not args.no_speed:
        if (KODAK / "kodim23.png").is_file():
            speed(engines, args.repeats, args.scratch)
        else:
            print(f"speed skipped: {KODAK / 'kodim23.png'} is absent")


if __name__ == "__main__":
    main()
