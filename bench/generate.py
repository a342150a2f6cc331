"""Generate benchmark (issue 18): seconds per 512x512 image and peak memory of the diffusion backend, for each
supported family and step count, on the CPU in bfloat16 and in float32 (or on a GPU with ``--device cuda``).

No real weights can be fetched here, and speed and memory do not depend on the weights' values: each family's
real architecture is built from its published configuration with random weights (seed 0), saved the way
``retouch models pull`` leaves a "diffusers" row (one safetensors per network: float16 as the hub's fp16 variants,
float32 for the sd15 family as the catalogue's row ships them; a stand-in CLIP BPE vocabulary, printable ASCII with no merges, since the text encoder reads 77 padded
positions whatever the tokens; the configurations as row data) in a private Retouch home (``--home``,
default /tmp/retouch-bench-generate, written once and reused while the configurations are unchanged), and run
through the real tool path, ``retouch.generate(...)``. The images are noise: the figures are speed and memory
only. Families (the configurations are the diffusers ``config.json`` values of the named hub repositories):

- sd15-lcm: Stable Diffusion 1.5 (runwayml/stable-diffusion-v1-5: UNet 860M parameters, VAE 84M, CLIP ViT-L/14
  text encoder 123M, and the safety checker it ships, a CLIP ViT-L/14 vision tower 304M) with the LCM sampler,
  as an LCM-LoRA merge (latent-consistency/lcm-lora-sdv1-5) runs: the LoRA merged, the networks are SD 1.5's.
- sd21-turbo: SD-Turbo (stabilityai/sd-turbo, a distillation of stabilityai/stable-diffusion-2-1-base: UNet 866M,
  the same VAE, OpenCLIP ViT-H/14 text encoder 340M, no safety checker) with the Euler-ancestral sampler.
- sd15: the catalogue's ``stable-diffusion-1.5`` row as it runs (its own configurations, from
  ``retouch.models.stable_diffusion``): guided DPM-Solver++ (guidance 7.5, the prompt and the empty prompt each
  step), 20 steps by default.

The first two run with guidance off, as few-step models do. Each configuration (family, precision, steps) runs in
its own process: imports, then the model load (``backend.load_model``, timed alone), then ``--runs`` images
(seed 0, a fixed prompt), each timed around ``retouch.generate``; the peak resident memory is that process's
ru_maxrss (the load's transient copies included). ``retouch.generate`` takes no precision, so for a run in a
precision other than "auto" the process binds ``load_model``'s ``precision`` before calling it: float32 is what
"auto" picks on a CPU without native bfloat16 (such as AVX2-only EPYCs), bfloat16 what it picks on this Xeon.

Printed: a table (imports, load, the first image, the median of the runs, peak memory, the 1-minute load average when
the configuration started, the pipeline's dtype), then which configurations meet issue 18's "one 512x512 result
under a minute": warm (the median image, a loaded model as the server keeps it) and cold (imports + load + the
first image, as one ``retouch generate`` command pays). Contact sheet (``--sheet``, the default):
bench/out/generate_sheet.png, the last image of each configuration with its label (noise: it shows that every
configuration made a finite 512x512 picture, not a black or NaN one).

Run from the repository root (a full CPU run: about 25 minutes on 2 quiet cores, plus 2-3 minutes the first time
to write the rows; on shared cores far longer, see docs/benchmarks.md):

    .venv/bin/python bench/generate.py --families sd15-lcm,sd21-turbo      # the few-step families, 3 runs each
    .venv/bin/python bench/generate.py --families sd15 --steps 20 --runs 2    # the catalogue's row
    .venv/bin/python bench/generate.py --families sd15-lcm --steps 1,4 --precisions bf16 --runs 1   # a quick look
    .venv/bin/python bench/generate.py --device cuda                      # on a GPU (float16)
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Python puts this script's folder first on the path, where bench/select.py would hide the standard library's
# select (which subprocess uses): the folder goes to the end instead (for bench/machine.py).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH] + [str(BENCH)]
sys.path.insert(0, str(ROOT / "src"))

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from machine import cpu_name

from retouch.models import stable_diffusion
from retouch.tools.options.generate import MAX_STEPS

SIDE = 512
PROMPT = "a lighthouse on a rocky coast at dusk, photograph"
TARGET_S = 60.0  # issue 18: one 512x512 result under a minute on this 2-core machine
SHEET = BENCH / "out" / "generate_sheet.png"
PRECISIONS = ("bf16", "fp32", "auto")

# SD 1.5's configurations are those of the catalogue's row (retouch.models.stable_diffusion: the official
# repository's config.json values)
SD15_UNET = stable_diffusion.UNET
# stabilityai/sd-turbo (= stabilityai/stable-diffusion-2-1-base), unet/config.json: per-block head counts, a
# 1024-wide text context, linear projections in the transformers
SD21_UNET = {
    **SD15_UNET,
    "cross_attention_dim": 1024,
    "attention_head_dim": [5, 10, 20, 20],
    "use_linear_projection": True,
}
VAE = stable_diffusion.VAE  # the same in both
CLIP_VOCAB = 49408
# text_encoder/config.json: CLIP ViT-L/14's text tower (SD 1.5), OpenCLIP ViT-H/14's less its last layer (SD 2.x)
SD15_TEXT = stable_diffusion.TEXT_ENCODER
SD21_TEXT = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_attention_heads": 16,
    "num_hidden_layers": 23,
    "projection_dim": 512,
    "hidden_act": "gelu",
}
# scheduler/scheduler_config.json
SD15_SCHEDULER = stable_diffusion.SCHEDULER
SD21_SCHEDULER = {**SD15_SCHEDULER, "timestep_spacing": "trailing"}
SAFETY_CHECKER = stable_diffusion.SAFETY_CHECKER  # SD 1.5's: only the vision tower runs
FEATURE_EXTRACTOR = stable_diffusion.FEATURE_EXTRACTOR


@dataclass(frozen=True)
class Family:
    name: str
    sampler: str
    unet: dict[str, Any]
    text: dict[str, Any]
    scheduler: dict[str, Any]
    safety_checker: bool
    default_steps: int
    guidance: float = 0.0  # classifier-free guidance: the prompt runs twice a step
    file_dtype: str = "float16"  # the files' precision, as the row ships them (the hub's fp16 variants by default)


FAMILIES = {
    "sd15-lcm": Family("sd15-lcm", "lcm", SD15_UNET, SD15_TEXT, SD15_SCHEDULER, True, 4),
    # the catalogue's stable-diffusion-1.5 row as it runs: guided DPM-Solver++, 20 steps
    "sd15": Family(
        "sd15", "dpm-solver", SD15_UNET, SD15_TEXT, SD15_SCHEDULER, True, 20, guidance=7.5, file_dtype="float32"
    ),
    "sd21-turbo": Family("sd21-turbo", "euler-ancestral", SD21_UNET, SD21_TEXT, SD21_SCHEDULER, False, 1),
}


# --- the row: files in a private Retouch home ------------------------------------------------------------------


def row_name(family: Family) -> str:
    return f"bench-{family.name}"


def vocabulary() -> dict[str, int]:
    """Printable ASCII (each character alone and word-final, as CLIP's byte-level BPE writes them) and CLIP's two
    special tokens: a prompt tokenizes letter by letter (no merges), and the text encoder reads its 77 padded
    positions whatever the tokens, so its cost is that of the real vocabulary."""
    chars = [chr(code) for code in range(33, 127)]
    tokens = [*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(tokens)}


def text_config(family: Family) -> dict[str, Any]:
    vocab = vocabulary()
    return {
        **family.text,
        "vocab_size": CLIP_VOCAB,
        "max_position_embeddings": 77,
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }


def arch_params(family: Family) -> dict[str, Any]:
    params = {
        "unet": json.dumps(family.unet),
        "vae": json.dumps(VAE),
        "text_encoder": json.dumps(text_config(family)),
        "tokenizer": json.dumps({"pad_token": "<|endoftext|>", "model_max_length": 77}),
        "scheduler": json.dumps(family.scheduler),
        "sampler": family.sampler,
        "default_steps": family.default_steps,
    }
    if family.guidance:
        params["guidance"] = family.guidance
    if family.safety_checker:
        params["safety_checker"] = json.dumps(SAFETY_CHECKER)
        params["feature_extractor"] = json.dumps(FEATURE_EXTRACTOR)
    return params


def write_row(family: Family, home: Path) -> dict[str, tuple[str, int]]:
    """The family's files in ``home``'s model cache (filename -> (sha256, size)); written once, then reused
    while their configurations are those of this script (the manifest records them)."""
    folder = home / "models" / row_name(family)
    manifest = folder / "bench-manifest.json"
    params = {**arch_params(family), "file_dtype": family.file_dtype}
    if manifest.is_file():
        recorded = json.loads(manifest.read_text())
        if recorded["params"] == params and all(
            (folder / name).is_file() and (folder / name).stat().st_size == size
            for name, (_sha, size) in recorded["files"].items()
        ):
            return {name: (sha, size) for name, (sha, size) in recorded["files"].items()}
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPConfig, CLIPTextConfig, CLIPTextModel

    print(f"   writing the {family.name} row's random weights into {folder} ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    builders = {
        "unet": lambda: UNet2DConditionModel(**family.unet),
        "vae": lambda: AutoencoderKL(**VAE),
        "text_encoder": lambda: CLIPTextModel(CLIPTextConfig(**text_config(family))),
    }
    if family.safety_checker:
        builders["safety_checker"] = lambda: _safety_checker(CLIPConfig(**SAFETY_CHECKER))
    files: dict[str, tuple[str, int]] = {}
    for name, build in builders.items():
        network = build()
        state = {k: v.to(getattr(torch, family.file_dtype)).contiguous() for k, v in network.state_dict().items()}
        del network
        path = folder / f"{name}.safetensors"
        save_file(state, str(path))
        del state
        files[path.name] = (_sha256(path), path.stat().st_size)
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps(vocabulary()), encoding="utf-8")
    merges = folder / "merges.txt"
    merges.write_text("#version: 0.2\n", encoding="utf-8")
    for path in (vocab, merges):
        files[path.name] = (_sha256(path), path.stat().st_size)
    manifest.write_text(json.dumps({"params": params, "files": files}), encoding="utf-8")
    return files


def _safety_checker(config: Any) -> Any:
    """SD 1.5's checker with every concept threshold above any cosine: random embeddings flag no image."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker

    checker = StableDiffusionSafetyChecker(config)
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(2.0)
        checker.special_care_embeds_weights.fill_(2.0)
    return checker


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def row_spec(family: Family, files: dict[str, tuple[str, int]]) -> Any:
    """The registry row of the written files, each pinned by its sha256 and size as a real row is."""
    from retouch.models.spec import ModelSpec, UrlSource, WeightFile

    name = row_name(family)
    weights = tuple(
        WeightFile(filename=f, sha256=sha, size=size, sources=(UrlSource(f"https://example.invalid/{name}/{f}"),))
        for f, (sha, size) in files.items()
    )
    return ModelSpec(
        name=name,
        task="generate",
        format="diffusers",
        architecture="stable-diffusion",
        files=weights,
        license="random weights (benchmark only)",
        permissive=True,
        description=f"{family.name}'s architecture with random weights, for bench/generate.py",
        arch_params=arch_params(family),
    )


# --- one configuration, in its own process ---------------------------------------------------------------------


def child(family: Family, precision: str, steps: int, runs: int, device: str, image_out: Path | None) -> None:
    """Load, run ``runs`` images, print one JSON line of figures (the parent reads the last line)."""
    started = time.perf_counter()
    from functools import partial

    # the backend imports the pipelines (diffusers, transformers) at its first load: counted with the imports
    from diffusers import StableDiffusionPipeline  # noqa: F401
    import torch

    import retouch
    from retouch.models import registry
    from retouch.tools.generate import backend

    imports_s = time.perf_counter() - started
    manifest = json.loads((Path(os.environ["RETOUCH_HOME"]) / "models" / row_name(family) /
                           "bench-manifest.json").read_text())
    spec = row_spec(family, {name: (sha, size) for name, (sha, size) in manifest["files"].items()})
    registry._REGISTRY[spec.name] = spec  # the row as if it shipped in the catalogue
    started = time.perf_counter()
    model = backend.load_model(spec, device=device, precision=precision)
    load_s = time.perf_counter() - started
    # retouch.generate calls load_model(spec, device=device): bound here to this precision, it finds the pipeline
    # just loaded in the backend's cache
    backend.load_model = partial(backend.load_model, precision=precision)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    seconds = []
    picture = None
    for _ in range(runs):
        started = time.perf_counter()
        picture = retouch.generate(PROMPT, size=(SIDE, SIDE), seed=0, steps=steps, model=spec.name, device=device)
        seconds.append(time.perf_counter() - started)
    assert picture is not None
    if image_out is not None:
        from PIL import Image

        Image.fromarray(picture.pixels).save(image_out)
    print(json.dumps({
        "imports_s": imports_s,
        "load_s": load_s,
        "seconds": seconds,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "gpu_peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
        "dtype": str(model.text2image.unet.dtype).removeprefix("torch."),
        "varied": bool(picture.pixels.std() > 0),  # a NaN latent decodes to one flat colour
    }))


@dataclass(frozen=True)
class Result:
    family: str
    precision: str
    steps: int
    load_avg: float
    figures: dict[str, Any] | None  # None: the process failed
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.figures["seconds"]) if self.figures else float("nan")

    @property
    def cold(self) -> float:
        """One ``retouch generate`` command's share: imports, load and the first image."""
        f = self.figures
        return f["imports_s"] + f["load_s"] + f["seconds"][0] if f else float("nan")


def run_configuration(
    family: Family, precision: str, steps: int, runs: int, device: str, home: Path, image_out: Path | None
) -> Result:
    load_avg = os.getloadavg()[0]
    command = [sys.executable, __file__, "--child", family.name, precision, str(steps), str(runs),
               "--device", device, "--home", str(home)]
    if image_out is not None:
        command += ["--image-out", str(image_out)]
    env = {**os.environ, "RETOUCH_HOME": str(home), "RETOUCH_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(family.name, precision, steps, load_avg, None, f"exit {done.returncode}: {last}")
    return Result(family.name, precision, steps, load_avg, json.loads(lines[-1]))


# --- the report ------------------------------------------------------------------------------------------------


def print_header(device: str) -> None:
    memory = "GPU peak GiB" if device == "cuda" else "peak RSS GiB"
    print(f"   {'family':<11} {'precision':<9} {'steps':>5} {'imports s':>9} {'load s':>7} {'first s':>8} "
          f"{'median s':>9} {'runs':>4} {memory:>12} {'load avg':>8}  dtype", flush=True)


def print_row(r: Result, device: str) -> None:
    f = r.figures
    if f is None:
        print(f"   {r.family:<11} {r.precision:<9} {r.steps:>5}  FAILED ({r.error})", flush=True)
        return
    peak = f["gpu_peak_gib"] if device == "cuda" else f["peak_rss_gib"]
    note = "" if f["varied"] else "  (the image is one flat colour: NaNs?)"
    print(f"   {r.family:<11} {r.precision:<9} {r.steps:>5} {f['imports_s']:>9.1f} {f['load_s']:>7.1f} "
          f"{f['seconds'][0]:>8.1f} {r.median:>9.1f} {len(f['seconds']):>4} {peak:>12.2f} {r.load_avg:>8.2f}  "
          f"{f['dtype']}{note}", flush=True)


def print_targets(results: list[Result]) -> None:
    print(f"\n   issue 18: one {SIDE}x{SIDE} result under {TARGET_S:.0f} s "
          "(warm: the median image, model loaded; cold: imports + load + first image, one command)")
    for r in results:
        if r.figures is None:
            continue
        warm = "PASS" if r.median < TARGET_S else "FAIL"
        cold = "PASS" if r.cold < TARGET_S else "FAIL"
        print(f"   {r.family:<11} {r.precision:<5} {r.steps} step(s): warm {warm} ({r.median:.1f} s), "
              f"cold {cold} ({r.cold:.1f} s)")


def write_sheet(images: list[tuple[str, Path]], path: Path) -> None:
    """The images at half size in rows of four, each under its label."""
    from PIL import Image, ImageDraw

    tile, label, columns = SIDE // 2, 18, 4
    shown = [(text, p) for text, p in images if p.is_file()]
    if not shown:
        return
    rows = -(-len(shown) // columns)
    sheet = Image.new("RGB", (columns * tile, rows * (tile + label)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (text, image_path) in enumerate(shown):
        x, y = (i % columns) * tile, (i // columns) * (tile + label)
        draw.text((x + 4, y + 3), text, fill="black")
        sheet.paste(Image.open(image_path).convert("RGB").resize((tile, tile)), (x, y + label))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    print(f"\n   contact sheet: {path}")


def _choices(text: str, known: tuple[str, ...] | list[str], what: str) -> list[str]:
    chosen = [t for t in text.split(",") if t]
    unknown = [t for t in chosen if t not in known]
    if unknown or not chosen:
        sys.exit(f"unknown {what} {unknown}; choose from: {', '.join(known)}")
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--steps", default="1,2,4,8", help=f"comma-separated step counts, 1 to {MAX_STEPS} (default: 1,2,4,8)")
    ap.add_argument("--precisions", default="bf16,fp32",
                    help="CPU precisions, comma-separated: bf16, fp32, auto (default: bf16,fp32; a GPU runs float16)")
    ap.add_argument("--runs", type=int, default=3, help="images per configuration; the median is reported")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--home", type=Path, default=Path("/tmp/retouch-bench-generate"),
                    help="the private Retouch home the rows are written into (kept for the next run)")
    ap.add_argument("--sheet", action=argparse.BooleanOptionalAction, default=True,
                    help=f"write the contact sheet {SHEET.relative_to(ROOT)} (default: yes)")
    ap.add_argument("--child", nargs=4, metavar=("FAMILY", "PRECISION", "STEPS", "RUNS"), help=argparse.SUPPRESS)
    ap.add_argument("--image-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        name, precision, steps, runs = args.child
        child(FAMILIES[name], precision, int(steps), int(runs), args.device, args.image_out)
        return
    families = _choices(args.families, list(FAMILIES), "families")
    precisions = _choices(args.precisions, PRECISIONS, "precisions")
    if args.device == "cuda":
        precisions = ["auto"]  # float16 on a GPU whatever the CPU precision
    try:
        steps = sorted({int(s) for s in args.steps.split(",") if s})
    except ValueError:
        sys.exit(f"--steps takes whole numbers, got {args.steps!r}")
    if not steps or not all(1 <= s <= MAX_STEPS for s in steps) or args.runs < 1:
        sys.exit(f"--steps are 1 to {MAX_STEPS} and --runs at least 1")

    print(f"generate benchmark: {SIDE}x{SIDE}, {args.device}"
          f"{'' if args.device == 'cuda' else f' ({cpu_name()}, {os.cpu_count()} cores)'}, "
          f"random weights (speed and memory only), {args.runs} run(s) per configuration")
    print(f"   load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    started = time.perf_counter()
    for name in families:
        write_row(FAMILIES[name], args.home)
    scratch = args.home / "images"
    scratch.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    images: list[tuple[str, Path]] = []
    print()
    print_header(args.device)
    for precision in precisions:  # every family in one precision first: a cut-short run still compares them
        for name in families:
            for count in steps:
                image = scratch / f"{name}-{precision}-{count}.png" if args.sheet else None
                results.append(run_configuration(FAMILIES[name], precision, count, args.runs, args.device,
                                                 args.home, image))
                print_row(results[-1], args.device)  # as each ends, so a run cut short keeps its figures
                if image is not None:
                    images.append((f"{name} {precision} {count} step(s)", image))
    print("\n   all configurations:")
    print_header(args.device)
    for result in results:
        print_row(result, args.device)
    print_targets(results)
    if args.sheet:
        write_sheet(images, SHEET)
    print(f"\n   load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"   (whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
