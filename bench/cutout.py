"""Cutout quality and speed on the alphamatting.com training set, with one network (isnet-imgly) for everyone, and
the same measures for other networks under Retouch's matting (u2netp by default: the model ./setup.sh pulls).

For each of the 13 photos (input/GTxx.png, truth gt/GTxx.png) in one run:
  (a) net     the network's own map, resized to full resolution (bilinear)
  (b) rembg   rembg from PyPI with alpha matting on, its session built on the same ONNX file (dis_custom: same
              1024x1024 input, (x / max - 0.5) normalization, which matches IMG.LY's (x - 128) / 256)
  (c) retouch this project's full-resolution matting on the network map of (a)
  (d) for each model of --also: its own map, resized ("net u2netp"), and Retouch's matting on it ("retouch u2netp")
SAD (sum of |a - truth| / 1000), MSE (mean of squares), gradient error (Rhemann et al.: Gaussian derivatives,
sigma 1.4, sum of squared differences / 1000), and time per image. Edge colour error of a composite onto a new
background: mean |composite - truth composite| over the pixels whose true alpha is strictly between 0 and 1
(dilated by 2), the truth composite being the true alpha with foreground colours estimated from it (pymatting's
multilevel estimator). Retouch's colours are compared with the naive cut (the photo's own colours), and with the
true alpha (what the colour estimator alone leaves).
A 12-megapixel timing (the photo enlarged) compares the whole cutout with the network's inference alone, for
isnet-imgly and for each model of --also.
Replace background at 12 MP (the same photo): the cutout, then replace-bg on a colour, on the blurred photo and on an
image (a Kodak photo, enlarged to cover), interleaved in one process; each median against the cutout's, PASS when
every one is within 1.5x (exit status 1 otherwise).

Run: RETOUCH_HOME=... .venv/bin/python bench/cutout.py [--images GT01,GT02] [--no-rembg] [--big-runs 2]
     [--also u2netp] [--replace-runs 3] [--replace-only] [--model isnet-imgly]
(needs rembg and pymatting from PyPI, isnet-imgly pulled: retouch models pull isnet-imgly --accept-license, and
the models of --also pulled (--also '' for none); --replace-only needs neither, and --model picks the replace
timing's network, e.g. u2netp)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "eval" / "matting" / "alphamatting"
KODAK = ROOT.parent / "shared" / "eval" / "photos" / "kodak"
MODEL = "isnet-imgly"
REPLACE_TARGET = 1.5  # replace-bg within this many times the cutout's time
NEW_BACKGROUND = np.float32([0.1, 0.35, 0.9])  # a saturated blue, far from every photo's own background


def sad(a: np.ndarray, t: np.ndarray) -> float:
    return float(np.abs(a - t).sum() / 1000)


def mse(a: np.ndarray, t: np.ndarray) -> float:
    return float(np.mean((a - t) ** 2))


def gradient_error(a: np.ndarray, t: np.ndarray) -> float:
    def magnitude(x: np.ndarray) -> np.ndarray:
        return np.hypot(gaussian_filter(x, 1.4, order=(0, 1)), gaussian_filter(x, 1.4, order=(1, 0)))

    return float(((magnitude(a.astype(np.float64)) - magnitude(t.astype(np.float64))) ** 2).sum() / 1000)


def edge_region(truth: np.ndarray) -> np.ndarray:
    import cv2

    soft = ((truth > 0) & (truth < 1)).astype(np.uint8)
    return cv2.dilate(soft, np.ones((5, 5), np.uint8)) > 0


def composite(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[:, :, None]
    return fg * a + NEW_BACKGROUND * (1 - a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", help="comma-separated names (default: all 13)")
    parser.add_argument("--no-rembg", action="store_true")
    parser.add_argument("--big-runs", type=int, default=2, help="timing runs of the 12-megapixel cutout (0: skip)")
    parser.add_argument("--replace-runs", type=int, default=3, help="rounds of the 12 MP replace-bg timing (0: skip)")
    parser.add_argument("--replace-only", action="store_true", help="only the replace-bg timing")
    parser.add_argument("--model", default=MODEL, help="cutout model of the replace-bg timing")
    parser.add_argument("--also", default="u2netp", help="comma-separated cutout models measured beside isnet-imgly")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no evaluation data at {DATA}")
    if args.replace_only:
        sys.exit(0 if replace_timing(args.model, args.replace_runs) else 1)

    from pymatting import estimate_foreground_ml

    from retouch.models.weights import resolve_weights
    from retouch.tools.cutout.foreground import estimate_foreground
    from retouch.tools.cutout.matting import refine_alpha
    from retouch.tools.cutout.networks import load_segmenter
    from retouch.tools.cutout.segment import to_full

    segmenter = load_segmenter(MODEL, "cpu")
    others = {name: load_segmenter(name, "cpu") for name in filter(None, args.also.split(","))}
    model_path = resolve_weights(MODEL, allow_download=False)
    rembg_session = None
    if not args.no_rembg:
        import os

        import rembg

        os.environ["REMBG_HOME"] = str(model_path.parent)  # rembg loads custom models from its home only
        rembg_session = rembg.new_session("dis_custom", model_path=str(model_path))

    names = args.images.split(",") if args.images else sorted(p.stem for p in (DATA / "input").glob("GT*.png"))
    rows: dict[str, list[tuple[float, ...]]] = {"net": [], "rembg": [], "retouch": []}
    for model in others:
        rows |= {f"net {model}": [], f"retouch {model}": []}
    edges: dict[str, list[float]] = {
        "naive cut, true alpha": [],
        "true alpha, retouch colours": [],
        "retouch alpha, naive colours": [],
        "retouch": [],
        "rembg": [],
    }
    times: dict[str, list[float]] = {"network": [], "retouch matting+colours": [], "rembg (all)": []}
    for model in others:
        times |= {f"network {model}": [], f"retouch {model} matting+colours": []}
    print(f"{'image':6} " + " ".join(f"{key + ' SAD/MSE':>{max(16, len(key) + 8)}}" for key in rows), flush=True)
    for name in names:
        photo = Image.open(DATA / "input" / f"{name}.png").convert("RGB")
        rgb = np.asarray(photo, dtype=np.float32) / 255
        truth = np.asarray(Image.open(DATA / "gt" / f"{name}.png").convert("L"), dtype=np.float32) / 255
        h, w = truth.shape

        start = time.perf_counter()
        coarse = to_full(segmenter(rgb), (w, h))
        times["network"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = refine_alpha(rgb, coarse)
        scale = max(max(w, h) / 1024, 0.5)  # as retouch.tools.cutout.extract
        our_fg = estimate_foreground(rgb, ours, scale=scale)
        times["retouch matting+colours"].append(time.perf_counter() - start)

        results = {"net": coarse, "retouch": ours}
        for other, network in others.items():
            start = time.perf_counter()
            results[f"net {other}"] = to_full(network(rgb), (w, h))
            times[f"network {other}"].append(time.perf_counter() - start)
            start = time.perf_counter()
            results[f"retouch {other}"] = refine_alpha(rgb, results[f"net {other}"])
            estimate_foreground(rgb, results[f"retouch {other}"], scale=scale)  # timed as a cutout does it
            times[f"retouch {other} matting+colours"].append(time.perf_counter() - start)
        if rembg_session is not None:
            import rembg

            start = time.perf_counter()
            cut = rembg.remove(photo, session=rembg_session, alpha_matting=True)
            times["rembg (all)"].append(time.perf_counter() - start)
            cut_rgba = np.asarray(cut, dtype=np.float32) / 255
            results["rembg"] = cut_rgba[:, :, 3]
            edges["rembg"].append(0.0)  # filled below
        for key, alpha in results.items():
            rows[key].append((sad(alpha, truth), mse(alpha, truth), gradient_error(alpha, truth)))

        region = edge_region(truth)
        true_fg = estimate_foreground_ml(rgb.astype(np.float64), truth.astype(np.float64)).astype(np.float32)
        reference = composite(true_fg, truth)

        def edge_error(fg: np.ndarray, alpha: np.ndarray) -> float:
            return float(np.abs(composite(fg, alpha) - reference)[region].mean())

        edges["naive cut, true alpha"].append(edge_error(rgb, truth))
        edges["true alpha, retouch colours"].append(edge_error(estimate_foreground(rgb, truth, scale=scale), truth))
        edges["retouch alpha, naive colours"].append(edge_error(rgb, ours))
        edges["retouch"].append(edge_error(our_fg, ours))
        if rembg_session is not None:
            edges["rembg"][-1] = edge_error(cut_rgba[:, :, :3], cut_rgba[:, :, 3])
        line = " ".join(
            f"{f'{rows[k][-1][0]:.2f}/{rows[k][-1][1]:.4f}' if rows[k] else '-':>{max(16, len(k) + 8)}}" for k in rows
        )
        print(f"{name:6} {line}", flush=True)

    print("\nmean over", len(names), "images (same network, same run):")
    means = {k: np.mean(v, axis=0) for k, v in rows.items() if v}
    for key, (s, m, g) in means.items():
        print(f"  {key:16} SAD {s:8.3f}  MSE {m:.5f}  gradient {g:.4f}")
    for other in ("net", "rembg"):
        if other in means:
            s, m, g = means["retouch"] / means[other]
            print(f"  retouch / {other:5}: SAD x{s:.3f}  MSE x{m:.3f}  gradient x{g:.3f}")
    for model in others:
        s, m, g = means[f"retouch {model}"] / means["retouch"]
        print(f"  retouch {model} / retouch ({MODEL}): SAD x{s:.3f}  MSE x{m:.3f}  gradient x{g:.3f}")
    print("\nedge colour error of the composite on a new background (mean |difference|, 0..1):")
    for key, values in edges.items():
        if values:
            print(f"  {key:30} {np.mean(values):.4f}")
    print("\ntime per image (s, median / min / max):")
    for key, values in times.items():
        if values:
            print(f"  {key:34} {statistics.median(values):6.2f} {min(values):6.2f} {max(values):6.2f}")

    if args.big_runs:
        for model, network in {MODEL: segmenter, **others}.items():
            big_timing(model, network, args.big_runs)
    if args.replace_runs and not replace_timing(args.model, args.replace_runs):
        sys.exit(1)


def big_photo() -> Path:
    """A 12-megapixel photo: GT04 enlarged to 4000x3000 (bicubic), as a PNG file."""
    import cv2

    photo = np.asarray(Image.open(DATA / "input" / "GT04.png").convert("RGB"))
    big = cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    path = Path("/tmp/retouch-bench-12mp.png")
    Image.fromarray(big).save(path)
    return path


def big_timing(model: str, segmenter, runs: int) -> None:
    """A 12-megapixel photo (GT04 enlarged to 4000x3000): network alone vs the whole cutout, repeated."""
    from retouch.io import load_image
    from retouch.tools.cutout import cutout

    picture = load_image(big_photo())
    rgb = picture.rgb_float()
    network, whole = [], []
    for _ in range(runs):
        start = time.perf_counter()
        segmenter(rgb)
        network.append(time.perf_counter() - start)
        start = time.perf_counter()
        cutout(picture, model=model, device="cpu")
        whole.append(time.perf_counter() - start)
    network_text, whole_text = (" / ".join(f"{t:.2f}" for t in times) for times in (network, whole))
    print(f"\n12 MP (4000x3000), {model}, {runs} runs: network inference {network_text} s; whole cutout {whole_text} s")
    print(f"  whole / network (median): x{statistics.median(whole) / statistics.median(network):.2f}")


def replace_timing(model: str, runs: int) -> bool:
    """The cutout of the 12-megapixel photo, then replace-bg with a colour, the blur and an image, ``runs``
    interleaved rounds in this process (after one cutout to load the network); True when every kind's median is
    within ``REPLACE_TARGET`` times the cutout's."""
    from retouch.io import load_image
    from retouch.tools.cutout import cutout, replace_background

    picture = load_image(big_photo())
    backdrop = load_image(KODAK / "kodim23.png")  # 768x512, enlarged to cover 4000x3000
    kinds = {
        "cutout": lambda: cutout(picture, model=model, device="cpu"),
        "colour": lambda: replace_background(picture, "#1e90ff", model=model, device="cpu"),
        "blur": lambda: replace_background(picture, "blur", model=model, device="cpu"),
        "image": lambda: replace_background(picture, backdrop, model=model, device="cpu"),
    }
    kinds["cutout"]()
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(runs):
        for name, run in kinds.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["cutout"])
    print(f"\nreplace-bg at 12 MP (4000x3000, model {model}), {runs} interleaved rounds (s):")
    passed = True
    for name, values in times.items():
        ratio = statistics.median(values) / base
        verdict = "" if name == "cutout" else ("PASS" if ratio <= REPLACE_TARGET else "FAIL")
        passed = passed and verdict != "FAIL"
        runs_text = " ".join(f"{v:.2f}" for v in values)
        print(f"  {name:7} median {statistics.median(values):6.2f}  x{ratio:.2f}  {verdict:4}  ({runs_text})")
    print(f"  target: every kind within x{REPLACE_TARGET} of the cutout: {'PASS' if passed else 'FAIL'}")
    return passed


if __name__ == "__main__":
    main()
