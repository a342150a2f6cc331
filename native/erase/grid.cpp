#include "grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace retouch::patch {

std::vector<float> chamfer_distance(const Mask& zero) {
    const int h = zero.height, w = zero.width, pw = w + 2;
    const float far = std::numeric_limits<float>::max() / 4, diag = std::sqrt(2.0f);
    // On a copy framed by one pixel of `far` on every side, so the passes need no bounds checks.
    std::vector<float> d(static_cast<size_t>(h + 2) * pw, far);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) d[static_cast<size_t>(y + 1) * pw + x + 1] = zero.at(y, x) ? far : 0.0f;
    for (int y = 1; y <= h; ++y) {
        float* row = &d[static_cast<size_t>(y) * pw];
        const float* up = row - pw;
        for (int x = 1; x <= w; ++x)  // from the row above: independent per pixel
            row[x] = std::min(row[x], std::min(up[x] + 1.0f, std::min(up[x - 1], up[x + 1]) + diag));
        for (int x = 1; x <= w; ++x) row[x] = std::min(row[x], row[x - 1] + 1.0f);
    }
    for (int y = h; y >= 1; --y) {
        float* row = &d[static_cast<size_t>(y) * pw];
        const float* down = row + pw;
        for (int x = w; x >= 1; --x)
            row[x] = std::min(row[x], std::min(down[x] + 1.0f, std::min(down[x - 1], down[x + 1]) + diag));
        for (int x = w; x >= 1; --x) row[x] = std::min(row[x], row[x + 1] + 1.0f);
    }
    std::vector<float> out(static_cast<size_t>(h) * w);
    for (int y = 0; y < h; ++y)
        std::copy_n(&d[static_cast<size_t>(y + 1) * pw + 1], w, &out[static_cast<size_t>(y) * w]);
    return out;
}

Mask dilate_square(const Mask& set, int radius) {
    const int h = set.height, w = set.width;
    Mask rows(h, w), out(h, w);
    // separable: a running count along each row, then running counts down all columns at once (row by row, so
    // the memory is read in order)
    for (int y = 0; y < h; ++y) {
        int count = 0;
        for (int x = 0; x < std::min(radius, w); ++x) count += set.at(y, x) != 0;
        for (int x = 0; x < w; ++x) {
            if (x + radius < w) count += set.at(y, x + radius) != 0;
            if (x - radius - 1 >= 0) count -= set.at(y, x - radius - 1) != 0;
            rows.at(y, x) = count > 0;
        }
    }
    std::vector<int> count(w, 0);
    for (int y = 0; y < std::min(radius, h); ++y)
        for (int x = 0; x < w; ++x) count[x] += rows.at(y, x);
    for (int y = 0; y < h; ++y) {
        if (y + radius < h)
            for (int x = 0; x < w; ++x) count[x] += rows.at(y + radius, x);
        if (y - radius - 1 >= 0)
            for (int x = 0; x < w; ++x) count[x] -= rows.at(y - radius - 1, x);
        for (int x = 0; x < w; ++x) out.at(y, x) = count[x] > 0;
    }
    return out;
}

}  // namespace retouch::patch
