"""The built-in, weight-free erase engine: exemplar-based image completion, compiled ahead of time.

The hole is filled with pieces of the surrounding photo at full contrast, in the line of PatchMatch (Barnes et al.
2009) and Wexler, Shechtman and Irani's completion (2007); the C++ in ``native/erase`` does the work:

1. An image pyramid, halving until the hole is a few pixels deep (a coarse pixel is known when any of its children
   is, so thin strokes vanish early). The coarsest hole (up to a few thousand pixels) starts structure first: it is
   peeled from its edge inwards, each step copying the source patch that best continues the known pixels at the
   front, taking first the front patches most surrounded by known pixels and met by the strongest edge (Criminisi,
   Perez and Toyama 2004), so a horizon or a railing crossing the hole is carried straight through before the
   areas beside it are decided (a smooth membrane start smeared such an edge and put it several pixels off).
   Thin strokes start from a membrane (harmonic) fill of their edge instead. The first matches are chosen on the
   known pixels around each patch alone, so the starting guess cannot pull in smooth sources (sky, blurred
   background), and the coarsest level searches the whole image, hard.
2. At each level, expectation-maximisation over a nearest-neighbour field: every 7x7 patch that touches the hole
   keeps its best match among the known patches near the hole (propagation and random search, in fixed bands of
   rows run in parallel), compared on colour and local contrast (so a flat source pays for the texture it lacks);
   then every hole pixel takes the value that the best-weighted overlapping match puts there (weights: similarity,
   and closeness to the known edge). Copying instead of averaging is what keeps the photo's texture at every depth.
3. The field is carried to the next finer level, which starts from what the carried matches hold at its own size.
   Finally the fill is joined to its surroundings in the gradient domain: the difference between the known ring
   around the hole and what the matches rebuild there is spread smoothly over the hole (membrane interpolation)
   and added, so tone and gradient meet the photo's at the edge while the texture stays the copied one.

The kernels are machine code built at install (``setup.py``): nothing is compiled or cached at run time, so the first
run is as fast as the tenth and a read-only install works.
"""

from __future__ import annotations

import numpy as np

from retouch.errors import InvalidInput
from retouch.types import ProgressCallback, no_progress


def inpaint_patch(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> np.ndarray:
    """Fill ``mask`` in ``image`` with content synthesised from the rest of the image.

    image: float32 HxWx3 RGB in [0, 1], typically a crop around the hole with a margin of context.
    mask: HxW bool, True = the pixels to fill. seed: the search's random seed (0 to 2**64 - 1); equal inputs and
    seed give equal output, whatever the number of threads. progress: called as ``("patch", done, 1000)`` after
    each iteration of each pyramid level, ``done`` the share of the work finished (each level weighted by its hole's
    pixels); it may raise to stop the fill, which then stops at the end of that iteration.
    Returns a new float32 HxWx3 array in [0, 1]; pixels outside the mask equal the input exactly.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInput(f"inpaint_patch needs an HxWx3 RGB image, got shape {image.shape}")
    if mask.shape != image.shape[:2]:
        raise InvalidInput(f"mask shape {mask.shape} does not match image size {image.shape[:2]}")
    if not 0 <= seed < 2**64:
        raise InvalidInput(f"seed must be between 0 and 2**64 - 1, got {seed}")
    src = np.ascontiguousarray(image, dtype=np.float32)
    hole = np.ascontiguousarray(mask, dtype=bool)
    if not hole.any():
        return src.copy()
    if hole.all():
        return np.full_like(src, 0.5)  # nothing to copy from: a neutral grey is as good a guess as any

    from retouch.tools.erase import _patch

    # the engine writes the hole's pixels only, into its own copy of the image
    return _patch.inpaint(src, hole, seed, lambda done, total: progress("patch", done, total))
