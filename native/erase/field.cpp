#include "field.hpp"

#include <algorithm>
#include <limits>

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

float patch_distance(const Image& features, int ty, int tx, int sy, int sx, int radius, float limit) {
    const int h = features.height, w = features.width, c = features.channels;
    const int y0 = std::max(-radius, -ty), y1 = std::min(radius, h - 1 - ty);
    const int x0 = std::max(-radius, -tx), x1 = std::min(radius, w - 1 - tx);
    const int n = (x1 - x0 + 1) * c;
    float sum = 0.0f;
    for (int dy = y0; dy <= y1; ++dy) {
        const float* a = features.at(ty + dy, tx + x0);
        const float* b = features.at(sy + dy, sx + x0);
        float row = 0.0f;
        for (int i = 0; i < n; ++i) {
            const float d = a[i] - b[i];
            row += d * d;
        }
        sum += row;
        if (sum > limit) return sum;
    }
    return sum;
}

float known_distance(const Image& features, const Mask& hole, int ty, int tx, int sy, int sx, int radius) {
    const int h = features.height, w = features.width, c = features.channels;
    const int y0 = std::max(-radius, -ty), y1 = std::min(radius, h - 1 - ty);
    const int x0 = std::max(-radius, -tx), x1 = std::min(radius, w - 1 - tx);
    const float total = static_cast<float>((y1 - y0 + 1) * (x1 - x0 + 1));
    float sum = 0.0f;
    int known = 0;
    for (int dy = y0; dy <= y1; ++dy)
        for (int dx = x0; dx <= x1; ++dx) {
            if (hole.at(ty + dy, tx + dx)) continue;
            const float* a = features.at(ty + dy, tx + dx);
            const float* b = features.at(sy + dy, sx + dx);
            for (int k = 0; k < c; ++k) sum += (a[k] - b[k]) * (a[k] - b[k]);
            ++known;
        }
    return known ? sum * total / known : 0.0f;
}

void measure(const Image& features, Field& field, int radius, const Mask* known_only) {
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

void patchmatch_sweep(const Image& features, Field& field, const Sources& sources, int radius_patch,
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
