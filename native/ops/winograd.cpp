// retouch.ops._winograd: the data transforms of Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016) for 3x3 convolutions with stride 1 and a border of 1,
// on channels-last feature maps.
//
// Why our own: a 3x3 convolution computed this way needs 36 multiplications per 16 outputs instead of 144, so the
// upscalers' float32 convolutions run in a quarter of the multiplications on any CPU (no bfloat16 or int8 needed,
// results within float32 rounding of the direct convolution). PyTorch's only Winograd
// path (NNPACK) fails to start on many virtual machines (it does on the one this was written on), and the oneDNN
// and ONNX Runtime builds Retouch uses compute these convolutions directly. The 36 matrix products in between run
// in PyTorch (MKL); only the transforms, which are memory-bound, are here.
//
// Layouts. A feature map is [rows + 2 + pad, cols + 2 + pad, channels] float32 with a frame that is the
// convolution's padding (zeros, or reflected pixels): pixel (y, x) at [y + 1, x + 1]; its height and width are
// 4 * tiles + 2. Transformed data is [36, tiles, channels]: for each of the 6x6 positions a matrix with one row per
// 4x4 output tile (row-major over the tile grid), so each product is (tiles x in) @ (in x out) and a dense block's
// growing input is a slice of the same columns.
//
// The vector helpers below are inline functions of this file only: GCC's note that passing vectors wider than
// the target's registers changed ABI long ago does not concern them.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "parallel.hpp"

namespace retouch::ops {

namespace py = pybind11;

namespace detail {

template <typename T>
using Array = py::array_t<T, py::array::c_style>;

constexpr int kLanes = 16;  // channel counts and column offsets are multiples of this
// Channels transformed together: one register of the widest vectors the compiler may use (two AVX2 registers for
// 16 channels made the output transform twice as slow on a Haswell build as 8 channels in one).
#if defined(__AVX512F__)
constexpr int kWidth = 16;
#else
constexpr int kWidth = 8;
#endif
constexpr int kChunks = 64;  // fixed work split (results never depend on the thread count)
// Below this many tile-channels a transform runs on the calling thread alone. The matrix products in between run
// in PyTorch, whose OpenMP threads spin for a while after each product: a short transform spread over threads
// then waits for cores those threads hold (measured on a 128x128 RRDBNet trunk, 2 cores: 0.78 s of transforms
// threaded, 0.47 s on one thread; 0.34 s threaded with OMP_WAIT_POLICY=PASSIVE). Long ones gain from threads.
constexpr std::int64_t kThreadedWork = std::int64_t{1} << 20;

// kWidth channels as one value (GCC and Clang vector extensions: portable, compiled to the target's registers).
typedef float Lanes __attribute__((vector_size(kWidth * sizeof(float))));

inline Lanes load(const float* p) {
    Lanes v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store(float* p, Lanes v) { std::memcpy(p, &v, sizeof v); }

// B^T d for six inputs (a column or a row of a 6x6 tile). B^T rows: (4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0),
// (0, 4, -4, -1, 1, 0), (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1).
inline void input_1d(const Lanes d[6], Lanes out[6]) {
    const Lanes a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];  // shared by rows 1 and 2
    const Lanes c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);          // shared by rows 3 and 4
    out[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    out[1] = a + b;
    out[2] = a - b;
    out[3] = c + e;
    out[4] = c - e;
    out[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

// A^T m for six inputs to four outputs. A^T rows: (1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0),
// (0, 1, -1, 8, -8, 1).
inline void output_1d(const Lanes m[6], Lanes out[4]) {
    const Lanes s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
    out[0] = m[0] + s12 + s34;
    out[1] = d12 + 2.0f * d34;
    out[2] = s12 + 4.0f * s34;
    out[3] = d12 + 8.0f * d34 + m[5];
}

struct Grid {
    int rows;  // tiles down
    int cols;  // tiles across
};

Grid grid_of(const Array<float>& map) {
    if (map.ndim() != 3 || (map.shape(0) - 2) % 4 != 0 || (map.shape(1) - 2) % 4 != 0 || map.shape(0) < 6 ||
        map.shape(1) < 6 || map.shape(2) % kLanes != 0) {
        throw std::invalid_argument("feature map must be [4n+2, 4m+2, 16k] float32");
    }
    return {static_cast<int>((map.shape(0) - 2) / 4), static_cast<int>((map.shape(1) - 2) / 4)};
}

void check_transformed(const Array<float>& data, const Grid& grid, std::int64_t first, std::int64_t channels) {
    if (data.ndim() != 3 || data.shape(0) != 36 || data.shape(1) != static_cast<std::int64_t>(grid.rows) * grid.cols ||
        first < 0 || first % kLanes != 0 || first + channels > data.shape(2)) {
        throw std::invalid_argument("transformed data must be [36, tiles, channels] and hold the channels given");
    }
}

// Calls body(ty, tx, tile, c) for every 4x4 output tile (row ty, column tx, index tile) and every block of kWidth
// channels from c, without the GIL, split into kChunks chunks of tile rows (on the calling thread alone for small
// maps: see kThreadedWork).
template <typename Body>
void each_tile(const Grid& grid, std::int64_t channels, const Body& body) {
    const int threads = static_cast<std::int64_t>(grid.rows) * grid.cols * channels < kThreadedWork ? 1 : 0;
    py::gil_scoped_release release;
    parallel_chunks(kChunks, [&](int chunk) {
        for (int ty = chunk; ty < grid.rows; ty += kChunks) {
            for (int tx = 0; tx < grid.cols; ++tx) {
                const std::int64_t tile = static_cast<std::int64_t>(ty) * grid.cols + tx;
                for (std::int64_t c = 0; c < channels; c += kWidth) body(ty, tx, tile, c);
            }
        }
    }, threads);
}

// The map's channels transformed into columns [first, first + channels) of data.
void input_transform(const Array<float>& map, Array<float>& data, std::int64_t first) {
    const Grid grid = grid_of(map);
    const std::int64_t channels = map.shape(2), width = map.shape(1), stride = data.shape(2);
    check_transformed(data, grid, first, channels);
    const float* src = map.data();
    float* dst = data.mutable_data();
    const std::int64_t plane = static_cast<std::int64_t>(grid.rows) * grid.cols * stride;
    each_tile(grid, channels, [&](int ty, int tx, std::int64_t tile, std::int64_t c) {
        // Columns first (B^T d for each of the six columns), then rows (· B).
        Lanes columns[6][6];  // [x][y]
        for (int x = 0; x < 6; ++x) {
            Lanes d[6];
            for (int y = 0; y < 6; ++y) d[y] = load(src + ((4 * ty + y) * width + 4 * tx + x) * channels + c);
            input_1d(d, columns[x]);
        }
        for (int y = 0; y < 6; ++y) {
            Lanes d[6], out[6];
            for (int x = 0; x < 6; ++x) d[x] = columns[x][y];
            input_1d(d, out);
            for (int x = 0; x < 6; ++x) store(dst + (y * 6 + x) * plane + tile * stride + first + c, out[x]);
        }
    });
}

// The products' sums back to pixels: map's interior (rows x cols pixels) = act(A^T m A + bias) * scale
// (+ residual's interior where given, a map of the same shape). act multiplies negative values by the channel's
// slope (a leaky or parametric ReLU; none where the slope is 1, ReLU where 0). The frame and the pixels past
// rows / cols stay as they are.
void output_transform(const Array<float>& data, const Array<float>& bias, const Array<float>& slopes,
                      Array<float>& map, int rows, int cols, float scale, const py::object& residual) {
    const Grid grid = grid_of(map);
    const std::int64_t channels = map.shape(2), width = map.shape(1);
    check_transformed(data, grid, 0, channels);
    if (data.shape(2) != channels || bias.ndim() != 1 || bias.shape(0) != channels || slopes.ndim() != 1 ||
        slopes.shape(0) != channels || rows < 1 || cols < 1 ||
        rows > 4 * grid.rows || cols > 4 * grid.cols) {
        throw std::invalid_argument("output: data, bias and map disagree on channels or size");
    }
    const float* add = nullptr;
    Array<float> residual_array;
    if (!residual.is_none()) {
        residual_array = residual.cast<Array<float>>();
        if (residual_array.ndim() != 3 || residual_array.shape(0) != map.shape(0) ||
            residual_array.shape(1) != map.shape(1) || residual_array.shape(2) != channels) {
            throw std::invalid_argument("residual must have the map's shape");
        }
        add = residual_array.data();
    }
    const float* src = data.data();
    const float* b = bias.data();
    const float* a = slopes.data();
    float* dst = map.mutable_data();
    const std::int64_t plane = static_cast<std::int64_t>(grid.rows) * grid.cols * channels;
    each_tile(grid, channels, [&](int ty, int tx, std::int64_t tile, std::int64_t c) {
        Lanes columns[6][4];  // [x][y]
        for (int x = 0; x < 6; ++x) {
            Lanes m[6];
            for (int y = 0; y < 6; ++y) m[y] = load(src + (y * 6 + x) * plane + tile * channels + c);
            output_1d(m, columns[x]);
        }
        const Lanes shift = load(b + c), slope = load(a + c);
        for (int y = 0; y < 4 && 4 * ty + y < rows; ++y) {
            Lanes m[6], pixels[4];
            for (int x = 0; x < 6; ++x) m[x] = columns[x][y];
            output_1d(m, pixels);
            for (int x = 0; x < 4 && 4 * tx + x < cols; ++x) {
                const std::int64_t at = ((4 * ty + y + 1) * width + 4 * tx + x + 1) * channels + c;
                Lanes v = pixels[x] + shift;
                v = (v < 0.0f ? v * slope : v) * scale;
                if (add) v += load(add + at);
                store(dst + at, v);
            }
        }
    });
}

}  // namespace detail

}  // namespace retouch::ops

PYBIND11_MODULE(_winograd, m) {
    m.doc() = "Winograd F(4x4, 3x3) transforms for 3x3 convolutions on channels-last maps with a frame.";
    m.def("input_transform", &retouch::ops::detail::input_transform, pybind11::arg("map"), pybind11::arg("data"),
          pybind11::arg("first"), "A framed [4n+2, 4m+2, C] map's 6x6 tiles transformed into data[:, :, first:first + C].");
    m.def("output_transform", &retouch::ops::detail::output_transform, pybind11::arg("data"),
          pybind11::arg("bias"), pybind11::arg("slopes"), pybind11::arg("map"), pybind11::arg("rows"),
          pybind11::arg("cols"), pybind11::arg("scale"), pybind11::arg("residual"),
          "data [36, tiles, C] back to the interior of a framed map: act(conv + bias) * scale (+ residual).");
}

