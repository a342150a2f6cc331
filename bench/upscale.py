"""Upscale benchmark: quality on Set5 / Set14, agreement with and speed against the reference Real-ESRGAN
inference, seams of the tiling, and memory on an 8000x6000 photo.

    python bench/upscale.py [--models a,b] [--sets set5,set14]
        [--reference PATH/Real-ESRGAN --basicsr PATH/BasicSR] [--timing-set set5] [--repeat 3] [--precisions auto,fp32]
        [--tiling [--tiling-tile 256]] [--memory [--memory-tiles 14]]

Quality: each model at x4 on the x4 bicubic-downscaled inputs, PSNR and SSIM on the Y channel (BT.601, as the
super-resolution literature and BasicSR compute them, 4-pixel border cropped) against the ground truth, beside
bicubic and Lanczos enlargements (Pillow). Real-ESRGAN is trained for real-world degradations and perceptual
quality, not for PSNR on clean bicubic inputs: lower PSNR than bicubic there is expected, not a defect.

Reference (when checkouts of xinntao/Real-ESRGAN and XPixelGroup/BasicSR are given; skipped with a message
otherwise): the reference ``RealESRGANer`` (tile 0, pre_pad 0, float32: the defaults of its command line on a
CPU) runs the same weights (the ncnn-converted ones loaded into the reference architectures, and the official
realesr-animevideov3.pth when it is in ../shared/models) on the same images in the same process, alternating
with ours; reported: PSNR of our output against the reference's, output megapixels per second of both, and the
speed ratio (sum of the best time per image, and the spread of per-image ratios), for each of our precisions
(auto: bfloat16 on CPUs that have it natively; fp32: float32 with Winograd convolutions, the reference's
results within float32 rounding). The reference imports
torchvision in modules the inference does not use: stand-ins are registered for those imports only.

Targets (--targets; issue 12): realesrgan-x4plus against the reference on a 128x128 crop of a photo enlarged to
512x512 (interleaved, median of --repeat runs): PASS at 2x the reference's speed or more with 45 dB or more of
agreement; a 1-megapixel photo (a Kodak photo enlarged to 1224x816) x4 with x4plus (PASS under 5 minutes) and
with what "auto" picks for it on this CPU (PASS under 1 minute), both in float32 (what CPUs without native
bfloat16 run). Quality of each choice: the Set5/Set14 table.

Tiling (--tiling): the first model on a 512x512 photo in 2x2 tiles (256 by default, denser seams than the
default 640-pixel tiles make) against one untiled run, PSNR between the two.
Memory (--memory): peak resident memory of separate processes upscaling an 8000x6000 photo x2 with the default
tiles: the default model's network (RRDBNet, 64 features) with random weights and 1 block instead of 23 (the
same memory per tile, 1/23 of the trunk's work) for the first N tiles, with the resident memory after each tile
(flat); and a tiny random compact network through every tile (the pipeline's own memory: output, bands,
resampling).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SR = SHARED / "eval" / "sr"
OFFICIAL_ANIMEVIDEO = SHARED / "models" / "realesr-animevideov3.pth"
QUALITY_MODELS = ("realesrgan-x4plus", "realesrgan-x4plus-anime", "realesr-animevideov3-x4")
OFFICIAL_ROW = "realesr-animevideov3"  # the row of the official .pth, compared when the file is in ../shared


# --------------------------------------------------------------------------------------------------------------
# Data and metrics


def pairs(name: str) -> list[tuple[str, Path, Path]]:
    """(image name, x4 low-resolution input, ground truth) of a set (see ../shared/eval/MANIFEST.md)."""
    if name == "set5":
        folder = SR / "set5"
        truths = sorted((folder / "HR").glob("*.png"))
        return [(p.stem, folder / "LR_bicubic" / "X4" / f"{p.stem}x4.png", p) for p in truths]
    folder = SR / "set14"
    return [(p.name[:7], p, p.with_name(p.name.replace("_LR", "_HR"))) for p in sorted(folder.glob("*_LR.png"))]


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def y_channel(image: np.ndarray) -> np.ndarray:
    """BT.601 luma in [16, 235] from uint8 RGB, as BasicSR's ``rgb2ycbcr(y_only=True)``."""
    x = image.astype(np.float64) / 255.0
    return x @ np.array([65.481, 128.553, 24.966]) + 16.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al. 2004: 11x11 Gaussian window (sigma 1.5), valid region only, 0..255 data range."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = kernel @ kernel.T

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.filter2D(x, -1, window)[5:-5, 5:-5]

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    score = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(score.mean())


def y_scores(result: np.ndarray, truth: np.ndarray, crop: int = 4) -> tuple[float, float]:
    ya, yb = (y_channel(x)[crop:-crop, crop:-crop] for x in (result, truth))
    return psnr(ya, yb), ssim(ya, yb)


# --------------------------------------------------------------------------------------------------------------
# Ours and the reference


def ours(model: str, precision: str = "auto"):
    from retouch.tools.upscale import upscale
    from retouch.types import Picture

    def run(image: np.ndarray) -> np.ndarray:
        return upscale(Picture(image), model=model, scale=4, precision=precision).pixels

    return run


def import_reference(esrgan: Path, basicsr: Path) -> tuple[Any, Any, Any]:
    """RRDBNet, SRVGGNetCompact and RealESRGANer from checkouts, without running their packages' __init__ (which
    import training code, torchvision and compiled operators the inference does not need)."""
    from torch import nn

    def package(name: str, path: Path) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module
        return module

    sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))
    package("basicsr", basicsr / "basicsr")
    package("basicsr.archs", basicsr / "basicsr" / "archs")
    package("basicsr.ops", basicsr / "basicsr" / "ops")
    utils = package("basicsr.utils", basicsr / "basicsr" / "utils")
    utils.get_root_logger = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    download = types.ModuleType("basicsr.utils.download_util")
    download.load_file_from_url = None  # type: ignore[attr-defined]
    sys.modules["basicsr.utils.download_util"] = download
    dcn = types.ModuleType("basicsr.ops.dcn")
    dcn.ModulatedDeformConvPack = nn.Module  # type: ignore[attr-defined]
    dcn.modulated_deform_conv = None  # type: ignore[attr-defined]
    sys.modules["basicsr.ops.dcn"] = dcn
    package("realesrgan", esrgan / "realesrgan")
    package("realesrgan.archs", esrgan / "realesrgan" / "archs")
    from basicsr.archs.rrdbnet_arch import RRDBNet
    from realesrgan.archs.srvgg_arch import SRVGGNetCompact
    from realesrgan.utils import RealESRGANer

    return RRDBNet, SRVGGNetCompact, RealESRGANer


def reference_runner(model: str, classes: tuple[Any, Any, Any], workdir: Path):
    """The reference inference on the weights our row serves: its own architecture, the state dict saved as a
    Real-ESRGAN checkpoint (params_ema), RealESRGANer with its command-line defaults for a CPU."""
    import torch

    from retouch.models.weights import resolve_files
    from retouch.tools.upscale.networks import read_state, upscale_spec

    rrdbnet, srvgg, upsampler_class = classes
    spec = upscale_spec(model)
    params = dict(spec.arch_params)
    if spec.architecture == "rrdbnet":
        network = rrdbnet(**params)
    else:
        network = srvgg(act_type=params.pop("act"), **params)
    files = resolve_files(spec)
    if spec.format == "pth" and len(files) == 1:
        checkpoint = next(iter(files.values()))  # the very file ours reads
    elif model == "realesr-animevideov3-x4" and OFFICIAL_ANIMEVIDEO.is_file():
        checkpoint = OFFICIAL_ANIMEVIDEO  # the official float32 release (ours reads the fp16 ncnn export)
    else:
        checkpoint = workdir / f"{model}.pth"
        torch.save({"params_ema": read_state(spec, files, None)}, checkpoint)
    upsampler = upsampler_class(
        scale=int(spec.conventions.scale), model_path=str(checkpoint), model=network, tile=0, pre_pad=0,
        half=False, device=torch.device("cpu"),
    )  # fmt: skip

    def run(image: np.ndarray) -> np.ndarray:
        out, _ = upsampler.enhance(np.ascontiguousarray(image[:, :, ::-1]), outscale=4)
        return out[:, :, ::-1]

    return run, checkpoint.name


# --------------------------------------------------------------------------------------------------------------
# Sections


def quality(models: list[str], sets: list[str]) -> None:
    print("\n## Quality at x4 (Y channel, border 4 cropped): PSNR dB / SSIM\n")
    print("| set | bicubic | Lanczos | " + " | ".join(models) + " |")
    print("|---|---|---|" + "---|" * len(models))
    runners = {model: ours(model) for model in models}
    for name in sets:
        scores: dict[str, list[tuple[float, float]]] = {k: [] for k in ("bicubic", "lanczos", *models)}
        for _, low, truth_path in pairs(name):
            image, truth = rgb(low), rgb(truth_path)
            size = (truth.shape[1], truth.shape[0])
            with Image.open(low) as source:
                scores["bicubic"].append(y_scores(np.asarray(source.convert("RGB").resize(size, Image.BICUBIC)), truth))
                scores["lanczos"].append(y_scores(np.asarray(source.convert("RGB").resize(size, Image.LANCZOS)), truth))
            for model, run in runners.items():
                scores[model].append(y_scores(run(image), truth))
        cells = [f"{np.mean([s[0] for s in v]):.2f} / {np.mean([s[1] for s in v]):.4f}" for v in scores.values()]
        print(f"| {name} ({len(scores['bicubic'])} images) | " + " | ".join(cells) + " |", flush=True)


def reference(
    models: list[str], precisions: list[str], timing_set: str, repeat: int, esrgan: Path | None, basicsr: Path | None
) -> None:
    print(f"\n## Against the reference Real-ESRGAN inference ({timing_set}, best of {repeat}, same process)\n")
    if esrgan is None or basicsr is None or not (esrgan / "realesrgan").is_dir() or not (basicsr / "basicsr").is_dir():
        print("skipped: give --reference PATH/Real-ESRGAN and --basicsr PATH/BasicSR (checkouts) to compare")
        return
    classes = import_reference(esrgan, basicsr)
    images = [(name, rgb(low)) for name, low, _ in pairs(timing_set)]
    print("| model | precision | reference weights | PSNR ours vs reference (min / mean) | max abs diff | "
          "reference MP/s | ours MP/s | speed-up (total) | per-image speed-ups min / median / max |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            run_reference, weights = reference_runner(model, classes, Path(tmp))
            runs = {precision: ours(model, precision) for precision in precisions}
            for run in runs.values():
                run(images[0][1][:16, :16])  # load (and prepare the network) outside the timings
            best_ref: list[float] = []
            found: dict[str, dict[str, list[float]]] = {p: {"psnr": [], "diff": [], "best": []} for p in runs}
            pixels = 0
            for _, image in images:
                times: dict[str, list[float]] = {"reference": [], **{p: [] for p in runs}}
                outputs = {}
                for _ in range(repeat):  # alternating, so that the load of the shared CPU falls on both
                    started = time.perf_counter()
                    expected = run_reference(image)
                    times["reference"].append(time.perf_counter() - started)
                    for precision, run in runs.items():
                        started = time.perf_counter()
                        outputs[precision] = run(image)
                        times[precision].append(time.perf_counter() - started)
                best_ref.append(min(times["reference"]))
                for precision, result in outputs.items():
                    found[precision]["psnr"].append(psnr(result, expected))
                    found[precision]["diff"].append(float(np.abs(result.astype(int) - expected).max()))
                    found[precision]["best"].append(min(times[precision]))
                pixels += expected.shape[0] * expected.shape[1]
            megapixels = pixels / 1e6
            for precision, facts in found.items():
                ratios = [r / o for r, o in zip(best_ref, facts["best"], strict=True)]
                print(
                    f"| {model} | {precision} | {weights} | {min(facts['psnr']):.2f} / "
                    f"{statistics.mean(facts['psnr']):.2f} | {max(facts['diff']):.0f} | "
                    f"{megapixels / sum(best_ref):.4f} | {megapixels / sum(facts['best']):.4f} | "
                    f"{sum(best_ref) / sum(facts['best']):.2f}x | {min(ratios):.2f} / "
                    f"{statistics.median(ratios):.2f} / {max(ratios):.2f} |",
                    flush=True,
                )


def targets(repeat: int, esrgan: Path | None, basicsr: Path | None, megapixel: bool) -> None:
    from retouch.tools.upscale import choose_model, upscale
    from retouch.types import Picture

    print("\n## Targets (issue 12)\n")
    print(f"CPU: {cpu_name()}; {os.cpu_count()} logical CPUs; ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '-')}")
    photo = rgb(SR / "set14" / "img_010_SRF_4_HR.png")[100:228, 100:228].copy()
    if esrgan is None or basicsr is None:
        print("- x4plus against the reference: skipped (give --reference and --basicsr)")
    else:
        classes = import_reference(esrgan, basicsr)
        with tempfile.TemporaryDirectory() as tmp:
            run_reference, _ = reference_runner("realesrgan-x4plus", classes, Path(tmp))
            run_ours = ours("realesrgan-x4plus", "fp32")
            run_ours(photo[:16, :16])
            times: dict[str, list[float]] = {"reference": [], "ours": []}
            for _ in range(repeat):
                for name, run in (("reference", run_reference), ("ours", run_ours)):
                    started = time.perf_counter()
                    result = run(photo)
                    times[name].append(time.perf_counter() - started)
                    if name == "reference":
                        expected = result
                    else:
                        agreement = psnr(result, expected)
            ref_s, ours_s = statistics.median(times["reference"]), statistics.median(times["ours"])
            ratio = ref_s / ours_s
            verdict = "PASS" if ratio >= 2.0 and agreement >= 45.0 else "FAIL"
            print(f"- x4plus 128x128 -> 512x512, median of {repeat} interleaved: reference {ref_s:.2f} s "
                  f"{[round(t, 2) for t in times['reference']]}, ours (fp32, the default without bfloat16) {ours_s:.2f} s "
                  f"{[round(t, 2) for t in times['ours']]}: {ratio:.2f}x at {agreement:.2f} dB agreement "
                  f"(target 2x at 45 dB): {verdict}")  # fmt: skip
    if not megapixel:
        return
    with Image.open(SHARED / "eval" / "photos" / "kodak" / "kodim01.png") as source:
        big = np.asarray(source.convert("RGB").resize((1224, 816), Image.LANCZOS))
    auto_model, why = choose_model("auto", (1224, 816), 4.0, "cpu")
    for model, limit in ((auto_model, 60.0), ("realesrgan-x4plus", 300.0)):
        started = time.perf_counter()
        shape = upscale(Picture(big), model=model, scale=4, device="cpu", precision="fp32").pixels.shape
        elapsed = time.perf_counter() - started
        print(f"- 1 MP photo (1224x816) x4 -> {shape[1]}x{shape[0]} with {model} (fp32): {elapsed:.1f} s "
              f"(target under {limit:.0f} s): {'PASS' if elapsed < limit else 'FAIL'}", flush=True)
    print(f"- auto on this photo: {why}")


def tiling(model: str, tile: int) -> None:
    from retouch.tools.upscale import upscale
    from retouch.types import Picture

    picture = Picture(rgb(SR / "set14" / "img_010_SRF_4_HR.png"))  # 512x512
    started = time.perf_counter()
    tiled = upscale(picture, model=model, scale=4, tile=tile)
    tiled_s = time.perf_counter() - started
    started = time.perf_counter()
    whole = upscale(picture, model=model, scale=4, tile=4096)
    whole_s = time.perf_counter() - started
    print(f"\n## Tiling ({model}, 512x512 input, tile {tile}: 2x2 tiles, against one untiled run)\n")
    difference = int(np.abs(tiled.pixels.astype(int) - whole.pixels).max())
    print(f"PSNR tiled vs untiled: {psnr(tiled.pixels, whole.pixels):.2f} dB, max abs diff {difference}; "
          f"tiled {tiled_s:.1f} s, untiled {whole_s:.1f} s")  # fmt: skip


MEMORY_CHILD = r"""
import hashlib, json, os, resource, sys, tempfile
from pathlib import Path
import numpy as np, torch
from retouch.models import registry
from retouch.models.arch.rrdbnet import RRDBNet
from retouch.models.arch.srvgg import SRVGGNetCompact
from retouch.models.conventions import UpscaleConventions
from retouch.models.spec import ModelSpec, UrlSource, WeightFile
from retouch.tools.upscale import upscale
from retouch.types import Picture

# Random weights in the official layout, registered like shipped rows. "rrdbnet-1block": x4plus's network with
# one block instead of 23 (per tile the same memory: block count does not change the peak; 1/23 of the trunk's
# work). "cheap": a tiny compact network, for the pipeline's own memory over every tile.
model, limit = sys.argv[1], int(sys.argv[2])
home = Path(tempfile.mkdtemp())
os.environ["RETOUCH_HOME"] = str(home)
torch.manual_seed(0)
if model == "rrdbnet-1block":
    params = {"num_in_ch": 3, "num_out_ch": 3, "scale": 4, "num_feat": 64, "num_block": 1, "num_grow_ch": 32}
    net, architecture = RRDBNet(**params), "rrdbnet"
else:
    params = {"num_feat": 8, "num_conv": 1, "upscale": 4}
    net, architecture = SRVGGNetCompact(**params), "srvgg-compact"
(home / "models" / model).mkdir(parents=True)
path = home / "models" / model / "weights.pth"
torch.save({"params": net.state_dict()}, path)
data = path.read_bytes()
source = (UrlSource("https://example.invalid/weights.pth"),)
files = (WeightFile("weights.pth", hashlib.sha256(data).hexdigest(), len(data), source),)
registry._REGISTRY[model] = ModelSpec(
    model, "upscale", "pth", architecture, files, "MIT", True, "bench", UpscaleConventions(scale=4), params
)


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


class Enough(Exception):
    pass


pixels = np.frombuffer(np.random.default_rng(0).bytes(6000 * 8000 * 3), np.uint8).reshape(6000, 8000, 3)
before = round(rss_mb())
after = []
total = []


def progress(stage, done, count):
    total[:] = [count]
    if done:
        after.append(round(rss_mb()))
    if limit and done >= limit:
        raise Enough


try:
    result = upscale(Picture(pixels), model=model, scale=2, progress=progress, precision="fp32", max_pixels=0)
    shape = list(result.pixels.shape)
except Enough:
    shape = None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
facts = {"peak_mb": peak, "rss_before": before, "rss_after_tiles": after, "tiles": total[0], "output_shape": shape}
print(json.dumps(facts))
"""


def memory(tiles: int) -> None:
    print("\n## Memory: 8000x6000 RGB upscaled x2, default tiles (separate processes, random weights)\n")
    for name, limit in (("rrdbnet-1block", tiles), ("cheap", 0)):
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, name, str(limit)], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        if child.returncode != 0:
            print(f"- {name}: failed: {child.stderr.strip().splitlines()[-1]}")
            continue
        facts = json.loads(child.stdout.strip().splitlines()[-1])
        rss = facts["rss_after_tiles"]
        done = f"all {len(rss)} tiles, output {facts['output_shape']}"
        what = f"first {len(rss)} of {facts['tiles']} tiles" if limit else done
        shown = rss if len(rss) <= 16 else [*rss[:8], "...", *rss[-4:]]
        print(f"- {name} ({what}, {elapsed:.0f} s): peak RSS {facts['peak_mb']:.0f} MB; RSS (MB) with the input "
              f"loaded {facts['rss_before']}, after each tile: {shown}")  # fmt: skip


@contextmanager
def official_cache() -> Iterator[bool]:
    """Serve the official realesr-animevideov3.pth of ../shared/models to its row, from a temporary cache that
    links to it (the user's own cache is left alone); yields whether the file is there."""
    if not OFFICIAL_ANIMEVIDEO.is_file():
        yield False
        return
    previous = os.environ.get("RETOUCH_HOME")
    with tempfile.TemporaryDirectory() as home:
        folder = Path(home) / "models" / OFFICIAL_ROW
        folder.mkdir(parents=True)
        (folder / OFFICIAL_ANIMEVIDEO.name).symlink_to(OFFICIAL_ANIMEVIDEO)
        os.environ["RETOUCH_HOME"] = home
        try:
            yield True
        finally:
            if previous is None:
                del os.environ["RETOUCH_HOME"]
            else:
                os.environ["RETOUCH_HOME"] = previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(QUALITY_MODELS))
    parser.add_argument("--sets", default="set5,set14")
    parser.add_argument("--reference", type=Path, help="a checkout of xinntao/Real-ESRGAN")
    parser.add_argument("--basicsr", type=Path, help="a checkout of XPixelGroup/BasicSR")
    parser.add_argument("--timing-set", default="set5")
    parser.add_argument("--precisions", default="auto,fp32", help="ours: auto (bf16 where native), fp32, bf16")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--targets", action="store_true", help="issue 12's targets with PASS/FAIL")
    parser.add_argument("--no-megapixel", action="store_true", help="--targets without the 1 MP runs (minutes)")
    parser.add_argument("--tiling", action="store_true")
    parser.add_argument("--tiling-tile", type=int, default=256)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-tiles", type=int, default=14)
    args = parser.parse_args()
    if not SR.is_dir():
        sys.exit(f"evaluation images not found at {SR} (see ../shared/eval/MANIFEST.md)")
    if importlib.util.find_spec("retouch") is None:
        sys.exit("retouch is not importable: run with the project's virtual environment")
    models = [m for m in args.models.split(",") if m]
    from retouch.models.runtime import cpu_has_bf16

    print(f"# Upscale benchmark ({time.strftime('%Y-%m-%d %H:%M')}; command: {' '.join(sys.argv)})")
    print(f"\nThis CPU {'multiplies' if cpu_has_bf16() else 'does not multiply'} bfloat16 natively: "
          f"precision auto = {'bf16' if cpu_has_bf16() else 'fp32'}.")  # fmt: skip
    if args.targets:
        targets(args.repeat, args.reference, args.basicsr, not args.no_megapixel)
    if not args.skip_quality:
        quality(models, [s for s in args.sets.split(",") if s])
    with official_cache() as official:
        compared = models + ([OFFICIAL_ROW] if official and OFFICIAL_ROW not in models else [])
        precisions = [p for p in args.precisions.split(",") if p]
        reference(compared, precisions, args.timing_set, args.repeat, args.reference, args.basicsr)
    if args.tiling:
        tiling(models[0], args.tiling_tile)
    if args.memory:
        memory(args.memory_tiles)


if __name__ == "__main__":
    main()
