#include "membrane.hpp"

#include <algorithm>
#include <stdexcept>

namespace retouch::patch {
namespace {

constexpr int SWEEPS = 12;          // relaxation sweeps per level after the coarser solution is brought up
constexpr float OVER_RELAX = 1.6f;  // successive over-relaxation factor
constexpr int SMALLEST = 8;         // below this side the cascade stops and relaxes to convergence

constexpr int MAX_CHANNELS = 8;

// Gauss-Seidel sweeps with over-relaxation over the UNKNOWN pixels, in raster order (deterministic).
void relax(Image& values, const Mask& state, int sweeps, float omega) {
    const int h = values.height, w = values.width, c = values.channels;
    std::vector<int32_t> unknown;
    for (int i = 0; i < h * w; ++i)
        if (state.v[i] == UNKNOWN) unknown.push_back(i);
    for (int s = 0; s < sweeps; ++s)
        for (const int32_t i : unknown) {
            const int y = i / w, x = i % w;
            float mean[MAX_CHANNELS] = {};
            int n = 0;
            auto add = [&](int j) {
                if (state.v[j] == OUTSIDE) return;
                const float* p = &values.px[static_cast<size_t>(j) * c];
                for (int k = 0; k < c; ++k) mean[k] += p[k];
                ++n;
            };
            if (y > 0) add(i - w);
            if (y + 1 < h) add(i + w);
            if (x > 0) add(i - 1);
            if (x + 1 < w) add(i + 1);
            if (n == 0) continue;
            float* v = &values.px[static_cast<size_t>(i) * c];
            const float inv = 1.0f / n;
            for (int k = 0; k < c; ++k) v[k] += omega * (mean[k] * inv - v[k]);
        }
}

// Half size: a coarse pixel is FIXED (the mean of its fixed children) if any child is, else UNKNOWN if any
// child is, else OUTSIDE.
void coarsen(const Image& values, const Mask& state, Image& cvalues, Mask& cstate) {
    const int h = values.height, w = values.width, c = values.channels;
    const int ch = (h + 1) / 2, cw = (w + 1) / 2;
    cvalues = Image(ch, cw, c);
    cstate = Mask(ch, cw);
    for (int y = 0; y < ch; ++y)
        for (int x = 0; x < cw; ++x) {
            int fixed = 0;
            bool unknown = false;
            float* out = cvalues.at(y, x);
            for (int yy = 2 * y; yy < std::min(2 * y + 2, h); ++yy)
                for (int xx = 2 * x; xx < std::min(2 * x + 2, w); ++xx) {
                    uint8_t s = state.at(yy, xx);
                    if (s == FIXED) {
                        const float* p = values.at(yy, xx);
                        for (int k = 0; k < c; ++k) out[k] += p[k];
                        ++fixed;
                    } else if (s == UNKNOWN) {
                        unknown = true;
                    }
                }
            if (fixed) {
                for (int k = 0; k < c; ++k) out[k] /= fixed;
                cstate.at(y, x) = FIXED;
            } else if (unknown) {
                cstate.at(y, x) = UNKNOWN;
            }
        }
}

void solve(Image& values, const Mask& state) {
    const int h = values.height, w = values.width, c = values.channels;
    bool any_fixed = false;
    for (uint8_t s : state.v) any_fixed |= s == FIXED;
    if (std::min(h, w) <= SMALLEST || !any_fixed) {
        // start from the mean of the fixed values and relax until converged on this small grid
        std::vector<double> mean(c, 0.0);
        int n = 0;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                if (state.at(y, x) == FIXED) {
                    for (int k = 0; k < c; ++k) mean[k] += values.at(y, x)[k];
                    ++n;
                }
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                if (state.at(y, x) == UNKNOWN)
                    for (int k = 0; k < c; ++k) values.at(y, x)[k] = n ? static_cast<float>(mean[k] / n) : 0.0f;
        relax(values, state, 8 * std::max(h, w), 1.5f);
        return;
    }
    Image cvalues;
    Mask cstate;
    coarsen(values, state, cvalues, cstate);
    solve(cvalues, cstate);
    // every UNKNOWN pixel's parent is FIXED or UNKNOWN, so it has a value to start from
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            if (state.at(y, x) == UNKNOWN) std::copy_n(cvalues.at(y / 2, x / 2), c, values.at(y, x));
    relax(values, state, SWEEPS, OVER_RELAX);
}

}  // namespace

void membrane_fill(Image& values, const Mask& state) {
    if (values.channels > MAX_CHANNELS) throw std::invalid_argument("membrane_fill: too many channels");
    bool any_unknown = false;
    for (uint8_t s : state.v) any_unknown |= s == UNKNOWN;
    if (any_unknown) solve(values, state);
}

}  // namespace retouch::patch
