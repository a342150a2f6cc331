"""The selection's boundary, solved on the photo's colours: GrabCut (graph cut over colour models of the object
and its surroundings) initialised from the network's map and pinned at the clicks.

Measured on the alphamatting.com photos (bench/select.py; mean IoU for 1 / 2 / 3 clicks, the next click at the
centre of the largest error, positive or negative): the network's map thresholded, taking the component under each
click, 0.816 / 0.141 / 0.141 (a negative click can only drop a whole component, and the protocol's negative
clicks fall on holes inside the subject). In an exploratory run with the same clicks, GrabCut from the map gave
0.826 / 0.896 / 0.913 (its edges follow the photo: GT03 0.941 > 0.974); with a missed click's window (below)
0.973 / 0.954 / 0.961. A negative click on the object itself also marks the piece under it that looks like it
(else GrabCut removes only the disk under the click): 0.973 / 0.917 / 0.960 (marking every pixel of the object
that looks like it, connected or not: 0.973 / 0.855 / 0.945). A click the network leaves outside its subject (a
plant it does not see, the dark body of a teddy) starts GrabCut from a window around the click: 0.25 / 0.5 / 0.75
/ the whole frame gave IoU 0.85 / 0.69 / 0.96 / 0.68 on GT10 and 0.69 / 0.71 / 0.78 / 0.70 on GT13.
"""

from __future__ import annotations

import numpy as np

from retouch.tools.select.prompts import Click

WORK = 512  # long side at which GrabCut runs; the result is enlarged along the photo's edges
ITERATIONS = 3
SEED = 1 / 100  # radius of the sure disk under each click, as a fraction of the long side
WINDOW = 0.75  # side of the window probably holding a missed click's object, as a fraction of the frame
THRESHOLD = 0.5


def solve(
    rgb: np.ndarray,
    prob: np.ndarray,
    clicks: list[Click],
    box: tuple[int, int, int, int] | None,
) -> np.ndarray:
    """The HxW bool object: GrabCut on a copy with long side ``WORK``, enlarged by a guided filter on ``rgb``."""
    import cv2

    from retouch.tools.cutout.upsample import guided_upsample

    height, width = prob.shape
    scale = min(1.0, WORK / max(width, height))
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    small_prob = cv2.resize(prob, size, interpolation=cv2.INTER_AREA) if scale < 1 else prob
    seeds = [
        Click(
            min(round(c.x * scale), size[0] - 1),
            min(round(c.y * scale), size[1] - 1),
            c.positive,
        )
        for c in clicks
    ]
    small_box = None if box is None else tuple(round(v * scale) for v in box)
    init = _initial(small, small_prob, seeds, small_box)
    labels = _grabcut(small, init)
    chosen = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    if scale < 1:
        chosen = guided_upsample(rgb, small, chosen.astype(np.float32)) > THRESHOLD
    return chosen


def _initial(rgb: np.ndarray, prob: np.ndarray, clicks: list[Click], box: tuple[int, ...] | None) -> np.ndarray:
    """GrabCut's starting labels: the map's object probably foreground, the rest probably background, a sure disk
    under each click, a window around each positive click the map missed, and sure background outside the box.
    A negative click on the object itself makes the connected piece under it of the object's pixels that look
    more like the click's surroundings than like any positive click's probably background (GrabCut alone would
    remove only the disk under it)."""
    import cv2

    height, width = prob.shape
    radius = max(1, round(SEED * max(width, height)))
    found = prob > THRESHOLD
    init = np.where(found, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    _, parts = cv2.connectedComponents(found.view(np.uint8), connectivity=8)
    kept = {int(parts[c.y, c.x]) for c in clicks if c.positive}
    for click in clicks:  # a negative click on an object no positive click holds removes all of it
        label = int(parts[click.y, click.x])
        if not click.positive and label and label not in kept:
            init[parts == label] = cv2.GC_PR_BGD
        elif not click.positive and label:
            like = (parts == label) & _closer_to(rgb, click, [c for c in clicks if c.positive], 2 * radius)
            _, pieces = cv2.connectedComponents(like.view(np.uint8), connectivity=8)
            if pieces[click.y, click.x]:  # only the piece under the click: the same colour elsewhere stays
                init[pieces == pieces[click.y, click.x]] = cv2.GC_PR_BGD
    x0, y0, x1, y1 = (0, 0, width, height) if box is None else (box[0], box[1], box[0] + box[2], box[1] + box[3])
    for click in clicks:
        if click.positive and not found[click.y, click.x]:
            side_x, side_y = round(WINDOW * (x1 - x0)), round(WINDOW * (y1 - y0))
            left = min(max(click.x - side_x // 2, x0), x1 - side_x)
            top = min(max(click.y - side_y // 2, y0), y1 - side_y)
            window = init[top : top + side_y, left : left + side_x]
            window[window == cv2.GC_PR_BGD] = cv2.GC_PR_FGD
    if box is not None:
        outside = np.ones_like(found)
        outside[y0:y1, x0:x1] = False
        init[outside] = cv2.GC_BGD
    for click in clicks:
        cv2.circle(
            init,
            (click.x, click.y),
            radius,
            cv2.GC_FGD if click.positive else cv2.GC_BGD,
            -1,
        )
    return init


def _closer_to(rgb: np.ndarray, negative: Click, positives: list[Click], radius: int) -> np.ndarray:
    """HxW bool: pixels whose colour is nearer the mean colour around ``negative`` than around every positive."""

    def mean_around(click: Click) -> np.ndarray:
        return (
            rgb[
                max(click.y - radius, 0) : click.y + radius + 1,
                max(click.x - radius, 0) : click.x + radius + 1,
            ]
            .reshape(-1, 3)
            .mean(0)
        )

    away = np.square(rgb - mean_around(negative)).sum(axis=2)
    nearest = np.min([np.square(rgb - mean_around(c)).sum(axis=2) for c in positives], axis=0)
    return away < nearest


def _grabcut(rgb: np.ndarray, init: np.ndarray) -> np.ndarray:
    """GrabCut's final labels. Its colour models start from k-means with OpenCV's random generator, which is
    per thread: seeding it here makes the result the same on every run and in every server thread."""
    import cv2

    bgr = np.ascontiguousarray((np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)[:, :, ::-1])
    labels = init.copy()
    background = (labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)
    if background.all() or not background.any():  # one side has no pixels to model: nothing to cut
        return labels
    cv2.setRNGSeed(0)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(bgr, labels, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    return labels
