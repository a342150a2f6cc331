"""LaMa speed benchmark: our engine against the official implementation, same process, same weights, same inputs.

- official: ``FFCResNetGenerator`` imported from a checkout of advimman/lama (``--reference``), big-lama
  configuration, float32, eval mode, run as the training module's forward does: ``cat(image * (1 - mask), mask)``
  through the generator, then ``mask * prediction + (1 - mask) * image``. Its inputs are prepared outside the
  timing. The checkout's imports that the generator never uses (kornia, pytorch_lightning) are replaced by empty
  modules when they are not installed.
- ours: ``load_lama(...)`` and one engine call on the HxWx3 image and HxW mask (padding, conversions and
  compositing included), at the precision ``auto`` picks on this machine and at fp32.

Weights: ``--weights`` (best.ckpt or big-lama.pt); without it, random weights with random BatchNorm statistics
written as a Lightning-style checkpoint to a temporary file, which both implementations then load.

Sizes: ``--size`` takes several (default 512 and 1024), each its own image, mask and timings; the first call of
each implementation at each size is reported (at the first size: the first in the process). The verdict: the
official / ours ratio (median of the per-round wall ratios, and of the CPU times) at least ``TARGET`` at every size,
with ours-fp32 agreeing with the official output to float32 rounding (``AGREEMENT_DB``, ``AGREEMENT_MAX``).

Timing: one warm-up call each, then ``--runs`` rounds that call each implementation once, interleaved so both
see the same background load; medians with min-max, wall clock and process CPU time. Quality: PSNR of our
output against our fp32 output and against the official output, over the hole pixels (the only ones that can
differ), plus the largest absolute difference. Run from the repository root:

    .venv/bin/python bench/lama.py --reference /path/to/lama [--size 512 1024] [--runs 5] [--weights best.ckpt]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from masks import random_mask  # noqa: E402
from retouch.models.arch.lama import LamaGenerator  # noqa: E402
from retouch.models.checkpoint import read_checkpoint  # noqa: E402
from retouch.tools.erase.lama import STATE_KEYS, generator_state, load_lama  # noqa: E402

BIG_LAMA = dict(  # configs/training/big-lama.yaml, generator section
    input_nc=4,
    output_nc=3,
    ngf=64,
    n_downsampling=3,
    n_blocks=18,
    add_out_act="sigmoid",
    init_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
    downsample_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
    resnet_conv_kwargs=dict(ratio_gin=0.75, ratio_gout=0.75, enable_lfu=False),
)


def official_generator(checkout: Path, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    for name in ("kornia", "kornia.geometry", "kornia.geometry.transform", "pytorch_lightning"):
        try:
            __import__(name)
        except ImportError:  # only the generator's module chain imports these; it never calls them
            module = types.ModuleType(name)
            module.rotate = module.seed_everything = _unused  # type: ignore[attr-defined]
            sys.modules[name] = module
    sys.path.insert(0, str(checkout))
    from saicinpainting.training.modules.ffc import FFCResNetGenerator

    generator = FFCResNetGenerator(**BIG_LAMA)
    generator.load_state_dict(state, strict=True)
    return generator.eval()


def _unused(*args: object, **kwargs: object) -> None:
    raise RuntimeError("not used by the LaMa generator")


def random_checkpoint(path: Path, seed: int = 0) -> None:
    """big-lama with random weights and BatchNorm statistics, saved as {'state_dict': {'generator.*': ...}}."""
    with torch.device("meta"):
        generator = LamaGenerator()
    generator = generator.to_empty(device="cpu")
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in generator.state_dict().items():
            if not tensor.is_floating_point():
                tensor.zero_()
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=rng) * 1.5 + 0.5)
            elif name.endswith("running_mean"):
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * 0.2)
            elif tensor.ndim == 1 and name.endswith("weight"):
                tensor.copy_((torch.rand(tensor.shape, generator=rng) + 0.5) * 0.5)
            elif tensor.ndim == 1:
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * 0.1)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * (2.0 / tensor[0].numel()) ** 0.5)
    state = {f"generator.{key}": value for key, value in generator.state_dict().items()}
    torch.save({"state_dict": state, "pytorch-lightning_version": "1.2.9"}, path)


def test_inputs(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth synthetic photo with grain, and a LaMa-style 'medium' mask."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = np.stack([0.3 + 0.4 * y, 0.5 + 0.3 * np.sin(6 * x), 0.8 - 0.5 * y * x], axis=2)
    image = np.clip(base + rng.normal(0, 0.03, (size, size, 3)), 0, 1).astype(np.float32)
    return image, random_mask("medium", size, size, np.random.default_rng(seed))


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} s  (min {min(values):.2f}, max {max(values):.2f})"


def hole_psnr(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    mse = float(np.mean((a[hole].astype(np.float64) - b[hole]) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


TARGET = 2.0  # issue 12: at least twice as fast as the official code at 512 and 1024
# Agreement as before the speed work (ours-fp32 vs official on random weights: 133 dB, max |diff| 1.1e-6 to
# 2.7e-6): float32 rounding only.
AGREEMENT_DB, AGREEMENT_MAX = 120.0, 1e-5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, help="checkout of github.com/advimman/lama")
    parser.add_argument("--weights", type=Path, help="best.ckpt or big-lama.pt (default: random weights)")
    parser.add_argument("--size", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument(
        "--precision", default="auto", help="ours: auto (bf16 where native), fp32 (what CPUs without bf16 run)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights
        if weights is None:
            weights = Path(tmp) / "best.ckpt"
            random_checkpoint(weights)
        cpu = torch.device("cpu")
        ours = load_lama(weights, cpu, precision=args.precision)
        exact = load_lama(weights, cpu, precision="fp32")
        official = None
        if args.reference is None:
            print("no --reference checkout given: the official implementation is skipped")
        else:
            state = generator_state(read_checkpoint(weights, STATE_KEYS), weights)
            official = official_generator(args.reference, state)

    verdicts = [compare(size, args.runs, ours, exact, official) for size in args.size]
    if official is not None:
        print(f"target {TARGET:.1f}x at every size with agreement >= {AGREEMENT_DB:.0f} dB and max |diff| <= "
              f"{AGREEMENT_MAX:.0e}: {'PASS' if all(verdicts) else 'FAIL'}")


def compare(size: int, runs: int, ours: Callable, exact: Callable, official: torch.nn.Module | None) -> bool:
    """One size: agreement, first calls, then ``runs`` interleaved rounds. Returns whether the target holds."""
    image, hole = test_inputs(size)
    rgb = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
    mask = torch.from_numpy(hole.astype(np.float32))[None, None]

    def run_official() -> np.ndarray:
        assert official is not None
        with torch.inference_mode():
            predicted = official(torch.cat((rgb * (1 - mask), mask), dim=1))
            return (mask * predicted + (1 - mask) * rgb)[0].permute(1, 2, 0).numpy()

    bf16 = ours.network.stem.weight.dtype == torch.bfloat16
    print(
        f"\nLaMa {size}x{size}, hole {hole.mean():.0%} of the image, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; ours at {'bf16' if bf16 else 'fp32'}"
    )
    first: dict[str, float] = {}
    start = time.perf_counter()
    reference = exact(image, hole)
    first["ours-fp32"] = time.perf_counter() - start
    start = time.perf_counter()
    result = ours(image, hole)
    first["ours"] = time.perf_counter() - start
    print(f"ours vs ours-fp32:      hole PSNR {hole_psnr(result, reference, hole):6.1f} dB, "
          f"max |diff| {np.abs(result - reference).max():.2e}")
    contenders: dict[str, Callable[[], object]] = {"ours": lambda: ours(image, hole)}
    agreement, largest = float("inf"), 0.0
    if official is not None:
        start = time.perf_counter()
        expected = run_official()
        first["official"] = time.perf_counter() - start
        agreement, largest = hole_psnr(reference, expected, hole), float(np.abs(reference - expected).max())
        print(f"ours-fp32 vs official: hole PSNR {agreement:6.1f} dB, max |diff| {largest:.2e}")
        print(f"ours vs official:      hole PSNR {hole_psnr(result, expected, hole):6.1f} dB")
        contenders = {"official": run_official, **contenders}
    print("first calls (at this size; ours-fp32 first in the process at the first size): "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in first.items()))

    times: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            times[name].append(timed(fn))
    for name, samples in times.items():
        print(f"{name:9s} wall {summary([w for w, _ in samples])}   cpu {summary([c for _, c in samples])}")
    if official is None:
        return False
    ratios = [o[0] / u[0] for o, u in zip(times["official"], times["ours"])]
    wall = statistics.median(w for w, _ in times["official"]) / statistics.median(w for w, _ in times["ours"])
    cpu_ratio = statistics.median(c for _, c in times["official"]) / statistics.median(c for _, c in times["ours"])
    print(f"speed-up (official / ours): {wall:.2f}x wall (per-round {min(ratios):.2f}-{max(ratios):.2f}, median "
          f"{statistics.median(ratios):.2f}), {cpu_ratio:.2f}x cpu")
    fast = statistics.median(ratios) >= TARGET and cpu_ratio >= TARGET
    agrees = agreement >= AGREEMENT_DB and largest <= AGREEMENT_MAX
    print(f"{size}: speed {'PASS' if fast else 'FAIL'} (target {TARGET:.1f}x: median per-round wall ratio "
          f"{statistics.median(ratios):.2f}x, cpu {cpu_ratio:.2f}x), agreement {'PASS' if agrees else 'FAIL'} "
          f"({agreement:.1f} dB, max |diff| {largest:.1e})")
    return fast and agrees


if __name__ == "__main__":
    main()
