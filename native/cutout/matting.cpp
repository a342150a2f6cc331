// The per-label maximum that matting._core needs (the depth of each region's deepest pixel); neither NumPy nor
// OpenCV has a grouped maximum that takes one pass.
#include <algorithm>

#include "kernels.hpp"

namespace retouch::cutout {
namespace {

// The largest value of each label in [0, count) (0 for a label with no pixel).
py::array_t<float> label_maxima(const Input<std::int32_t>& labels, const Input<float>& values, py::ssize_t count) {
    if (labels.ndim() != 2) throw py::value_error("labels must be HxW");
    check_shape(values, {labels.shape(0), labels.shape(1)}, "values");
    if (count < 0) throw py::value_error("count must be >= 0");
    py::array_t<float> result(count);
    float* maxima = result.mutable_data();
    const std::int32_t* label = labels.data();
    const float* value = values.data();
    const py::ssize_t n = labels.size();
    bool outside = false;
    {
        py::gil_scoped_release release;
        std::fill(maxima, maxima + count, 0.0f);
        for (py::ssize_t i = 0; i < n; ++i) {
            const std::int32_t k = label[i];
            if (k < 0 || k >= count) {
                outside = true;
                break;
            }
            if (value[i] > maxima[k]) maxima[k] = value[i];
        }
    }
    if (outside) throw py::value_error("a label lies outside [0, count)");
    return result;
}

}  // namespace

void bind_matting(py::module_& m) {
    m.def("label_maxima", &label_maxima, py::arg("labels"), py::arg("values"), py::arg("count"),
          "The largest value of each label (float32, ``count`` of them; 0 for a label with no pixel).");
}

}  // namespace retouch::cutout
