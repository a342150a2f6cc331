"""Select: the mask of the object under a click (or in a box), for erase, cutout or relight.

With a promptable segmenter installed (a ``segment`` row such as mobile-sam) it answers (``sam``). Without one, it
is built from the cutout network: its map of the photo, or of a crop
around a click it missed (``network``), pinned at the clicks and fitted to the photo's edges by GrabCut
(``grabcut``); the selection is then the connected parts under the positive clicks.

validate > map (``network``) > boundary (``grabcut``) > the parts under the clicks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retouch.errors import InvalidInput
from retouch.tools.select.prompts import Click, check_box, check_clicks, parse_click
from retouch.types import Mask, Picture, ProgressCallback, no_progress

__all__ = ["Click", "parse_click", "select"]


def select(
    picture: Picture,
    points: Sequence[Sequence[int] | Click] | None = None,
    box: Sequence[int] | None = None,
    *,
    model: str | None = None,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
) -> Mask:
    """The mask of the object the prompts point at.

    picture: any Picture. points: clicks (x, y, label) in pixels, label 1 = add what lies under it, 0 = remove
    it. box: (x, y, width, height) that holds the object (the selection stays inside it). At least one positive
    click or a box is needed. model: a segment model (mobile-sam) or the cutout network that proposes objects;
    None or "auto": an installed segment model, else the best installed permissive cutout network. device:
    "auto", "cpu" or "cuda". progress: ("select", done, total).
    Returns an HxW bool array, True = the selected object; the same prompts always give the same mask.
    """
    from retouch.models.runtime import check_device
    from retouch.tools.cutout.networks import load_segmenter
    from retouch.tools.interrupt import Heartbeat
    from retouch.tools.select.grabcut import solve
    from retouch.tools.select.network import subject_map
    from retouch.tools.select.sam import installed_sam, load_sam

    check_device(device)
    clicks = check_clicks(points, picture.size)
    frame = check_box(box, picture.size)
    if frame is None and not any(c.positive for c in clicks):
        raise InvalidInput("nothing to select: give a click on the object (x, y, 1) or a box around it")
    report = Heartbeat(progress)
    rgb = picture.rgb_float()
    sam = installed_sam(model)
    if sam is not None:
        report("select", 0, 1)
        chosen = load_sam(sam, device)(rgb, clicks, frame)
        report("select", 1, 1)
        return chosen
    segmenter = load_segmenter(model, device)
    report("select", 0, 2)
    prob = subject_map(rgb, segmenter, clicks, frame, report.beat)
    report("select", 1, 2)
    chosen = solve(rgb, prob, clicks, frame)
    report("select", 2, 2)
    return _under_clicks(chosen, clicks)


def _under_clicks(chosen: np.ndarray, clicks: list[Click]) -> np.ndarray:
    """The connected parts of ``chosen`` under the positive clicks (all of it when there are none: a box alone),
    less the parts under negative clicks."""
    import cv2

    positive = [c for c in clicks if c.positive]
    if not positive:
        return chosen
    count, parts = cv2.connectedComponents(chosen.view(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    for click in positive:
        keep[parts[click.y, click.x]] = True
    keep[0] = False
    return keep[parts]
