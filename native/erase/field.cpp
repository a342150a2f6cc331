#include "field.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>

#include "constants.hpp"
#include "features.hpp"
#include "parallel.hpp"

namespace retouch::patch {
namespace {

constexpr int BAND_ROWS = 24;  // rows per band of the parallel sweep
constexpr int MAX_BANDS = 64;

// [first, last) target indices of each band of rows; the split depends on the targets alone.
std::vector<int> band_starts(const Field& field) {
    std::vector<int> starts{0};
    const int n = static_cast<int>(field.ty.size());
    if (n == 0) return {0, 0};
    const int y0 = field.ty.front(), rows = field.ty.back() - y0 + 1;
    const int bands = std::clamp(rows / BAND_ROWS, 1, MAX_BANDS);
    for (int b = 1; b < bands; ++b) {
        const int row = y0 + static_cast<int>(static_cast<int64_t>(rows) * b / bands);
        const int first = static_cast<int>(
            std::lower_bound(field.ty.begin(), field.ty.end(), row) - field.ty.begin());
        starts.push_back(first);
    }
    starts.push_back(n);
    return starts;
}

}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b) {
    Random r(a * 0x100000001B3ull ^ (b + 0x9E3779B97F4A7C15ull));
    return r.next();
}

Field make_targets(const Mask& near) {
    Field f;
    f.index.assign(near.v.size(), -1);
    for (int y = 0; y < near.height; ++y)
        for (int x = 0; x < near.width; ++x)
            if (near.at(y, x)) {
                f.index[static_cast<size_t>(y) * near.width + x] = static_cast<int32_t>(f.ty.size());
                f.ty.push_back(y);
                f.tx.push_back(x);
            }
    f.sy.assign(f.ty.size(), 0);
    f.sx.assign(f.ty.size(), 0);
    f.dist.assign(f.ty.size(), 0.0f);
    return f;
}

namespace {

constexpr float STEP2 = 1.0f / (FEATURE_STEPS * FEATURE_STEPS);  // one squared step, in squared feature units

// One row of squared differences of byte features. Integer sums are exact in any order, so the compiler is free
// to keep them in vector registers.
template <int N>
int32_t row_distance(const uint8_t* a, const uint8_t* b) {
    int32_t row = 0;
    for (int i = 0; i < N; ++i) {
        const int32_t d = static_cast<int32_t>(a[i]) - static_cast<int32_t>(b[i]);
        row += d * d;
    }
    return row;
}

// The common case, both patches wholly inside the image at the engine's patch size.
float interior_distance(const Features& features, int ty, int tx, int sy, int sx, float limit) {
    constexpr int SIDE = 2 * PATCH_RADIUS + 1;
    const size_t stride = static_cast<size_t>(features.width) * FEATURE_CHANNELS;
    const uint8_t* a = features.at(ty - PATCH_RADIUS, tx - PATCH_RADIUS);
    const uint8_t* b = features.at(sy - PATCH_RADIUS, sx - PATCH_RADIUS);
    // the limit in steps; any sum of 7x7x4 bytes is far below it when the limit is "none"
    const int32_t steps_limit = limit >= 1e6f ? INT32_MAX : static_cast<int32_t>(limit / STEP2);
    int32_t sum = 0;
    for (int row = 0; row < SIDE; ++row, a += stride, b += stride) {
        sum += row_distance<SIDE * FEATURE_CHANNELS>(a, b);
        if (sum > steps_limit) break;
    }
    return static_cast<float>(sum) * STEP2;
}

}  // namespace

float patch_distance(const Features& features, int ty, int tx, int sy, int sx, int radius, float limit) {
    const int h = features.height, w = features.width, c = features.channels;
    if (radius == PATCH_RADIUS && ty >= radius && ty < h - radius && tx >= radius && tx < w - radius)
        return interior_distance(features, ty, tx, sy, sx, limit);  // sources are always whole patches inside
    const int y0 = std::max(-radius, -ty), y1 = std::min(radius, h - 1 - ty);
    const int x0 = std::max(-radius, -tx), x1 = std::min(radius, w - 1 - tx);
    const int n = (x1 - x0 + 1) * c;
    int32_t sum = 0;
    for (int dy = y0; dy <= y1; ++dy) {
        const uint8_t* a = features.at(ty + dy, tx + x0);
        const uint8_t* b = features.at(sy + dy, sx + x0);
        for (int i = 0; i < n; ++i) {
            const int32_t d = static_cast<int32_t>(a[i]) - static_cast<int32_t>(b[i]);
            sum += d * d;
        }
        if (static_cast<float>(sum) * STEP2 > limit) break;
    }
    return static_cast<float>(sum) * STEP2;
}

float known_distance(const Features& features, const Mask& hole, int ty, int tx, int sy, int sx, int radius) {
    const int h = features.height, w = features.width, c = features.channels;
    const int y0 = std::max(-radius, -ty), y1 = std::min(radius, h - 1 - ty);
    const int x0 = std::max(-radius, -tx), x1 = std::min(radius, w - 1 - tx);
    const float total = static_cast<float>((y1 - y0 + 1) * (x1 - x0 + 1));
    int32_t sum = 0;
    int known = 0;
    for (int dy = y0; dy <= y1; ++dy)
        for (int dx = x0; dx <= x1; ++dx) {
            if (hole.at(ty + dy, tx + dx)) continue;
            const uint8_t* a = features.at(ty + dy, tx + dx);
            const uint8_t* b = features.at(sy + dy, sx + dx);
            for (int k = 0; k < c; ++k) {
                const int32_t d = static_cast<int32_t>(a[k]) - static_cast<int32_t>(b[k]);
                sum += d * d;
            }
            ++known;
        }
    return known ? static_cast<float>(sum) * STEP2 * total / known : 0.0f;
}

void measure(const Features& features, Field& field, int radius, const Mask* known_only) {
    const int n = static_cast<int>(field.ty.size()), chunks = 32;
    parallel_chunks(chunks, [&](int c) {
        const int first = static_cast<int>(static_cast<int64_t>(n) * c / chunks);
        const int last = static_cast<int>(static_cast<int64_t>(n) * (c + 1) / chunks);
        for (int i = first; i < last; ++i)
            field.dist[i] = known_only ? known_distance(features, *known_only, field.ty[i], field.tx[i], field.sy[i],
                                                        field.sx[i], radius)
                                       : patch_distance(features, field.ty[i], field.tx[i], field.sy[i], field.sx[i],
                                                        radius, std::numeric_limits<float>::max());
    });
}

void random_field(Field& field, const Sources& sources, uint64_t seed) {
    Random rng(seed);
    const int n = static_cast<int>(sources.y.size());
    for (size_t i = 0; i < field.ty.size(); ++i) {
        const int pick = rng.below(n);
        field.sy[i] = sources.y[pick];
        field.sx[i] = sources.x[pick];
    }
}

void patchmatch_sweep(const Features& features, Field& field, const Sources& sources, int radius_patch,
                      int search_radius, bool global_pick, bool reverse, uint64_t seed, const Mask* known_only) {
    const int h = features.height, w = features.width;
    const std::vector<int> starts = band_starts(field);
    const int bands = static_cast<int>(starts.size()) - 1;
    const int step = reverse ? -1 : 1;

    auto sweep_band = [&](int band) {
        Random rng(mix_seed(seed, static_cast<uint64_t>(band)));
        const int first = reverse ? starts[band + 1] - 1 : starts[band];
        const int end = reverse ? starts[band] - 1 : starts[band + 1];
        for (int i = first; i != end; i += step) {
            const int ty = field.ty[i], tx = field.tx[i];
            int32_t& by = field.sy[i];
            int32_t& bx = field.sx[i];
            float& best = field.dist[i];
            auto consider = [&](int cy, int cx) {
                if (cy < 0 || cy >= h || cx < 0 || cx >= w || !sources.valid.at(cy, cx)) return;
                if (cy == by && cx == bx) return;
                const float d = known_only ? known_distance(features, *known_only, ty, tx, cy, cx, radius_patch)
                                           : patch_distance(features, ty, tx, cy, cx, radius_patch, best);
                if (d < best) {
                    best = d;
                    by = cy;
                    bx = cx;
                }
            };
            // propagation: the neighbour's source, shifted by one pixel
            const int nx = tx - step, ny = ty - step;
            if (nx >= 0 && nx < w) {
                const int j = field.index[static_cast<size_t>(ty) * w + nx];
                if (j >= 0) consider(field.sy[j], field.sx[j] + step);
            }
            if (ny >= 0 && ny < h) {
                const int j = field.index[static_cast<size_t>(ny) * w + tx];
                if (j >= 0) consider(field.sy[j] + step, field.sx[j]);
            }
            // random search: ever closer around the best so far
            for (int radius = search_radius; radius >= 1; radius /= 2) {
                const int cy = by + rng.below(2 * radius + 1) - radius;
                const int cx = bx + rng.below(2 * radius + 1) - radius;
                consider(cy, cx);
            }
            if (global_pick) {
                const int pick = rng.below(static_cast<int>(sources.y.size()));
                consider(sources.y[pick], sources.x[pick]);
            }
        }
    };
    // even bands, then odd ones: a band's propagation reads only the finished rows of its neighbours
    for (int parity = 0; parity < 2; ++parity) {
        const int count = (bands - parity + 1) / 2;
        parallel_chunks(count, [&](int k) { sweep_band(2 * k + parity); });
    }
}

}  // namespace retouch::patch
