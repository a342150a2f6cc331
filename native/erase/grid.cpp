#include "grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace retouch::patch {

std::vector<float> chamfer_distance(const Mask& zero) {
    const int h = zero.height, w = zero.width;
    const float far = std::numeric_limits<float>::max() / 4, diag = std::sqrt(2.0f);
    std::vector<float> d(static_cast<size_t>(h) * w);
    for (size_t i = 0; i < d.size(); ++i) d[i] = zero.v[i] ? far : 0.0f;
    auto at = [&](int y, int x) -> float& { return d[static_cast<size_t>(y) * w + x]; };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            float& v = at(y, x);
            if (v == 0.0f) continue;
            if (x > 0) v = std::min(v, at(y, x - 1) + 1.0f);
            if (y > 0) {
                v = std::min(v, at(y - 1, x) + 1.0f);
                if (x > 0) v = std::min(v, at(y - 1, x - 1) + diag);
                if (x + 1 < w) v = std::min(v, at(y - 1, x + 1) + diag);
            }
        }
    for (int y = h - 1; y >= 0; --y)
        for (int x = w - 1; x >= 0; --x) {
            float& v = at(y, x);
            if (v == 0.0f) continue;
            if (x + 1 < w) v = std::min(v, at(y, x + 1) + 1.0f);
            if (y + 1 < h) {
                v = std::min(v, at(y + 1, x) + 1.0f);
                if (x + 1 < w) v = std::min(v, at(y + 1, x + 1) + diag);
                if (x > 0) v = std::min(v, at(y + 1, x - 1) + diag);
            }
        }
    return d;
}

Mask dilate_square(const Mask& set, int radius) {
    const int h = set.height, w = set.width;
    Mask rows(h, w), out(h, w);
    // separable: a running count along each row, then along each column
    for (int y = 0; y < h; ++y) {
        int count = 0;
        for (int x = 0; x < std::min(radius, w); ++x) count += set.at(y, x) != 0;
        for (int x = 0; x < w; ++x) {
            if (x + radius < w) count += set.at(y, x + radius) != 0;
            if (x - radius - 1 >= 0) count -= set.at(y, x - radius - 1) != 0;
            rows.at(y, x) = count > 0;
        }
    }
    for (int x = 0; x < w; ++x) {
        int count = 0;
        for (int y = 0; y < std::min(radius, h); ++y) count += rows.at(y, x);
        for (int y = 0; y < h; ++y) {
            if (y + radius < h) count += rows.at(y + radius, x);
            if (y - radius - 1 >= 0) count -= rows.at(y - radius - 1, x);
            out.at(y, x) = count > 0;
        }
    }
    return out;
}

}  // namespace retouch::patch
