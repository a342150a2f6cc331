"""Click-to-select quality and speed: IoU against the alphamatting.com subjects (true alpha > 0.5) for one, two and
three clicks, Retouch's select against the cutout network's map alone, and a contact sheet with Kodak photos.

Clicks follow the usual interactive-segmentation protocol: the first at the subject's innermost point (farthest
from its boundary), each next one at the innermost point of the largest error region, positive where that region
is subject, negative where it is background. Per photo and click count, in one run:
  net      the cutout network's map of the whole photo above 0.5, the connected parts under the positive clicks,
           less those under negative clicks (what the network alone gives)
  select   retouch.select with the same clicks
Kodak photos have no ground truth: their clicks are placed by hand (KODAK_CLICKS, where a person would click) and
only the contact sheet shows the result.

Run: .venv/bin/python bench/select.py [--images GT01,GT02] [--model u2netp] [--sheet /tmp/select_sheet.png]
(needs a cutout model installed: ./setup.sh pulls u2netp)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from retouch.io import load_image
from retouch.tools.cutout.networks import load_segmenter
from retouch.tools.cutout.segment import to_full
from retouch.tools.select import select

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "eval" / "matting" / "alphamatting"
KODAK = ROOT.parent / "shared" / "eval" / "photos" / "kodak"
CLICKS = 3
# (x, y, label) in pixels: the hat, the plane, the red parrot, the yellow cap, each clicked near its middle
KODAK_CLICKS = {
    "kodim04": [(250, 70, 1)],
    "kodim20": [(300, 290, 1)],
    "kodim23": [(470, 220, 1)],
    "kodim03": [(180, 170, 1)],
}
SHEET_WIDTH = 300  # pixels per panel


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def innermost(region: np.ndarray) -> tuple[int, int]:
    """The pixel of ``region`` farthest from its boundary (the image frame counts as boundary)."""
    padded = np.pad(region, 1).astype(np.uint8)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return int(x), int(y)


def next_click(predicted: np.ndarray, truth: np.ndarray) -> tuple[int, int, int] | None:
    """The protocol's next click: the centre of the largest error region, labelled by the truth there."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((predicted ^ truth).astype(np.uint8), connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y = innermost(labels == largest)
    return x, y, int(truth[y, x])


def network_only(prob: np.ndarray, clicks: list[tuple[int, int, int]]) -> np.ndarray:
    count, labels = cv2.connectedComponents((prob > 0.5).astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    for x, y, label in clicks:
        keep[labels[y, x]] = bool(label)
    for x, y, label in clicks:
        if not label:
            keep[labels[y, x]] = False
    keep[0] = False
    return keep[labels]


def panel(rgb: np.ndarray, clicks: list[tuple[int, int, int]] = ()) -> np.ndarray:
    image = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    image = np.repeat(image[:, :, None], 3, 2) if image.ndim == 2 else image.copy()
    radius = max(4, image.shape[1] // 100)
    for x, y, label in clicks:
        colour = (0, 255, 0) if label else (255, 0, 0)
        cv2.circle(image, (x, y), radius + 2, (0, 0, 0), -1)
        cv2.circle(image, (x, y), radius, colour, -1)
    height = round(image.shape[0] * SHEET_WIDTH / image.shape[1])
    return cv2.resize(image, (SHEET_WIDTH, height), interpolation=cv2.INTER_AREA)


def overlay(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    tint = rgb * 0.35
    tint[mask] = rgb[mask] * 0.6 + np.float32([0.4, 0.0, 0.4])
    return tint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default="", help="comma-separated GTxx names (default: all 13)")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--sheet", type=Path, default=Path("/tmp/select_sheet.png"))
    args = parser.parse_args()
    names = args.images.split(",") if args.images else sorted(p.stem for p in (DATA / "input").glob("GT*.png"))
    segmenter = load_segmenter(args.model)
    print(f"model {segmenter.name}; IoU for 1..{CLICKS} clicks (net = the network's map alone)")
    scores = {"net": [[] for _ in range(CLICKS)], "select": [[] for _ in range(CLICKS)]}
    seconds: list[float] = []
    rows = []
    for name in names:
        picture = load_image(DATA / "input" / f"{name}.png")
        rgb = picture.rgb_float()
        truth = load_image(DATA / "gt" / f"{name}.png").to_float()[:, :, 0] > 0.5
        prob = to_full(segmenter(rgb), picture.size)
        line = name
        for method in ("net", "select"):
            clicks = [(*innermost(truth), 1)]
            for k in range(CLICKS):
                start = time.perf_counter()
                mask = network_only(prob, clicks) if method == "net" else select(picture, clicks, model=args.model)
                if method == "select":
                    seconds.append(time.perf_counter() - start)
                    if k == 0:
                        first = (mask, list(clicks))
                scores[method][k].append(iou(mask, truth))
                following = next_click(mask, truth)
                if following is not None and k + 1 < CLICKS:
                    clicks.append(following)
                elif k + 1 < CLICKS:  # nothing left to correct: the score stays
                    for rest in range(k + 1, CLICKS):
                        scores[method][rest].append(scores[method][k][-1])
                    break
            line += f"  {method} " + " ".join(f"{scores[method][k][-1]:.3f}" for k in range(CLICKS))
        last_clicks = clicks
        print(line, flush=True)
        rows.append(
            [
                panel(rgb, first[1]),
                panel(overlay(rgb, first[0])),
                panel(overlay(rgb, mask), last_clicks),
                panel(truth.astype(np.float32)),
            ]
        )
    for method, per_click in scores.items():
        means = " ".join(f"{np.mean(s):.3f}" for s in per_click)
        print(f"mean IoU {method:6s} {means}   (issue 16: 1 click >= 0.85, 3 clicks >= 0.92)")
    print(f"select: {np.mean(seconds):.2f} s per click (median {np.median(seconds):.2f} s) over {len(seconds)} clicks")
    for name, clicks in KODAK_CLICKS.items():
        path = KODAK / f"{name}.png"
        picture = load_image(path)
        rgb = picture.rgb_float()
        start = time.perf_counter()
        mask = select(picture, clicks, model=args.model)
        print(f"{name} {clicks}: {mask.mean():.1%} of the photo selected in {time.perf_counter() - start:.2f} s")
        blank = np.zeros_like(panel(rgb))
        rows.append([panel(rgb, clicks), panel(overlay(rgb, mask)), blank, blank])
    sheet = np.vstack(
        [
            np.hstack(
                [
                    np.pad(
                        p,
                        (
                            (0, max(r[0].shape[0] for r in [row]) - p.shape[0]),
                            (0, 4),
                            (0, 0),
                        ),
                    )
                    for p in row
                ]
            )
            for row in rows
        ]
    )
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.sheet), sheet[:, :, ::-1])
    print(f"contact sheet (photo + first click | 1 click | {CLICKS} clicks + clicks | truth): {args.sheet}")


if __name__ == "__main__":
    main()
