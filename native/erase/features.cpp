#include "features.hpp"

#include <algorithm>
#include <cmath>

#include "parallel.hpp"

namespace retouch::patch {
namespace {
constexpr int WINDOW = 3;  // radius of the contrast window
constexpr int CHUNKS = 16;
}  // namespace

void update_features(const Image& img, float contrast_weight, const Box& box, Image& features) {
    const int h = img.height, w = img.width;
    // The window's sums of the luminance and of its square, separably: along each row over the box's columns
    // (for every row the box's windows reach), then down the columns; both passes split by rows among threads.
    const int ya = std::max(box.y0 - WINDOW, 0), yb = std::min(box.y1 + WINDOW, h);
    const int bw = box.x1 - box.x0;
    std::vector<double> row1(static_cast<size_t>(yb - ya) * bw), row2(row1.size());
    parallel_chunks(CHUNKS, [&](int chunk) {
        std::vector<double> lum(w);
        for (int y = ya + (yb - ya) * chunk / CHUNKS; y < ya + (yb - ya) * (chunk + 1) / CHUNKS; ++y) {
            const int xa = std::max(box.x0 - WINDOW, 0), xb = std::min(box.x1 + WINDOW, w);
            for (int x = xa; x < xb; ++x) {
                const float* p = img.at(y, x);
                lum[x] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            }
            double* s1 = &row1[static_cast<size_t>(y - ya) * bw];
            double* s2 = &row2[static_cast<size_t>(y - ya) * bw];
            for (int x = box.x0; x < box.x1; ++x) {
                double a = 0.0, b = 0.0;
                for (int xx = std::max(x - WINDOW, 0); xx <= std::min(x + WINDOW, w - 1); ++xx)
                    a += lum[xx], b += lum[xx] * lum[xx];
                s1[x - box.x0] = a;
                s2[x - box.x0] = b;
            }
        }
    });
    const int rows = box.y1 - box.y0;
    parallel_chunks(CHUNKS, [&](int chunk) {
        for (int y = box.y0 + rows * chunk / CHUNKS; y < box.y0 + rows * (chunk + 1) / CHUNKS; ++y) {
            const int y0 = std::max(y - WINDOW, 0), y1 = std::min(y + WINDOW, h - 1);
            for (int x = box.x0; x < box.x1; ++x) {
                double a = 0.0, b = 0.0;
                for (int yy = y0; yy <= y1; ++yy) {
                    const size_t k = static_cast<size_t>(yy - ya) * bw + (x - box.x0);
                    a += row1[k];
                    b += row2[k];
                }
                const int cols = std::min(x + WINDOW, w - 1) - std::max(x - WINDOW, 0) + 1;
                const double n = static_cast<double>((y1 - y0 + 1) * cols), mean = a / n;
                const double variance = std::max(b / n - mean * mean, 0.0);
                float* f = features.at(y, x);
                std::copy_n(img.at(y, x), 3, f);
                f[3] = contrast_weight * static_cast<float>(std::sqrt(variance));
            }
        }
    });
}

}  // namespace retouch::patch
