// Blur fusion's last step (foreground.py): at each soft pixel, the residual of the compositing equation given to
// the foreground, with the local means enlarged bilinearly on the fly, so the enlarged means (two full-size colour
// images) are never stored.
#include <algorithm>

#include "kernels.hpp"

namespace retouch::cutout {
namespace {

// out = clip(F + a (I - a F - (1 - a) B)) where 0 < a < 1, F and B the bilinearly enlarged means; other pixels of
// ``out`` are left as they are. The weights are float64, as the numba version computed them, so results match it.
void finish_foreground(const Strided<float>& image, const Strided<float>& alpha, const Input<float>& fg_mean,
                       const Input<float>& bg_mean, const Axis& rows, const Axis& cols, py::array out_array) {
    auto out = output<float, 3>(out_array, "out");
    const py::ssize_t h = out.shape(0), w = out.shape(1);
    if (out.shape(2) != 3) throw py::value_error("out must have 3 channels");
    check_shape(image, {h, w, 3}, "image");
    check_shape(alpha, {h, w}, "alpha");
    if (fg_mean.ndim() != 3 || fg_mean.shape(2) != 3) throw py::value_error("fg_mean must be HxWx3");
    const py::ssize_t mh = fg_mean.shape(0), mw = fg_mean.shape(1);
    check_shape(bg_mean, {mh, mw, 3}, "bg_mean");
    const AxisView ry = axis_view(rows, h, mh, "rows"), rx = axis_view(cols, w, mw, "cols");
    auto img = image.unchecked<3>();
    auto a_at = alpha.unchecked<2>();
    const float* fg = fg_mean.data();
    const float* bg = bg_mean.data();

    py::gil_scoped_release release;
    for (py::ssize_t y = 0; y < h; ++y) {
        const double fy = ry.weight[y];
        const py::ssize_t row0 = ry.first[y] * mw, row1 = ry.second[y] * mw;
        for (py::ssize_t x = 0; x < w; ++x) {
            const double a = a_at(y, x);
            if (a <= 0.0 || a >= 1.0) continue;
            const double fx = rx.weight[x];
            const py::ssize_t x0 = rx.first[x], x1 = rx.second[x];
            const double w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
            const py::ssize_t i00 = (row0 + x0) * 3, i01 = (row0 + x1) * 3, i10 = (row1 + x0) * 3,
                              i11 = (row1 + x1) * 3;
            for (int c = 0; c < 3; ++c) {
                double f = w00 * fg[i00 + c] + w01 * fg[i01 + c];
                f += w10 * fg[i10 + c] + w11 * fg[i11 + c];
                double b = w00 * bg[i00 + c] + w01 * bg[i01 + c];
                b += w10 * bg[i10 + c] + w11 * bg[i11 + c];
                const double value = f + a * (img(y, x, c) - a * f - (1 - a) * b);
                out(y, x, c) = static_cast<float>(std::min(std::max(value, 0.0), 1.0));
            }
        }
    }
}

}  // namespace

void bind_foreground(py::module_& m) {
    m.def("finish_foreground", &finish_foreground, py::arg("image"), py::arg("alpha"), py::arg("fg_mean"),
          py::arg("bg_mean"), py::arg("rows"), py::arg("cols"), py::arg("out"),
          "Blur fusion's last step at each soft pixel of ``out`` (HxWx3 float32, written in place; may be a view).");
}

}  // namespace retouch::cutout
