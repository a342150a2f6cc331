"""What the network's map says about each pixel: a prior for the matte, and how far to trust it.

Segmentation networks are well calibrated along the subject's main outline but under-confident on parts they find
less salient: a second flower behind the first, a plant's leaves against the sky, a doll's hair of another colour
come out as a faint but correctly shaped copy of themselves, at 0.1 to 0.4. The prior divides the map by its local
maximum (the strongest response within ``REACH`` of the long side, smoothed), so a response that stands out from
its neighbourhood counts as subject even when faint. Next to a confident subject the local maximum is 1 and
nothing changes; a neighbourhood that peaks below ``FLOOR`` is noise and keeps its value.

Measured on the alphamatting.com photos with isnet-imgly (the data of bench/cutout.py), before any matting, with a
reach of 0.005: mean SAD 38.7 -> 29.0, MSE 0.062 -> 0.043 (0.01, the reach used, 30.1); better on 8 photos (a
flower, a troll's hair and a plant recovered), worse on 4 (GT03, GT08, GT09 with loose hair, whose raised strands
are fully opaque in the prior; GT10 slightly). The matting then decides those from the colours: the trimap takes its
foreground seeds from the network's own confident pixels, never from raised ones, and the prior is trusted least
where it is neither 0 nor 1. A wider reach raises less (0.02 of the long side: 32.2). The risk is a faint response
the network rightly gave to something behind the subject; a hedged gap enclosed by the subject is kept as background
by the trimap.
"""

from __future__ import annotations

import numpy as np

# Of the long side: how far a pixel looks for the response it is compared with. 0.005 scored best on the
# alphamatting photos (mean SAD 26.8 after matting, 28.9 at 0.01) but left a faint sail in kodim10 blotchy, half
# raised and half not; 0.01 raises it more evenly.
REACH = 0.01
FLOOR = 0.05  # local maxima below this are noise, not a faint subject
SHARPNESS = 4  # the trust in the prior: |2 p - 1| ** SHARPNESS (1 where it says 0 or 1, 0 where it says 0.5)


def network_prior(coarse: np.ndarray) -> np.ndarray:
    """The network's map (float32 HxW in [0, 1]) with faint but distinct responses raised to the subject's level."""
    import cv2

    radius = max(1, round(REACH * max(coarse.shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    coarse = np.ascontiguousarray(coarse, dtype=np.float32)
    peak = cv2.GaussianBlur(cv2.dilate(coarse, disc), (0, 0), radius / 2)
    gain = np.where(peak >= FLOOR, 1.0 / np.maximum(peak, FLOOR), 1.0).astype(np.float32)
    return np.clip(coarse * gain, 0.0, 1.0)


def confidence(prior: np.ndarray) -> np.ndarray:
    """How much the prior is to be trusted, per pixel in [0, 1]."""
    return (np.abs(2.0 * prior - 1.0) ** SHARPNESS).astype(np.float32)
