#include "features.hpp"

#include <algorithm>
#include <cmath>

#include "parallel.hpp"

namespace retouch::patch {
namespace {
constexpr int WINDOW = 3;  // radius of the contrast window
constexpr int CHUNKS = 16;

uint8_t to_step(float v) { return static_cast<uint8_t>(std::clamp(v, 0.0f, 1.0f) * FEATURE_STEPS + 0.5f); }
}  // namespace

void update_features(const Image& img, float contrast_weight, const Box& box, Features& features) {
    const int h = img.height, w = img.width;
    const int xa = std::max(box.x0 - WINDOW, 0), xb = std::min(box.x1 + WINDOW, w), bw = box.x1 - box.x0;
    const int rows = box.y1 - box.y0;
    // Each chunk of rows sums the luminance and its square over the 7x7 window separably, with running sums: along
    // the rows it reads (its own and WINDOW more on each side), then down the columns. Sums are in double: the
    // variance is a difference of two large sums.
    parallel_chunks(CHUNKS, [&](int chunk) {
        const int first = box.y0 + rows * chunk / CHUNKS, last = box.y0 + rows * (chunk + 1) / CHUNKS;
        if (first == last) return;
        const int ya = std::max(first - WINDOW, 0), yb = std::min(last + WINDOW, h);
        std::vector<double> lum(xb - xa), sum1(static_cast<size_t>(yb - ya) * bw), sum2(sum1.size());
        for (int y = ya; y < yb; ++y) {
            for (int x = xa; x < xb; ++x) {
                const float* p = img.at(y, x);
                lum[x - xa] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            }
            double* s1 = &sum1[static_cast<size_t>(y - ya) * bw];
            double* s2 = &sum2[static_cast<size_t>(y - ya) * bw];
            double a = 0.0, b = 0.0;  // over columns [x - WINDOW, x + WINDOW] of the image
            auto add = [&](int x, double sign) { a += sign * lum[x - xa], b += sign * lum[x - xa] * lum[x - xa]; };
            for (int x = xa; x < std::min(box.x0 + WINDOW, w); ++x) add(x, 1.0);
            for (int x = box.x0; x < box.x1; ++x) {
                if (x + WINDOW < w) add(x + WINDOW, 1.0);
                if (x - WINDOW - 1 >= xa) add(x - WINDOW - 1, -1.0);
                s1[x - box.x0] = a;
                s2[x - box.x0] = b;
            }
        }
        std::vector<double> col1(bw, 0.0), col2(bw, 0.0);  // over rows [y - WINDOW, y + WINDOW] of the image
        auto add_row = [&](int y, double sign) {
            const double* s1 = &sum1[static_cast<size_t>(y - ya) * bw];
            const double* s2 = &sum2[static_cast<size_t>(y - ya) * bw];
            for (int i = 0; i < bw; ++i) col1[i] += sign * s1[i], col2[i] += sign * s2[i];
        };
        for (int y = ya; y < std::min(first + WINDOW, h); ++y) add_row(y, 1.0);
        for (int y = first; y < last; ++y) {
            if (y + WINDOW < h) add_row(y + WINDOW, 1.0);
            if (y - WINDOW - 1 >= ya) add_row(y - WINDOW - 1, -1.0);
            const int window_rows = std::min(y + WINDOW, h - 1) - std::max(y - WINDOW, 0) + 1;
            for (int x = box.x0; x < box.x1; ++x) {
                const int cols = std::min(x + WINDOW, w - 1) - std::max(x - WINDOW, 0) + 1;
                const double n = static_cast<double>(window_rows * cols), mean = col1[x - box.x0] / n;
                const double variance = std::max(col2[x - box.x0] / n - mean * mean, 0.0);
                uint8_t* f = features.at(y, x);
                const float* p = img.at(y, x);
                for (int k = 0; k < 3; ++k) f[k] = to_step(p[k]);
                f[3] = to_step(contrast_weight * static_cast<float>(std::sqrt(variance)));
            }
        }
    });
}

}  // namespace retouch::patch
