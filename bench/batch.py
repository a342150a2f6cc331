"""Batch throughput (issue 17): photos per minute per tool on this machine, `retouch batch` against the loops a
user would otherwise write.

Inputs: --count JPEGs (default 24) made from the Kodak photos in ../shared/eval/photos/kodak (768x512 or
512x768, or --enlarge'd: erase takes about 0.1 s of work on a Kodak photo, so a batch of 24 of them mostly
measures starting up; past 24 the photos repeat, mirrored) in a temporary folder, never in the repository.
upscale gets centre crops of --upscale-size pixels instead (its x4 network takes seconds per small crop on a
CPU); erase gets
one mask per photo (``bench/masks.py``'s ``object`` kind: one blob over 5-15% of the frame, seed --seed) given as
``--masks DIR``; every tool runs with its defaults (erase: the auto engine; cutout: u2netp, which setup pulls).

Per tool, the same folder through, each a fresh process timed from its start to its exit (its last file written),
its outputs counted (a run that leaves fewer than --count is reported as failed):
  (a) ``retouch batch TOOL --workers 1 --threads 1``   one worker held to one thread
  (b) ``retouch batch TOOL --workers 1``               one worker, all the cores' threads
  (c) ``retouch batch TOOL --workers 2``               two workers
  (d) ``retouch batch TOOL --engine ray --workers 2``  Ray on this machine ("not available" until it is)
  (e) a bash ``for`` loop calling ``retouch TOOL FILE -o OUT`` once per file, as a user would
  (f) cutout only: ``rembg p -m u2netp IN OUT`` (rembg's own folder command, onnxruntime on every core),
      offline: U2NET_HOME points at Retouch's copy of u2netp.onnx (the same file as rembg's, md5 checked by
      rembg). rembg's command line needs the ``rembg[cli]`` extra; without it (f) says so; --rembg names
      another rembg executable.
Printed: photos/min, the CPU time of the run's processes per second of wall time ("cores used": 2.0 is both
cores busy all along; for (d) only what Ray's processes report back to theirs when they end), how busy the whole machine was meanwhile (/proc/stat: other users' work included) and the
1-minute load average before each run (the machine may be shared). Then the ratios: (c)/(a), target 1.6 or more
(the batch keeps both cores busy); (c)/(e), target 2 or more (against the shell loop); (d)/(c) (Ray's overhead
against local workers); (c)/(f) (against rembg); PASS/FAIL for erase, cutout and upscale (the targets of issue
17); exit status 1 on a FAIL. Each tool first runs once untimed on one photo, so that every timed run finds the
libraries and weights in the page cache.

Contact sheet (default; --no-sheet): bench/out/batch_sheet.png, a row per tool: an input (the fourth photo,
kodim04, a portrait; erase's hole in magenta), its (c) output and its (e) output; with each row's mean absolute difference between the (c) and (e) outputs over all photos
(0-255 scale; the batch runs the single-photo command, so it should be 0 or close to it).

Run from the repository root:

    .venv/bin/python bench/batch.py                    # erase, cutout, upscale on 24 photos (~8 min on an idle machine)
    .venv/bin/python bench/batch.py --quick            # a smoke run (about 2 minutes): 4 photos, 64 px upscale
    .venv/bin/python bench/batch.py --tools detext,relight --runs a,c,e
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Python puts this script's folder first on the path, where bench/select.py would hide the standard library's
# select (which subprocess uses): the folder goes to the end instead (for bench/masks.py).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH] + [str(BENCH)]

import argparse
import importlib.util
import os
import resource
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from machine import cpu_name
from masks import benchmark_masks

ROOT = BENCH.parent
KODAK = ROOT.parent / "shared" / "eval" / "photos" / "kodak"
RETOUCH = str(Path(sys.executable).with_name("retouch"))
REMBG = str(Path(sys.executable).with_name("rembg"))
SHEET = BENCH / "out" / "batch_sheet.png"
SHEET_PHOTO = 3  # the photo the sheet shows (kodim04, a portrait: a subject for cutout), or the last one
TARGETS = {"scaling": 1.6, "loop": 2.0}  # (c)/(a) and (c)/(e), for the tools of TARGET_TOOLS
TARGET_TOOLS = ("erase", "cutout", "upscale")
RUNS = {
    "a": "batch, 1 worker x 1 thread",
    "b": "batch, 1 worker",
    "c": "batch, 2 workers",
    "d": "batch, Ray (2 workers)",
    "e": "shell loop of retouch TOOL",
    "f": "rembg p -m u2netp",
}
STOP_S = 10.0  # how long a run interrupted by Ctrl+C gets to stop before it is killed
NOT_AVAILABLE = 2  # the exit status of a CLI refusing what it cannot do (an unavailable engine: InvalidInput)


@dataclass(frozen=True)
class ToolSetup:
    suffix: str  # of the outputs (the batch's default for a JPEG input; the loop names its outputs the same)
    flags: tuple[str, ...] = ()  # options the tool needs (given to the batch and to the loop alike)


TOOLS = {
    "erase": ToolSetup("jpg"),
    "cutout": ToolSetup("png"),  # a transparent result: PNG
    "upscale": ToolSetup("jpg"),
    "detext": ToolSetup("jpg"),
    "replace-bg": ToolSetup("jpg", ("--with", "white")),
    "restore": ToolSetup("jpg"),
    "relight": ToolSetup("jpg"),
}


@dataclass
class Result:
    run: str
    seconds: float = 0.0
    outputs: int = 0
    cores: float = 0.0  # CPU seconds of the run's processes per wall second
    machine: float = 0.0  # fraction of all the machine's CPU time spent busy during the run (everyone's)
    load: float = 0.0  # 1-minute load average just before
    problem: str | None = None  # why there is no timing ("not available: ...", "failed: ...")

    def per_minute(self, count: int) -> float:
        return 60 * count / self.seconds if self.problem is None and self.seconds > 0 else 0.0


@dataclass
class Folder:
    """The inputs of one tool: photos (and masks), all JPEGs named photoNNN.jpg."""

    photos: Path
    masks: Path | None
    names: list[str] = field(default_factory=list)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_inputs(tool: str, count: int, upscale_size: int, enlarge: float, seed: int, where: Path) -> Folder:
    kodak = sorted(KODAK.glob("kodim*.png"))
    folder = Folder(where / "photos", where / "masks" if tool == "erase" else None)
    folder.photos.mkdir(parents=True)
    pictures = []
    for index in range(count):
        picture = Image.open(kodak[index % len(kodak)]).convert("RGB")
        if (index // len(kodak)) % 2:
            picture = ImageOps.mirror(picture)
        if tool == "upscale":
            left, top = (picture.width - upscale_size) // 2, (picture.height - upscale_size) // 2
            picture = picture.crop((left, top, left + upscale_size, top + upscale_size))
        elif enlarge != 1:
            size = (round(picture.width * enlarge), round(picture.height * enlarge))
            picture = picture.resize(size, Image.BICUBIC)
        name = f"photo{index:03d}"
        picture.save(folder.photos / f"{name}.jpg", quality=92)
        folder.names.append(name)
        pictures.append(picture)
    if folder.masks is not None:
        folder.masks.mkdir()
        holes = benchmark_masks("object", [(p.height, p.width) for p in pictures], seed=seed)
        for name, hole in zip(folder.names, holes):
            Image.fromarray(hole.astype(np.uint8) * 255).save(folder.masks / f"{name}.png")
    return folder


def batch_command(tool: str, folder: Folder, out: Path, *options: str) -> list[str]:
    masks = ["--masks", str(folder.masks)] if folder.masks is not None else []
    return [RETOUCH, "batch", tool, str(folder.photos), "-o", str(out), *masks, *options, *TOOLS[tool].flags]


def loop_command(tool: str, folder: Folder, out: Path) -> list[str]:
    """A bash for loop over the folder, one `retouch TOOL` per photo, as a user would type it."""
    mask = ' --mask "$3/$name.png"' if folder.masks is not None else ""
    flags = " ".join(shlex.quote(flag) for flag in TOOLS[tool].flags)
    script = (
        f'mkdir -p "$2" && for f in "$1"/*.jpg; do name=$(basename "$f" .jpg); '
        f'{shlex.quote(RETOUCH)} {tool} "$f" -o "$2/$name.{TOOLS[tool].suffix}"{mask} {flags} || exit 1; done'
    )
    return ["bash", "-c", script, "loop", str(folder.photos), str(out), str(folder.masks or "")]


def rembg_model_home() -> Path:
    """The folder holding Retouch's u2netp.onnx, which rembg finds there (U2NET_HOME) instead of downloading."""
    from retouch.models.weights import resolve_weights

    return resolve_weights("u2netp", allow_download=False).parent


def timed(run: str, command: list[str], out: Path, suffix: str, count: int, log: Path,
          timeout: float, env: dict[str, str] | None = None) -> Result:
    """Run ``command`` to its end; its wall time, its processes' CPU time, and how many outputs it left."""
    result = Result(run, load=os.getloadavg()[0])
    busy, total = cpu_jiffies()
    used = children_cpu()
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
        except BaseException:  # Ctrl+C or SIGTERM: the run is in a session of its own, which the terminal's
            stop_group(process)  # Ctrl+C does not reach, so it is stopped here
            raise
    result.seconds = time.perf_counter() - started
    result.cores = (children_cpu() - used) / result.seconds
    busy_after, total_after = cpu_jiffies()
    result.machine = (busy_after - busy) / max(1, total_after - total)
    result.outputs = len(list(out.glob(f"*.{suffix}"))) if out.is_dir() else 0
    last = next((line for line in reversed(log.read_text(errors="replace").splitlines()) if line.strip()), "")
    if code is None:
        result.problem = f"failed: still running after {timeout:.0f} s"
    elif run == "d" and result.outputs == 0 and (code == NOT_AVAILABLE or "ImportError" in last
                                                  or "ModuleNotFoundError" in last):
        result.problem = f"not available: {last}"
    elif code != 0 or result.outputs != count:
        result.problem = f"failed (exit status {code}, {result.outputs}/{count} outputs): {last}"
    return result


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a run as Ctrl+C in its terminal would (SIGINT to its process group: `retouch batch` stops its workers
    and removes their partial files), then kill what is left after STOP_S."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(STOP_S)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def ray_missing() -> str | None:
    """Why --engine ray cannot run here, as far as can be told without starting it (None: try it)."""
    if importlib.util.find_spec("retouch.batching.ray_engine") is None:
        return "not available: retouch.batching.ray_engine is not there yet"
    if importlib.util.find_spec("ray") is None:
        return "not available: ray is not installed"
    return None


def rembg_missing(rembg: str) -> str | None:
    """Why `rembg p` cannot run offline with u2netp (None: it can)."""
    from retouch.errors import WeightsMissing

    if shutil.which(rembg) is None:
        return f"not available: no {rembg}"
    try:
        rembg_model_home()
    except WeightsMissing:
        return "not available: u2netp is not pulled (.venv/bin/retouch models pull u2netp)"
    probe = subprocess.run([rembg, "p", "--help"], check=False, capture_output=True, text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"not available: `rembg p` does not start ({last}; its CLI needs the rembg[cli] extra)"
    return None


def bench_tool(tool: str, folder: Folder, runs: str, where: Path, args: argparse.Namespace) -> dict[str, Result]:
    count, suffix = len(folder.names), TOOLS[tool].suffix
    warm = where / "warm"
    warm.mkdir()
    first = folder.photos / f"{folder.names[0]}.jpg"
    mask = ["--mask", str(folder.masks / f"{folder.names[0]}.png")] if folder.masks is not None else []
    subprocess.run([RETOUCH, "-q", tool, str(first), "-o", str(warm / f"warm.{suffix}"), *mask, *TOOLS[tool].flags],
                   check=False, capture_output=True)
    commands = {
        "a": batch_command(tool, folder, where / "a", "--workers", "1", "--threads", "1"),
        "b": batch_command(tool, folder, where / "b", "--workers", "1"),
        "c": batch_command(tool, folder, where / "c", "--workers", "2"),
        "d": batch_command(tool, folder, where / "d", "--engine", "ray", "--workers", "2"),
        "e": loop_command(tool, folder, where / "e"),
    }
    if tool == "cutout":
        commands["f"] = [args.rembg, "p", "-m", "u2netp", str(folder.photos), str(where / "f")]
    results: dict[str, Result] = {}
    for run in runs:
        if run not in commands:
            continue
        missing = ray_missing() if run == "d" else rembg_missing(args.rembg) if run == "f" else None
        if missing is not None:
            results[run] = Result(run, load=os.getloadavg()[0], problem=missing)
        else:
            (where / run).mkdir(exist_ok=True)
            out_suffix = "png" if run == "f" else suffix
            env = os.environ | {"U2NET_HOME": str(rembg_model_home())} if run == "f" else None
            results[run] = timed(run, commands[run], where / run, out_suffix, count, where / f"{run}.log",
                                 args.timeout, env)
        print_row(tool, results[run], count)
    return results


def print_row(tool: str, result: Result, count: int) -> None:
    label = RUNS[result.run].replace("TOOL", tool)
    if result.problem is not None and result.problem.startswith("not available"):
        print(f"| {tool} | ({result.run}) {label} | - | - | - | - | {result.load:.2f} | {result.problem} |", flush=True)
        return
    note = result.problem or f"{result.outputs}/{count} outputs"
    print(f"| {tool} | ({result.run}) {label} | {result.seconds:.1f} | {result.per_minute(count):.1f} | "
          f"{result.cores:.2f} | {100 * result.machine:.0f}% | {result.load:.2f} | {note} |", flush=True)


def ratio(results: dict[str, Result], top: str, bottom: str, count: int) -> float | None:
    if top not in results or bottom not in results:
        return None
    high, low = results[top].per_minute(count), results[bottom].per_minute(count)
    return high / low if high and low else None


def verdicts(tool: str, results: dict[str, Result], count: int) -> list[tuple[str, float | None, str]]:
    """(what, ratio, PASS/FAIL or a note) for the ratios issue 17 asks for."""
    rows = []
    for what, top, bottom, target in (
        ("(b)/(a) two threads in one worker", "b", "a", None),
        ("(c)/(a) two workers vs one held to one thread", "c", "a", TARGETS["scaling"]),
        ("(c)/(e) batch vs shell loop", "c", "e", TARGETS["loop"]),
        ("(d)/(c) Ray vs local workers", "d", "c", None),
        ("(c)/(f) batch vs rembg p", "c", "f", None),
    ):
        if top not in results or bottom not in results:
            continue
        value = ratio(results, top, bottom, count)
        if value is None:
            missing = results[top].problem or results[bottom].problem or "no timing"
            rows.append((what, None, missing))
        elif target is not None and tool in TARGET_TOOLS:
            rows.append((what, value, f"{'PASS' if value >= target else 'FAIL'} (target >= {target})"))
        else:
            rows.append((what, value, ""))
    return rows


def load_rgb(path: Path) -> np.ndarray:
    """Pixels for comparison and display: a transparent result composited over a checkerboard."""
    picture = Image.open(path)
    if picture.mode in ("RGBA", "LA") or "transparency" in picture.info:
        picture = picture.convert("RGBA")
        y, x = np.mgrid[0 : picture.height, 0 : picture.width]
        checks = np.where(((x // 16) + (y // 16)) % 2, 200, 255).astype(np.uint8)
        board = Image.fromarray(np.stack([checks] * 3, axis=2))
        board.paste(picture, mask=picture.getchannel("A"))
        picture = board
    return np.asarray(picture.convert("RGB"))


def batch_vs_loop(folder: Folder, where: Path, suffix: str) -> float | None:
    """Mean absolute difference (0-255) between the (c) and (e) outputs, over all photos that both made."""
    differences = []
    for name in folder.names:
        batch, loop = where / "c" / f"{name}.{suffix}", where / "e" / f"{name}.{suffix}"
        if batch.exists() and loop.exists():
            a, b = load_rgb(batch), load_rgb(loop)
            if a.shape != b.shape:
                return float("inf")
            differences.append(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
    return float(np.mean(differences)) if differences else None


def contact_sheet(rows: list[tuple[str, list[Path | None], Path | None, float | None]], path: Path,
                  height: int = 220) -> None:
    """A row per tool: input (erase's hole in magenta) | batch (c) | loop (e), each ``height`` pixels high."""
    tiles: list[list[Image.Image]] = []
    for tool, paths, hole, difference in rows:
        row = []
        for label, source in zip(("input", "batch (c)", "shell loop (e)"), paths):
            if source is None or not source.exists():
                tile = Image.new("RGB", (height, height), (60, 60, 60))
                label += ": missing"
            else:
                pixels = load_rgb(source)
                if label == "input" and hole is not None:
                    pixels = np.where(np.asarray(Image.open(hole))[:, :, None] > 127, [255, 0, 255], pixels)
                image = Image.fromarray(pixels.astype(np.uint8))
                tile = image.resize((max(1, round(image.width * height / image.height)), height), Image.LANCZOS)
                label += f"\n{image.width}x{image.height}"
            if label.startswith("batch") and difference is not None:
                label += f", |c-e| {difference:.2f}"
            ImageDraw.Draw(tile).multiline_text((6, 6), f"{tool}: {label}", fill=(255, 0, 255))
            row.append(tile)
        tiles.append(row)
    width = max(sum(t.width for t in row) + 8 * (len(row) - 1) for row in tiles)
    sheet = Image.new("RGB", (width, len(tiles) * (height + 8)), (255, 255, 255))
    for r, row in enumerate(tiles):
        x = 0
        for tile in row:
            sheet.paste(tile, (x, r * (height + 8)))
            x += tile.width + 8
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", default=",".join(TARGET_TOOLS), help=f"comma-separated, of: {', '.join(TOOLS)}")
    parser.add_argument("--count", type=int, help="photos per tool (default 24; --quick: 4)")
    parser.add_argument("--upscale-size", type=int, help="side of upscale's square crops (default 192; --quick: 64)")
    parser.add_argument("--enlarge", type=float, default=1.0,
                        help="scale the photos of every tool but upscale by this (e.g. 2: 1536x1024, 1.6 MP)")
    parser.add_argument("--runs", default="abcdef", help="which of the runs (a-f) to time, e.g. ace")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 4 photos, 64-pixel upscale crops")
    parser.add_argument("--seed", type=int, default=2021, help="of erase's masks")
    parser.add_argument("--rembg", default=REMBG, help="the rembg executable of (f)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one run may take")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--no-sheet", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the run under way and remove the folder
    count = args.count or (4 if args.quick else 24)
    upscale_size = args.upscale_size or (64 if args.quick else 192)
    tools = [t for t in args.tools.split(",") if t]
    runs = args.runs.replace(",", "")
    if unknown := [t for t in tools if t not in TOOLS] + [r for r in runs if r not in RUNS]:
        sys.exit(f"unknown tool or run: {', '.join(unknown)}")
    if count < 1 or upscale_size < 16 or not 0.1 <= args.enlarge <= 8:
        sys.exit("--count must be at least 1, --upscale-size at least 16, --enlarge from 0.1 to 8")
    if not KODAK.is_dir():
        sys.exit(f"no Kodak photos at {KODAK} (the evaluation data: ../shared/eval/MANIFEST.md)")

    photos = f"{round(768 * args.enlarge)}x{round(512 * args.enlarge)}"
    print(f"CPU: {cpu_name()}, {cores()} cores; {count} photos per tool ({photos}; upscale: "
          f"{upscale_size}x{upscale_size} crops x4); load average now {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print("| tool | run | s | photos/min | cores used | machine busy | load before | outputs |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="retouch-bench-batch-"))
    everything: dict[str, dict[str, Result]] = {}
    sheet_rows: list[tuple[str, list[Path | None], Path | None, float | None]] = []
    try:
        for tool in tools:
            where = scratch / tool
            folder = make_inputs(tool, count, upscale_size, args.enlarge, args.seed, where)
            everything[tool] = bench_tool(tool, folder, runs, where, args)
            suffix, shown = TOOLS[tool].suffix, folder.names[min(SHEET_PHOTO, count - 1)]
            difference = batch_vs_loop(folder, where, suffix)
            outputs = [where / "c" / f"{shown}.{suffix}", where / "e" / f"{shown}.{suffix}"]
            hole = folder.masks / f"{shown}.png" if folder.masks is not None else None
            sheet_rows.append((tool, [folder.photos / f"{shown}.jpg", *outputs], hole, difference))
        print("\n| tool | ratio of photos/min | value | verdict |")
        print("|---|---|---|---|")
        failed = False
        for tool, results in everything.items():
            for what, value, verdict in verdicts(tool, results, count):
                failed = failed or verdict.startswith("FAIL")
                print(f"| {tool} | {what} | {f'{value:.2f}x' if value is not None else '-'} | {verdict} |")
        print("\n(c) vs (e) outputs, mean |difference| over all photos (0-255): " + ", ".join(
            f"{tool} {d:.3f}" if d is not None else f"{tool} -" for tool, _, _, d in sheet_rows))
        if not args.no_sheet and sheet_rows:
            contact_sheet(sheet_rows, SHEET)
            print(f"contact sheet: {SHEET}")
    finally:
        if args.keep:
            print(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
