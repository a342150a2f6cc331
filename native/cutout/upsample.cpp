// The fast guided filter's last step (upsample.py): the per-window linear model a . I + b, its coefficients
// enlarged bilinearly on the fly, applied to every full-resolution pixel.
#include "kernels.hpp"

namespace retouch::cutout {
namespace {

// out = bilinear(a) . image + bilinear(b), snapped to 0 or 1 within 1e-4 of them; where the four nearest samples
// of the small matte are all 0 or all 1 that value is copied, so those pixels stay exact.
void apply_guided(const Input<float>& image, const Input<float>& a, const Input<float>& b,
                  const Input<float>& small_alpha, const Axis& rows, const Axis& cols, py::array out_array) {
    auto out = output<float, 2>(out_array, "out");
    const py::ssize_t h = out.shape(0), w = out.shape(1);
    check_shape(image, {h, w, 3}, "image");
    if (a.ndim() != 3 || a.shape(2) != 3) throw py::value_error("a must be hxwx3");
    const py::ssize_t sh = a.shape(0), sw = a.shape(1);
    check_shape(b, {sh, sw}, "b");
    check_shape(small_alpha, {sh, sw}, "small_alpha");
    const AxisView ry = axis_view(rows, h, sh, "rows"), rx = axis_view(cols, w, sw, "cols");
    const float* img = image.data();
    const float* ca = a.data();
    const float* cb = b.data();
    const float* small = small_alpha.data();

    py::gil_scoped_release release;
    for (py::ssize_t y = 0; y < h; ++y) {
        const double fy = ry.weight[y];
        const py::ssize_t row0 = ry.first[y] * sw, row1 = ry.second[y] * sw;
        for (py::ssize_t x = 0; x < w; ++x) {
            const double fx = rx.weight[x];
            const py::ssize_t i00 = row0 + rx.first[x], i01 = row0 + rx.second[x], i10 = row1 + rx.first[x],
                              i11 = row1 + rx.second[x];
            const float s00 = small[i00];
            if (s00 == small[i01] && s00 == small[i10] && s00 == small[i11] && (s00 == 0.0f || s00 == 1.0f)) {
                out(y, x) = s00;
                continue;
            }
            // float64 weights and sums, as the numba version computed them, so results match it.
            const double w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
            double value = w00 * cb[i00] + w01 * cb[i01] + w10 * cb[i10] + w11 * cb[i11];
            const float* pixel = img + (y * w + x) * 3;
            for (int c = 0; c < 3; ++c) {
                const double coefficient =
                    w00 * ca[i00 * 3 + c] + w01 * ca[i01 * 3 + c] + w10 * ca[i10 * 3 + c] + w11 * ca[i11 * 3 + c];
                value += coefficient * pixel[c];
            }
            if (value >= 1.0 - 1e-4) {  // within rounding of opaque or transparent: exact
                value = 1.0;
            } else if (value <= 1e-4) {
                value = 0.0;
            }
            out(y, x) = static_cast<float>(value);
        }
    }
}

}  // namespace

void bind_upsample(py::module_& m) {
    m.def("apply_guided", &apply_guided, py::arg("image"), py::arg("a"), py::arg("b"), py::arg("small_alpha"),
          py::arg("rows"), py::arg("cols"), py::arg("out"),
          "The guided filter's model applied at full resolution, into ``out`` (HxW float32).");
}

}  // namespace retouch::cutout
