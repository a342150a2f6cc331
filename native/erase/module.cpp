// Python binding of the patch engine: retouch.tools.erase._patch.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "complete.hpp"
#include "tuning.hpp"

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
        out = complete(img, mask, seed, [&](int done, int total) {
            py::gil_scoped_acquire python;
            progress(done, total);
        });
    }
    py::array_t<float> result({h, w, 3});
    std::memcpy(result.mutable_data(), out.px.data(), out.px.size() * sizeof(float));
    return result;
}

}  // namespace

namespace retouch::patch {
Settings& settings() {
    static Settings s;
    return s;
}
}  // namespace retouch::patch

PYBIND11_MODULE(_patch, m) {
    m.doc() = "Retouch's exemplar-based image completion (see retouch.tools.erase.patch).";
    m.def("inpaint", &inpaint, py::arg("image"), py::arg("hole"), py::arg("seed"), py::arg("progress"),
          "Fill hole (HxW bool) of image (HxWx3 float32 in [0, 1]); returns a new HxWx3 float32 array.");
    m.def("_tune", [](const py::dict& d) {
        Settings& s = settings();
        for (auto item : d) {
            const std::string k = py::str(item.first);
            py::handle v = item.second;
            if (k == "confidence_decay") s.confidence_decay = v.cast<float>();
            else if (k == "similarity_percentile") s.similarity_percentile = v.cast<float>();
            else if (k == "coarsest_depth") s.coarsest_depth = v.cast<float>();
            else if (k == "source_band") s.source_band = v.cast<float>();
            else if (k == "min_source_band") s.min_source_band = v.cast<float>();
            else if (k == "shallow_levels") s.shallow_levels = v.cast<int>();
            else if (k == "coarse_em") s.coarse_em = v.cast<int>();
            else if (k == "coarse_pm") s.coarse_pm = v.cast<int>();
            else if (k == "mid_em") s.mid_em = v.cast<int>();
            else if (k == "mid_pm") s.mid_pm = v.cast<int>();
            else if (k == "mid_radius") s.mid_radius = v.cast<int>();
            else if (k == "mid_global") s.mid_global = v.cast<bool>();
            else if (k == "fine_em") s.fine_em = v.cast<int>();
            else if (k == "fine_pm") s.fine_pm = v.cast<int>();
            else if (k == "fine_radius") s.fine_radius = v.cast<int>();
            else if (k == "final_best") s.final_vote = v.cast<bool>() ? VoteMode::BEST : VoteMode::MEAN;
            else if (k == "blend") s.blend = v.cast<bool>();
            else if (k == "best_levels") s.best_levels = v.cast<int>();
            else if (k == "known_first") s.known_first = v.cast<bool>();
            else if (k == "contrast_weight") s.contrast_weight = v.cast<float>();
            else throw py::key_error(k);
        }
    });
}
