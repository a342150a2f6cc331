// Python binding of the patch engine: retouch.tools.erase._patch.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <utility>

#include "complete.hpp"

namespace py = pybind11;
using namespace retouch::patch;

namespace {

py::array_t<float> inpaint(py::array_t<float, py::array::c_style | py::array::forcecast> image,
                           py::array_t<bool, py::array::c_style | py::array::forcecast> hole, uint64_t seed,
                           const std::function<void(int, int)>& progress) {
    if (image.ndim() != 3 || image.shape(2) != 3) throw py::value_error("image must be HxWx3 float32");
    if (hole.ndim() != 2 || hole.shape(0) != image.shape(0) || hole.shape(1) != image.shape(1))
        throw py::value_error("hole must be HxW, the image's size");
    const int h = static_cast<int>(image.shape(0)), w = static_cast<int>(image.shape(1));
    Image img(h, w, 3);
    std::memcpy(img.px.data(), image.data(), img.px.size() * sizeof(float));
    Mask mask(h, w);
    const bool* m = hole.data();
    for (size_t i = 0; i < mask.v.size(); ++i) mask.v[i] = m[i];
    Image out;
    {
        py::gil_scoped_release free_threads;
        out = complete(std::move(img), mask, seed, [&](int done, int total) {
            py::gil_scoped_acquire python;
            progress(done, total);
        });
    }
    py::array_t<float> result({h, w, 3});
    std::memcpy(result.mutable_data(), out.px.data(), out.px.size() * sizeof(float));
    return result;
}

}  // namespace

PYBIND11_MODULE(_patch, m) {
    m.doc() = "Retouch's exemplar-based image completion (see retouch.tools.erase.patch).";
    m.def("inpaint", &inpaint, py::arg("image"), py::arg("hole"), py::arg("seed"), py::arg("progress"),
          "Fill hole (HxW bool) of image (HxWx3 float32 in [0, 1]); returns a new HxWx3 float32 array.");
}
