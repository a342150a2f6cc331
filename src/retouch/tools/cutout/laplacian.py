"""The closed-form matting system (Levin, Lischinski and Weiss, PAMI 2008) over a band of unknown pixels only.

The matting Laplacian couples every pair of pixels that share a 3x3 window. Its rows for the known pixels are never
needed, so the system is assembled only for the unknown ones: each unknown pixel has at most 25 neighbours (the
5x5 block around it), stored as a dense stencil next to an image of the unknowns' numbers. The solver reads the
stencil directly (no sparse matrix is built); ``BandSystem.matrix`` gives the CSR matrix for inspection. Memory
and time grow with the band, not with the photo.

The energy is ``a^T L a + sum_i w_i (a_i - p_i)^2``: the Laplacian's smoothness along colour lines, plus an optional
pull ``w`` towards a prior ``p`` (the network's own estimate), which keeps the solution sane where the colours say
little (foreground and background of one colour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retouch.tools.cutout import _kernels

STENCIL = 5  # a pixel shares a 3x3 window with the pixels of the 5x5 block around it
_RIDGE = 1e-9


@dataclass(frozen=True)
class BandSystem:
    """``A x = b`` over the unknown pixels: row ``p`` is pixel (ys[p], xs[p]); ``stencil[p, dy, dx]`` is its
    coefficient for the unknown pixel at offset (dy - 2, dx - 2), whose number ``index`` holds (-1: known)."""

    stencil: np.ndarray  # n x 5 x 5 float64
    rhs: np.ndarray  # n float64
    index: np.ndarray  # HxW int32
    ys: np.ndarray
    xs: np.ndarray

    def matrix(self):
        """``A`` as a scipy CSR matrix."""
        import scipy.sparse

        n = self.rhs.size
        indptr = np.zeros(n + 1, dtype=np.int64)
        indices = np.empty(n * STENCIL * STENCIL, dtype=np.int64)
        values = np.empty(n * STENCIL * STENCIL)
        nnz = _kernels.band_to_csr(self.index, self.ys, self.xs, self.stencil, indptr, indices, values)
        return scipy.sparse.csr_matrix((values[:nnz], indices[:nnz], indptr), shape=(n, n))

    def solve(self, x: np.ndarray, *, iterations: int, tolerance: float = 1e-7) -> int:
        """Jacobi-preconditioned conjugate gradients, improving ``x`` (float64, one value per row) in place.

        Stops after ``iterations`` steps or once the residual is below ``tolerance`` times ``rhs``; returns the
        number of steps taken. Compiled and single-threaded, free of BLAS, so it neither oversubscribes nor
        waits on a busy machine's other threads.
        """
        return _kernels.solve_pcg(
            self.stencil, self.index, self.ys, self.xs, self.rhs, x, int(iterations), float(tolerance)
        )


def assemble_band(
    image: np.ndarray,
    alpha: np.ndarray,
    unknown: np.ndarray,
    *,
    epsilon: float = 1e-6,
    prior: np.ndarray | None = None,
    prior_weight: np.ndarray | float = 0.0,
) -> BandSystem:
    """The system of the unknown pixels.

    image: HxWx3 float in [0, 1]; alpha: HxW, read at the known pixels (the boundary condition); unknown: HxW
    bool. ``prior`` and ``prior_weight`` (scalar or HxW) add the pull towards the prior.
    """
    ys, xs = np.nonzero(unknown)
    n = ys.size
    if n >= 2**31:
        raise ValueError("band too large")
    index = np.full(unknown.shape, -1, dtype=np.int32)
    index[ys, xs] = np.arange(n, dtype=np.int32)
    stencil = np.zeros((n, STENCIL, STENCIL))
    rhs = np.zeros(n)
    _kernels.assemble_stencils(
        np.ascontiguousarray(image, dtype=np.float64),
        index,
        np.ascontiguousarray(alpha, dtype=np.float64),
        float(epsilon),
        stencil,
        rhs,
    )
    weight = np.broadcast_to(np.asarray(prior_weight, dtype=np.float64), unknown.shape)[ys, xs]
    if prior is not None and np.any(weight > 0):
        stencil[:, 2, 2] += weight
        rhs += weight * np.asarray(prior, dtype=np.float64)[ys, xs]
    # A vanishing pull towards the given alpha keeps the system regular where no 3x3 window fits (a 2-pixel-wide
    # image) and is far below anything the colours say elsewhere.
    stencil[:, 2, 2] += _RIDGE
    rhs += _RIDGE * np.asarray(alpha, dtype=np.float64)[ys, xs]
    return BandSystem(stencil=stencil, rhs=rhs, index=index, ys=ys, xs=xs)


def solve_band(
    image: np.ndarray,
    alpha: np.ndarray,
    unknown: np.ndarray,
    *,
    epsilon: float = 1e-6,
    prior: np.ndarray | None = None,
    prior_weight: np.ndarray | float = 0.0,
    tolerance: float = 1e-5,
    max_iterations: int = 2000,
) -> np.ndarray:
    """The matte with the unknown pixels solved (float64 HxW in [0, 1]); known pixels keep their ``alpha``.

    Conjugate gradients started from ``alpha`` (the caller passes its best estimate there), until the residual
    falls below ``tolerance`` times the right-hand side or after ``max_iterations`` steps.
    """
    result = np.array(alpha, dtype=np.float64)
    if not np.any(unknown):
        return result
    system = assemble_band(image, alpha, unknown, epsilon=epsilon, prior=prior, prior_weight=prior_weight)
    solution = np.asarray(alpha, dtype=np.float64)[system.ys, system.xs]
    system.solve(solution, iterations=max_iterations, tolerance=tolerance)
    result[system.ys, system.xs] = np.clip(solution, 0.0, 1.0)
    return result
