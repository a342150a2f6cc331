#include "membrane.hpp"

#include <algorithm>

#include "parallel.hpp"

namespace retouch::patch {
namespace {

constexpr int SWEEPS = 12;          // relaxation sweeps per level after the coarser solution is brought up
constexpr float OVER_RELAX = 1.6f;  // successive over-relaxation factor
constexpr int SMALLEST = 8;         // below this side the cascade stops and relaxes to convergence

// One unknown pixel and the values its mean is taken over (its non-OUTSIDE 4-neighbours), as offsets into px.
struct Stencil {
    size_t at;
    size_t neighbours[4];
    int count;
};

// Red-black Gauss-Seidel sweeps with over-relaxation over the UNKNOWN pixels: a pixel's neighbours all have the
// other colour, so each half-sweep can be split among threads and gives the same result on any thread count.
void relax(Image& values, const Mask& state, int sweeps, float omega) {
    const int h = values.height, w = values.width, c = values.channels;
    std::vector<Stencil> colours[2];
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int i = y * w + x;
            if (state.v[i] != UNKNOWN) continue;
            Stencil s{static_cast<size_t>(i) * c, {}, 0};
            const int around[4] = {y > 0 ? i - w : -1, y + 1 < h ? i + w : -1, x > 0 ? i - 1 : -1,
                                   x + 1 < w ? i + 1 : -1};
            for (const int j : around)
                if (j >= 0 && state.v[j] != OUTSIDE) s.neighbours[s.count++] = static_cast<size_t>(j) * c;
            if (s.count) colours[(x + y) % 2].push_back(s);
        }
    float* px = values.px.data();
    for (int s = 0; s < sweeps; ++s)
        for (const std::vector<Stencil>& colour : colours) {
            const int n = static_cast<int>(colour.size()), chunks = n > 4096 ? 16 : 1;
            parallel_chunks(chunks, [&](int chunk) {
                for (int p = n * chunk / chunks; p < n * (chunk + 1) / chunks; ++p) {
                    const Stencil& st = colour[p];
                    const float inv = 1.0f / st.count;
                    for (int k = 0; k < c; ++k) {
                        float mean = 0.0f;
                        for (int j = 0; j < st.count; ++j) mean += px[st.neighbours[j] + k];
                        px[st.at + k] += omega * (mean * inv - px[st.at + k]);
                    }
                }
            });
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
    bool any_unknown = false;
    for (uint8_t s : state.v) any_unknown |= s == UNKNOWN;
    if (any_unknown) solve(values, state);
}

}  // namespace retouch::patch
