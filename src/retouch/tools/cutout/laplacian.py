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
from numba import njit

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
        nnz = _to_csr(self.index, self.ys, self.xs, self.stencil, indptr, indices, values)
        return scipy.sparse.csr_matrix((values[:nnz], indices[:nnz], indptr), shape=(n, n))

    def solve(self, x: np.ndarray, *, iterations: int, tolerance: float = 1e-7) -> int:
        """Jacobi-preconditioned conjugate gradients, improving ``x`` (float64, one value per row) in place.

        Stops after ``iterations`` steps or once the residual is below ``tolerance`` times ``rhs``; returns the
        number of steps taken. Compiled and single-threaded, free of BLAS, so it neither oversubscribes nor
        waits on a busy machine's other threads.
        """
        return int(_pcg(self.stencil, self.index, self.ys, self.xs, self.rhs, x, int(iterations), float(tolerance)))


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
    _assemble(
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


@njit(cache=True, nogil=True)
def _matvec(stencil, ys, xs, grid, out):  # pragma: no cover - compiled
    """out = A v, with v scattered on ``grid`` (the image padded by 2, zero at every known pixel)."""
    for p in range(ys.shape[0]):
        y = ys[p]
        x = xs[p]
        s = 0.0
        for dy in range(STENCIL):
            for dx in range(STENCIL):
                s += stencil[p, dy, dx] * grid[y + dy, x + dx]
        out[p] = s


@njit(cache=True, nogil=True)
def _scatter(ys, xs, values, grid):  # pragma: no cover - compiled
    for p in range(ys.shape[0]):
        grid[ys[p] + 2, xs[p] + 2] = values[p]


@njit(cache=True, nogil=True)
def _pcg(stencil, index, ys, xs, b, x, iterations, tolerance):  # pragma: no cover - compiled
    n = b.shape[0]
    h, w = index.shape
    grid = np.zeros((h + 4, w + 4))
    inverse = np.ones(n)
    for i in range(n):
        if stencil[i, 2, 2] > 0.0:
            inverse[i] = 1.0 / stencil[i, 2, 2]
    r = np.empty(n)
    q = np.empty(n)
    z = np.empty(n)
    p = np.empty(n)
    _scatter(ys, xs, x, grid)
    _matvec(stencil, ys, xs, grid, q)
    rz = 0.0
    bb = 0.0
    rr = 0.0
    for i in range(n):
        r[i] = b[i] - q[i]
        z[i] = inverse[i] * r[i]
        p[i] = z[i]
        rz += r[i] * z[i]
        bb += b[i] * b[i]
        rr += r[i] * r[i]
    stop = tolerance * tolerance * max(bb, 1e-300)
    for step in range(iterations):
        if rr <= stop or rz <= 0.0:
            return step
        _scatter(ys, xs, p, grid)
        _matvec(stencil, ys, xs, grid, q)
        pq = 0.0
        for i in range(n):
            pq += p[i] * q[i]
        if pq <= 0.0:
            return step
        a = rz / pq
        rz_next = 0.0
        rr = 0.0
        for i in range(n):
            x[i] += a * p[i]
            r[i] -= a * q[i]
            z[i] = inverse[i] * r[i]
            rz_next += r[i] * z[i]
            rr += r[i] * r[i]
        beta = rz_next / rz
        rz = rz_next
        for i in range(n):
            p[i] = z[i] + beta * p[i]
    return iterations


@njit(cache=True, nogil=True)
def _assemble(image, index, alpha, epsilon, stencil, rhs):  # pragma: no cover - compiled
    """Accumulate every 3x3 window that holds an unknown pixel into the stencils and right-hand side."""
    h, w = index.shape
    c = np.empty((3, 3, 3))
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            touched = False
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    if index[y + dy, x + dx] >= 0:
                        touched = True
            if not touched:
                continue
            # Window colours minus their mean.
            for ch in range(3):
                s = 0.0
                for dy in range(3):
                    for dx in range(3):
                        s += image[y + dy - 1, x + dx - 1, ch]
                m = s / 9.0
                for dy in range(3):
                    for dx in range(3):
                        c[dy, dx, ch] = image[y + dy - 1, x + dx - 1, ch] - m
            # Covariance + epsilon / 9 on the diagonal, then its inverse (symmetric 3x3).
            a00 = epsilon
            a01 = 0.0
            a02 = 0.0
            a11 = epsilon
            a12 = 0.0
            a22 = epsilon
            for dy in range(3):
                for dx in range(3):
                    r0 = c[dy, dx, 0]
                    r1 = c[dy, dx, 1]
                    r2 = c[dy, dx, 2]
                    a00 += r0 * r0
                    a01 += r0 * r1
                    a02 += r0 * r2
                    a11 += r1 * r1
                    a12 += r1 * r2
                    a22 += r2 * r2
            a00 /= 9.0
            a01 /= 9.0
            a02 /= 9.0
            a11 /= 9.0
            a12 /= 9.0
            a22 /= 9.0
            i00 = a11 * a22 - a12 * a12
            i01 = a02 * a12 - a01 * a22
            i02 = a01 * a12 - a02 * a11
            i11 = a00 * a22 - a02 * a02
            i12 = a01 * a02 - a00 * a12
            i22 = a00 * a11 - a01 * a01
            inv_det = 1.0 / (a00 * i00 + a01 * i01 + a02 * i02)
            for dyi in range(3):
                for dxi in range(3):
                    p = index[y + dyi - 1, x + dxi - 1]
                    if p < 0:
                        continue
                    s0 = c[dyi, dxi, 0]
                    s1 = c[dyi, dxi, 1]
                    s2 = c[dyi, dxi, 2]
                    v0 = (i00 * s0 + i01 * s1 + i02 * s2) * inv_det
                    v1 = (i01 * s0 + i11 * s1 + i12 * s2) * inv_det
                    v2 = (i02 * s0 + i12 * s1 + i22 * s2) * inv_det
                    for dyj in range(3):
                        for dxj in range(3):
                            value = -(1.0 + v0 * c[dyj, dxj, 0] + v1 * c[dyj, dxj, 1] + v2 * c[dyj, dxj, 2]) / 9.0
                            if dyi == dyj and dxi == dxj:
                                value += 1.0
                            q = index[y + dyj - 1, x + dxj - 1]
                            if q >= 0:
                                stencil[p, dyj - dyi + 2, dxj - dxi + 2] += value
                            else:
                                rhs[p] -= value * alpha[y + dyj - 1, x + dxj - 1]


@njit(cache=True, nogil=True)
def _to_csr(index, ys, xs, stencil, indptr, indices, values):  # pragma: no cover - compiled
    h, w = index.shape
    k = 0
    for p in range(ys.shape[0]):
        y = ys[p]
        x = xs[p]
        for dy in range(STENCIL):
            for dx in range(STENCIL):
                yy = y + dy - 2
                xx = x + dx - 2
                if 0 <= yy < h and 0 <= xx < w:
                    q = index[yy, xx]
                    v = stencil[p, dy, dx]
                    if q >= 0 and v != 0.0:
                        indices[k] = q
                        values[k] = v
                        k += 1
        indptr[p + 1] = k
    return k
