#include "features.hpp"

#include <algorithm>
#include <cmath>

#include "parallel.hpp"

namespace retouch::patch {
namespace {
constexpr int WINDOW = 3;  // radius of the contrast window
}

void update_features(const Image& img, float contrast_weight, const Box& box, Image& features) {
    const int h = img.height, w = img.width;
    // integral images of the luminance and its square over the box grown by the window
    const int ya = std::max(box.y0 - WINDOW, 0), yb = std::min(box.y1 + WINDOW, h);
    const int xa = std::max(box.x0 - WINDOW, 0), xb = std::min(box.x1 + WINDOW, w);
    const int iw = xb - xa + 1;
    std::vector<double> sum(static_cast<size_t>(yb - ya + 1) * iw, 0.0), sum2(sum.size(), 0.0);
    for (int y = ya; y < yb; ++y) {
        double row = 0.0, row2 = 0.0;
        const size_t k = static_cast<size_t>(y - ya + 1) * iw;
        for (int x = xa; x < xb; ++x) {
            const float* p = img.at(y, x);
            const double l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            row += l;
            row2 += l * l;
            sum[k + x - xa + 1] = sum[k - iw + x - xa + 1] + row;
            sum2[k + x - xa + 1] = sum2[k - iw + x - xa + 1] + row2;
        }
    }
    const int chunks = 16, rows = box.y1 - box.y0;
    parallel_chunks(chunks, [&](int chunk) {
        for (int y = box.y0 + rows * chunk / chunks; y < box.y0 + rows * (chunk + 1) / chunks; ++y) {
            const int y0 = std::max(y - WINDOW, 0) - ya, y1 = std::min(y + WINDOW + 1, h) - ya;
            for (int x = box.x0; x < box.x1; ++x) {
                const int x0 = std::max(x - WINDOW, 0) - xa, x1 = std::min(x + WINDOW + 1, w) - xa;
                auto window = [&](const std::vector<double>& s) {
                    return s[static_cast<size_t>(y1) * iw + x1] - s[static_cast<size_t>(y0) * iw + x1] -
                           s[static_cast<size_t>(y1) * iw + x0] + s[static_cast<size_t>(y0) * iw + x0];
                };
                const double n = static_cast<double>((y1 - y0) * (x1 - x0)), mean = window(sum) / n;
                const double variance = std::max(window(sum2) / n - mean * mean, 0.0);
                float* f = features.at(y, x);
                std::copy_n(img.at(y, x), 3, f);
                f[3] = contrast_weight * static_cast<float>(std::sqrt(variance));
            }
        }
    });
}

}  // namespace retouch::patch
