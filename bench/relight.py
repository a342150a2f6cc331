"""Relight benchmark: the built-in normals against shapes with known normals, the speed on a 12 MP photo, and a
contact sheet to look at.

    python bench/relight.py [--out bench/out/relight] [--repeat 2] [--no-sheet]

Normals: the mean angle between the geometry's normals and the true ones, for rendered spheres and cylinders
(a cylinder lying across the frame, cut by its borders) at two sizes each.
Speed: a portrait of ../shared/eval (alphamatting GT08) enlarged to 3000x4000, its ground-truth matte given,
the face detector on, two lights: the geometry and the lighting apart, best of --repeat; the CPU is named.
Sheet (skipped without ../shared/eval): for a portrait (GT08) and a product shot (GT13), input | normal map |
relit with a coloured rim light, with the cutout model's matte (when one is installed) and with the ground-truth
matte; and a 3:1 crop of a landscape (kodim13) relit with no subject. Issue 15 names no open tool that
relights a photo locally, so there is no rival to put beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from machine import cpu_name
from relight_scenes import angular_error_deg, cylinder, sphere

from retouch.tools.relight import normal_map, relight, relight_geometry
from retouch.tools.relight.geometry import build_geometry
from retouch.types import Picture

EVAL = ROOT.parent / "shared" / "eval"
MATTING = EVAL / "matting" / "alphamatting"
PORTRAIT_LIGHTS = [
    "point:x=1.25,y=0.3,z=0.3,color=#ff5a1e,intensity=5,rim",
    "dir:azimuth=130,elevation=50,color=#fff4e8,intensity=0.6",
]
PRODUCT_LIGHTS = [
    "dir:azimuth=170,elevation=60,color=#3080ff,intensity=4,rim",
    "spot:x=0.8,y=0.05,z=0.6,tx=0.5,ty=0.5,cone=60,softness=0.5,color=#fff0d0,intensity=1.2",
]
LANDSCAPE_LIGHTS = [
    "dir:azimuth=160,elevation=30,color=#ffb060,intensity=1.2",
    "point:x=0.85,y=0.2,z=0.25,color=#60a0ff,intensity=2.5",
]


def normals_table() -> None:
    print("| shape | size | radius | mean angular error (deg) |")
    print("|---|---|---|---|")
    shapes = [
        ("sphere", sphere, (256, 256), 100),
        ("sphere", sphere, (1200, 800), 300),
        ("cylinder", cylinder, (300, 200), 60),
        ("cylinder", cylinder, (1500, 600), 200),
    ]
    for name, make, size, radius in shapes:
        shape = make(*size, radius)
        geometry = build_geometry(np.full((size[1], size[0], 3), 0.5, np.float32), shape.matte, detail=0.0)
        error = angular_error_deg(geometry.normals, shape.normals, shape.matte > 0.5)
        print(f"| {name} | {size[0]}x{size[1]} | {radius} | {error:.2f} |")


def speed(repeat: int) -> None:
    if not MATTING.is_dir():
        print(f"speed: skipped, {MATTING} is absent")
        return
    photo = Image.open(MATTING / "input" / "GT08.png").convert("RGB").resize((3000, 4000), Image.LANCZOS)
    matte = Image.open(MATTING / "gt" / "GT08.png").convert("L").resize((3000, 4000), Image.BILINEAR)
    picture = Picture(pixels=np.asarray(photo).copy())
    subject = np.asarray(matte).astype(np.float32) / 255
    shape_s, light_s = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        geometry = relight_geometry(picture, matte=subject)
        shape_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        relight(picture, PORTRAIT_LIGHTS, ambient=0.45, geometry=geometry)
        light_s.append(time.perf_counter() - started)
    print(f"speed, 12 MP (3000x4000), {cpu_name()}: geometry {min(shape_s):.2f} s, two lights {min(light_s):.2f} s")


def thumb(image: Image.Image, width: int) -> Image.Image:
    return image.convert("RGB").resize((width, round(image.height * width / image.width)), Image.LANCZOS)


def sheet(out: Path) -> None:
    if not MATTING.is_dir():
        print(f"sheet: skipped, {MATTING} is absent")
        return
    width = 420
    rows: list[tuple[str, list[Image.Image]]] = []
    shots = (("portrait", "GT08", PORTRAIT_LIGHTS, 0.45), ("product", "GT13", PRODUCT_LIGHTS, 0.4))
    for label, name, lights, ambient in shots:
        source = Image.open(MATTING / "input" / f"{name}.png").convert("RGB")
        picture = Picture(pixels=np.asarray(source).copy())
        truth = np.asarray(Image.open(MATTING / "gt" / f"{name}.png").convert("L")).astype(np.float32) / 255
        for matte, caption in ((None, "cutout model's matte"), (truth, "ground-truth matte")):
            geometry = relight_geometry(picture, matte=matte)
            lit = relight(picture, lights, ambient=ambient, geometry=geometry)
            images = [source, Image.fromarray(normal_map(geometry).pixels), Image.fromarray(lit.pixels)]
            title = f"{label} ({caption}: {geometry.source}): input | normal map | relit"
            rows.append((title, [thumb(i, width) for i in images]))
    landscape = Image.open(EVAL / "photos" / "kodak" / "kodim13.png").convert("RGB").crop((0, 100, 768, 356))
    picture = Picture(pixels=np.asarray(landscape).copy())
    lit = relight(picture, LANDSCAPE_LIGHTS, ambient=0.5, model="none")
    panorama = [thumb(landscape, 3 * width), thumb(Image.fromarray(lit.pixels), 3 * width)]
    height = sum(max(t.height for t in tiles) + 24 for _, tiles in rows) + sum(p.height + 24 for p in panorama)
    canvas = Image.new("RGB", (3 * width, height), "white")
    draw = ImageDraw.Draw(canvas)
    y = 0
    for caption, tiles in rows:
        draw.text((4, y + 4), caption, fill="black")
        y += 24
        for i, tile in enumerate(tiles):
            canvas.paste(tile, (i * width, y))
        y += max(t.height for t in tiles)
    captions = ("3:1 landscape (kodim13 crop)", "relit, no subject: warm sun and a blue point light")
    for caption, image in zip(captions, panorama):
        draw.text((4, y + 4), caption, fill="black")
        y += 24
        canvas.paste(image, (0, y))
        y += image.height
    out.mkdir(parents=True, exist_ok=True)
    canvas.save(out / "sheet.png")
    print(f"sheet: {out / 'sheet.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "relight")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-sheet", action="store_true")
    args = parser.parse_args()
    normals_table()
    speed(args.repeat)
    if not args.no_sheet:
        sheet(args.out)


if __name__ == "__main__":
    main()
