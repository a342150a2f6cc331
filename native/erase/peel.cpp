#include "peel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "constants.hpp"

namespace retouch::patch {
namespace {

float luminance(const float* p) { return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]; }

struct Peeler {
    Image& img;
    const Sources& sources;
    const int r, h, w, c;
    Mask known;
    std::vector<float> confidence;  // 1 for the photo's pixels; a copied pixel inherits its patch's confidence

    Peeler(Image& image, const Mask& hole, const Sources& s, int radius)
        : img(image), sources(s), r(radius), h(image.height), w(image.width), c(image.channels),
          known(hole.height, hole.width), confidence(hole.v.size(), 0.0f) {
        for (size_t i = 0; i < hole.v.size(); ++i) {
            known.v[i] = !hole.v[i];
            confidence[i] = known.v[i] ? 1.0f : 0.0f;
        }
    }

    bool on_front(int y, int x) const {
        if (known.at(y, x)) return false;
        return (y > 0 && known.at(y - 1, x)) || (y + 1 < h && known.at(y + 1, x)) ||
               (x > 0 && known.at(y, x - 1)) || (x + 1 < w && known.at(y, x + 1));
    }

    // Confidence term: the share of the patch that is known, weighted by how trustworthy those pixels are.
    float confidence_term(int y, int x) const {
        float sum = 0.0f;
        int n = 0;
        for (int yy = std::max(y - r, 0); yy <= std::min(y + r, h - 1); ++yy)
            for (int xx = std::max(x - r, 0); xx <= std::min(x + r, w - 1); ++xx, ++n)
                sum += confidence[static_cast<size_t>(yy) * w + xx];
        return sum / static_cast<float>(n);
    }

    // Data term: how strongly an edge in the known part of the patch runs into the front, |isophote . normal|.
    float data_term(int y, int x) const {
        // the front's normal: the gradient of the known indicator around (y, x)
        float ny = 0.0f, nx = 0.0f;
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int yy = std::clamp(y + dy, 0, h - 1), xx = std::clamp(x + dx, 0, w - 1);
                const float k = known.at(yy, xx) ? 1.0f : 0.0f;
                ny += dy * k * (dx == 0 ? 2.0f : 1.0f);
                nx += dx * k * (dy == 0 ? 2.0f : 1.0f);
            }
        const float norm = std::hypot(ny, nx);
        if (norm == 0.0f) return 0.0f;
        ny /= norm;
        nx /= norm;
        // the strongest isophote among the known pixels of the patch whose 3x3 neighbourhood is all known
        float best = 0.0f;
        for (int yy = std::max(y - r, 1); yy <= std::min(y + r, h - 2); ++yy)
            for (int xx = std::max(x - r, 1); xx <= std::min(x + r, w - 2); ++xx) {
                if (!all_known_around(yy, xx)) continue;
                const float gy = (luminance(img.at(yy + 1, xx)) - luminance(img.at(yy - 1, xx))) * 0.5f;
                const float gx = (luminance(img.at(yy, xx + 1)) - luminance(img.at(yy, xx - 1))) * 0.5f;
                // the isophote (-gx, gy) rotated from the gradient, dotted with the normal
                best = std::max(best, std::fabs(-gx * ny + gy * nx));
            }
        return best;
    }

    bool all_known_around(int y, int x) const {
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx)
                if (!known.at(y + dy, x + dx)) return false;
        return true;
    }

    // The source whose patch best matches the known pixels of the target patch (mean squared difference).
    int best_source(int y, int x) const {
        float best = std::numeric_limits<float>::max();
        int pick = -1;
        for (size_t s = 0; s < sources.y.size(); ++s) {
            const int sy = sources.y[s], sx = sources.x[s];
            float d = 0.0f;
            for (int dy = -r; dy <= r && d < best; ++dy) {
                const int ty = y + dy;
                if (ty < 0 || ty >= h) continue;
                for (int dx = -r; dx <= r; ++dx) {
                    const int tx = x + dx;
                    if (tx < 0 || tx >= w || !known.at(ty, tx)) continue;
                    const float* a = img.at(ty, tx);
                    const float* b = img.at(sy + dy, sx + dx);
                    for (int k = 0; k < c; ++k) d += (a[k] - b[k]) * (a[k] - b[k]);
                }
            }
            if (d < best) {
                best = d;
                pick = static_cast<int>(s);
            }
        }
        return pick;
    }

    void run() {
        for (;;) {
            float best_priority = -1.0f;
            int by = -1, bx = -1;
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    if (!on_front(y, x)) continue;
                    // the small constant lets confidence order the front where no edge reaches it
                    const float priority = confidence_term(y, x) * (data_term(y, x) + PEEL_FLAT_DATA);
                    if (priority > best_priority) {
                        best_priority = priority;
                        by = y;
                        bx = x;
                    }
                }
            if (by < 0) return;  // every pixel is known
            const float patch_confidence = confidence_term(by, bx);
            const int s = best_source(by, bx);
            const int sy = sources.y[s], sx = sources.x[s];
            for (int dy = -r; dy <= r; ++dy)
                for (int dx = -r; dx <= r; ++dx) {
                    const int ty = by + dy, tx = bx + dx;
                    if (ty < 0 || ty >= h || tx < 0 || tx >= w || known.at(ty, tx)) continue;
                    std::copy_n(img.at(sy + dy, sx + dx), c, img.at(ty, tx));
                    known.at(ty, tx) = 1;
                    confidence[static_cast<size_t>(ty) * w + tx] = patch_confidence;
                }
        }
    }
};

}  // namespace

void peel_fill(Image& img, const Mask& hole, const Sources& sources, int radius) {
    size_t unknown = 0;
    for (uint8_t b : hole.v) unknown += b != 0;
    if (sources.y.empty() || unknown > static_cast<size_t>(PEEL_MAX_HOLE)) return;
    Peeler(img, hole, sources, radius).run();
}

}  // namespace retouch::patch
