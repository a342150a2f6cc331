// What the cutout kernels share: how arrays are taken from Python and checked, and each file's bind function.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <tuple>

namespace retouch::cutout {

namespace py = pybind11;

// An input read as one block of memory (converted to this dtype and layout if it is not already).
template <typename T>
using Input = py::array_t<T, py::array::c_style | py::array::forcecast>;

// An input read through its strides: a crop of a larger photo, which a contiguous copy would cost more than the
// kernel itself.
template <typename T>
using Strided = py::array_t<T, py::array::forcecast>;

// upsample.sample_axis's result: for each output position the two source positions and the second's weight.
using Axis = std::tuple<Input<std::int64_t>, Input<std::int64_t>, Input<float>>;

struct AxisView {
    const std::int64_t* first;
    const std::int64_t* second;
    const float* weight;
};

inline void check_shape(const py::array& array, std::initializer_list<py::ssize_t> shape, const char* name) {
    bool same = array.ndim() == static_cast<py::ssize_t>(shape.size());
    py::ssize_t axis = 0;
    for (py::ssize_t size : shape) same = same && array.shape(axis++) == size;
    if (!same) throw py::value_error(std::string(name) + " has the wrong shape");
}

// An array the kernel writes into. It is taken as it is, never converted: a converted copy would be filled and
// thrown away, so a wrong dtype is an error rather than a silent no-op.
template <typename T, py::ssize_t Dims>
py::detail::unchecked_mutable_reference<T, Dims> output(py::array& array, const char* name) {
    if (!py::isinstance<py::array_t<T, 0>>(array) || array.ndim() != Dims || !array.writeable()) {
        throw py::value_error(std::string(name) + ": needs a writeable " + std::to_string(Dims) + "-d array of " +
                              std::string(py::str(py::dtype::of<T>())));
    }
    return array.mutable_unchecked<T, Dims>();
}

// The axis as raw pointers, once its lengths are ``size`` and its positions lie within ``source`` samples (the
// kernels index without bounds checks).
inline AxisView axis_view(const Axis& axis, py::ssize_t size, py::ssize_t source, const char* name) {
    const auto& [first, second, weight] = axis;
    check_shape(first, {size}, name);
    check_shape(second, {size}, name);
    check_shape(weight, {size}, name);
    AxisView view{first.data(), second.data(), weight.data()};
    for (py::ssize_t i = 0; i < size; ++i) {
        if (view.first[i] < 0 || view.first[i] >= source || view.second[i] < 0 || view.second[i] >= source) {
            throw py::value_error(std::string(name) + ": a position lies outside the source");
        }
    }
    return view;
}

void bind_foreground(py::module_& m);
void bind_laplacian(py::module_& m);
void bind_matting(py::module_& m);
void bind_upsample(py::module_& m);

}  // namespace retouch::cutout
