// The closed-form matting system over the band of unknown pixels (laplacian.py): its assembly into 5x5 stencils,
// the conjugate-gradient solve that reads the stencils in place, and the CSR form for inspection. Written by hand
// so that no general sparse matrix is ever built: memory and time grow with the band, not with the photo.
#include <algorithm>
#include <vector>

#include "kernels.hpp"

namespace retouch::cutout {
namespace {

constexpr int kStencil = 5;  // a pixel shares a 3x3 window with the pixels of the 5x5 block around it
constexpr int kTaps = kStencil * kStencil;

// The band's pixel positions, checked to lie inside the image (the kernels index without bounds checks).
void check_band(const Input<std::int64_t>& ys, const Input<std::int64_t>& xs, py::ssize_t n, py::ssize_t h,
                py::ssize_t w) {
    check_shape(ys, {n}, "ys");
    check_shape(xs, {n}, "xs");
    for (py::ssize_t p = 0; p < n; ++p) {
        if (ys.data()[p] < 0 || ys.data()[p] >= h || xs.data()[p] < 0 || xs.data()[p] >= w) {
            throw py::value_error("a band pixel lies outside the image");
        }
    }
}

// Adds every 3x3 window that holds an unknown pixel into the stencils and the right-hand side: the window's
// Laplacian block (Levin et al., eq. 12) couples each pair of its pixels; pairs with a known pixel move to the
// right-hand side with that pixel's alpha.
void assemble_stencils(const Input<double>& image, const Input<std::int32_t>& index, const Input<double>& alpha,
                       double epsilon, py::array stencil_array, py::array rhs_array) {
    auto stencil = output<double, 3>(stencil_array, "stencil");
    auto rhs = output<double, 1>(rhs_array, "rhs");
    if (index.ndim() != 2) throw py::value_error("index must be HxW");
    const py::ssize_t h = index.shape(0), w = index.shape(1), n = rhs.shape(0);
    check_shape(image, {h, w, 3}, "image");
    check_shape(alpha, {h, w}, "alpha");
    check_shape(stencil_array, {n, kStencil, kStencil}, "stencil");
    const std::int32_t* number = index.data();
    for (py::ssize_t i = 0; i < h * w; ++i) {
        if (number[i] >= n) throw py::value_error("index names a row past the stencils");
    }
    auto img = image.unchecked<3>();
    auto known = alpha.unchecked<2>();

    py::gil_scoped_release release;
    double c[3][3][3];  // the window's colours minus their mean
    for (py::ssize_t y = 1; y < h - 1; ++y) {
        for (py::ssize_t x = 1; x < w - 1; ++x) {
            bool touched = false;
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) touched = touched || number[(y + dy) * w + x + dx] >= 0;
            if (!touched) continue;
            for (int ch = 0; ch < 3; ++ch) {
                double s = 0.0;
                for (int dy = 0; dy < 3; ++dy)
                    for (int dx = 0; dx < 3; ++dx) s += img(y + dy - 1, x + dx - 1, ch);
                const double m = s / 9.0;
                for (int dy = 0; dy < 3; ++dy)
                    for (int dx = 0; dx < 3; ++dx) c[dy][dx][ch] = img(y + dy - 1, x + dx - 1, ch) - m;
            }
            // Covariance + epsilon / 9 on the diagonal, then its inverse by cofactors (symmetric 3x3).
            double a00 = epsilon, a01 = 0.0, a02 = 0.0, a11 = epsilon, a12 = 0.0, a22 = epsilon;
            for (int dy = 0; dy < 3; ++dy) {
                for (int dx = 0; dx < 3; ++dx) {
                    const double r0 = c[dy][dx][0], r1 = c[dy][dx][1], r2 = c[dy][dx][2];
                    a00 += r0 * r0;
                    a01 += r0 * r1;
                    a02 += r0 * r2;
                    a11 += r1 * r1;
                    a12 += r1 * r2;
                    a22 += r2 * r2;
                }
            }
            a00 /= 9.0;
            a01 /= 9.0;
            a02 /= 9.0;
            a11 /= 9.0;
            a12 /= 9.0;
            a22 /= 9.0;
            const double i00 = a11 * a22 - a12 * a12, i01 = a02 * a12 - a01 * a22, i02 = a01 * a12 - a02 * a11;
            const double i11 = a00 * a22 - a02 * a02, i12 = a01 * a02 - a00 * a12, i22 = a00 * a11 - a01 * a01;
            const double inv_det = 1.0 / (a00 * i00 + a01 * i01 + a02 * i02);
            for (int dyi = 0; dyi < 3; ++dyi) {
                for (int dxi = 0; dxi < 3; ++dxi) {
                    const std::int32_t p = number[(y + dyi - 1) * w + x + dxi - 1];
                    if (p < 0) continue;
                    const double s0 = c[dyi][dxi][0], s1 = c[dyi][dxi][1], s2 = c[dyi][dxi][2];
                    const double v0 = (i00 * s0 + i01 * s1 + i02 * s2) * inv_det;
                    const double v1 = (i01 * s0 + i11 * s1 + i12 * s2) * inv_det;
                    const double v2 = (i02 * s0 + i12 * s1 + i22 * s2) * inv_det;
                    for (int dyj = 0; dyj < 3; ++dyj) {
                        for (int dxj = 0; dxj < 3; ++dxj) {
                            double value =
                                -(1.0 + v0 * c[dyj][dxj][0] + v1 * c[dyj][dxj][1] + v2 * c[dyj][dxj][2]) / 9.0;
                            if (dyi == dyj && dxi == dxj) value += 1.0;
                            const std::int32_t q = number[(y + dyj - 1) * w + x + dxj - 1];
                            if (q >= 0) {
                                stencil(p, dyj - dyi + 2, dxj - dxi + 2) += value;
                            } else {
                                rhs(p) -= value * known(y + dyj - 1, x + dxj - 1);
                            }
                        }
                    }
                }
            }
        }
    }
}

// out = A v, with v scattered on ``grid`` (the image padded by 2 on each side, zero at every known pixel).
void matvec(const double* stencil, const std::int64_t* ys, const std::int64_t* xs, py::ssize_t n,
            const std::vector<double>& grid, py::ssize_t grid_width, double* out) {
    for (py::ssize_t p = 0; p < n; ++p) {
        const double* taps = stencil + p * kTaps;
        const double* window = grid.data() + ys[p] * grid_width + xs[p];
        double s = 0.0;
        for (int dy = 0; dy < kStencil; ++dy)
            for (int dx = 0; dx < kStencil; ++dx) s += taps[dy * kStencil + dx] * window[dy * grid_width + dx];
        out[p] = s;
    }
}

void scatter(const std::int64_t* ys, const std::int64_t* xs, py::ssize_t n, const double* values,
             std::vector<double>& grid, py::ssize_t grid_width) {
    for (py::ssize_t p = 0; p < n; ++p) grid[(ys[p] + 2) * grid_width + xs[p] + 2] = values[p];
}

// Jacobi-preconditioned conjugate gradients on A x = b, improving ``x`` in place; stops after ``iterations`` steps
// or once |r| <= tolerance |b|. Returns the steps taken. Single-threaded on purpose (see BandSystem.solve).
int solve_pcg(const Input<double>& stencil_array, const Input<std::int32_t>& index, const Input<std::int64_t>& ys,
              const Input<std::int64_t>& xs, const Input<double>& b_array, py::array x_array, int iterations,
              double tolerance) {
    auto x = output<double, 1>(x_array, "x");
    const py::ssize_t n = b_array.size();
    check_shape(b_array, {n}, "b");
    check_shape(x_array, {n}, "x");
    check_shape(stencil_array, {n, kStencil, kStencil}, "stencil");
    if (index.ndim() != 2) throw py::value_error("index must be HxW");
    const py::ssize_t h = index.shape(0), w = index.shape(1);
    check_band(ys, xs, n, h, w);
    const double* stencil = stencil_array.data();
    const double* b = b_array.data();
    const std::int64_t* py_ys = ys.data();
    const std::int64_t* py_xs = xs.data();

    py::gil_scoped_release release;
    const py::ssize_t grid_width = w + 4;
    std::vector<double> grid((h + 4) * grid_width, 0.0);
    std::vector<double> inverse(n, 1.0), r(n), q(n), z(n), p(n), current(n);
    for (py::ssize_t i = 0; i < n; ++i) {
        const double diagonal = stencil[i * kTaps + 2 * kStencil + 2];
        if (diagonal > 0.0) inverse[i] = 1.0 / diagonal;
        current[i] = x(i);
    }
    scatter(py_ys, py_xs, n, current.data(), grid, grid_width);
    matvec(stencil, py_ys, py_xs, n, grid, grid_width, q.data());
    double rz = 0.0, bb = 0.0, rr = 0.0;
    for (py::ssize_t i = 0; i < n; ++i) {
        r[i] = b[i] - q[i];
        z[i] = inverse[i] * r[i];
        p[i] = z[i];
        rz += r[i] * z[i];
        bb += b[i] * b[i];
        rr += r[i] * r[i];
    }
    const double stop = tolerance * tolerance * std::max(bb, 1e-300);
    int step = 0;
    for (; step < iterations; ++step) {
        if (rr <= stop || rz <= 0.0) break;
        scatter(py_ys, py_xs, n, p.data(), grid, grid_width);
        matvec(stencil, py_ys, py_xs, n, grid, grid_width, q.data());
        double pq = 0.0;
        for (py::ssize_t i = 0; i < n; ++i) pq += p[i] * q[i];
        if (pq <= 0.0) break;
        const double a = rz / pq;
        double rz_next = 0.0;
        rr = 0.0;
        for (py::ssize_t i = 0; i < n; ++i) {
            current[i] += a * p[i];
            r[i] -= a * q[i];
            z[i] = inverse[i] * r[i];
            rz_next += r[i] * z[i];
            rr += r[i] * r[i];
        }
        const double beta = rz_next / rz;
        rz = rz_next;
        for (py::ssize_t i = 0; i < n; ++i) p[i] = z[i] + beta * p[i];
    }
    for (py::ssize_t i = 0; i < n; ++i) x(i) = current[i];
    return step;
}

// A's nonzero entries in CSR order (row by row, columns in stencil order) into the caller's arrays; returns
// their count.
py::ssize_t band_to_csr(const Input<std::int32_t>& index, const Input<std::int64_t>& ys,
                        const Input<std::int64_t>& xs, const Input<double>& stencil_array, py::array indptr_array,
                        py::array indices_array, py::array values_array) {
    auto indptr = output<std::int64_t, 1>(indptr_array, "indptr");
    auto indices = output<std::int64_t, 1>(indices_array, "indices");
    auto values = output<double, 1>(values_array, "values");
    if (index.ndim() != 2) throw py::value_error("index must be HxW");
    const py::ssize_t h = index.shape(0), w = index.shape(1), n = ys.size();
    check_band(ys, xs, n, h, w);
    check_shape(stencil_array, {n, kStencil, kStencil}, "stencil");
    check_shape(indptr_array, {n + 1}, "indptr");
    if (indices.shape(0) < n * kTaps || values.shape(0) < n * kTaps) {
        throw py::value_error("indices and values need room for 25 entries per row");
    }
    const std::int32_t* number = index.data();
    const double* stencil = stencil_array.data();

    py::gil_scoped_release release;
    py::ssize_t k = 0;
    for (py::ssize_t p = 0; p < n; ++p) {
        const py::ssize_t y = ys.data()[p], x = xs.data()[p];
        for (int dy = 0; dy < kStencil; ++dy) {
            for (int dx = 0; dx < kStencil; ++dx) {
                const py::ssize_t yy = y + dy - 2, xx = x + dx - 2;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                const std::int32_t q = number[yy * w + xx];
                const double v = stencil[p * kTaps + dy * kStencil + dx];
                if (q >= 0 && v != 0.0) {
                    indices(k) = q;
                    values(k) = v;
                    ++k;
                }
            }
        }
        indptr(p + 1) = k;
    }
    return k;
}

}  // namespace

void bind_laplacian(py::module_& m) {
    m.def("assemble_stencils", &assemble_stencils, py::arg("image"), py::arg("index"), py::arg("alpha"),
          py::arg("epsilon"), py::arg("stencil"), py::arg("rhs"),
          "Adds the band's matting Laplacian into ``stencil`` (n x 5 x 5) and ``rhs`` (n), both float64, in place.");
    m.def("solve_pcg", &solve_pcg, py::arg("stencil"), py::arg("index"), py::arg("ys"), py::arg("xs"),
          py::arg("b"), py::arg("x"), py::arg("iterations"), py::arg("tolerance"),
          "Jacobi-preconditioned conjugate gradients improving ``x`` (float64) in place; returns the steps taken.");
    m.def("band_to_csr", &band_to_csr, py::arg("index"), py::arg("ys"), py::arg("xs"), py::arg("stencil"),
          py::arg("indptr"), py::arg("indices"), py::arg("values"),
          "Fills CSR arrays (int64, int64, float64) from the stencils; returns the number of entries.");
}

}  // namespace retouch::cutout
