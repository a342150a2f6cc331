#include "vote.hpp"

#include <algorithm>

#include "parallel.hpp"

namespace retouch::patch {
namespace {
constexpr int CHUNKS = 32;

int chunk_start(int n, int chunk) { return static_cast<int>(static_cast<int64_t>(n) * chunk / CHUNKS); }
}  // namespace

std::vector<float> vote_mean(const Image& colour, const Field& field, const std::vector<float>& weight, int radius,
                             const std::vector<int32_t>& pixels) {
    const int h = colour.height, w = colour.width, c = colour.channels;
    const int n = static_cast<int>(pixels.size());
    std::vector<float> values(static_cast<size_t>(n) * c);
    parallel_chunks(CHUNKS, [&](int chunk) {
        std::vector<float> sum(c);
        for (int p = chunk_start(n, chunk); p < chunk_start(n, chunk + 1); ++p) {
            const int y = pixels[p] / w, x = pixels[p] % w;
            std::fill(sum.begin(), sum.end(), 0.0f);
            float total = 0.0f;
            for (int dy = -radius; dy <= radius; ++dy) {
                const int ty = y - dy;
                if (ty < 0 || ty >= h) continue;
                for (int dx = -radius; dx <= radius; ++dx) {
                    const int tx = x - dx;
                    if (tx < 0 || tx >= w) continue;
                    const int t = field.index[static_cast<size_t>(ty) * w + tx];
                    if (t < 0) continue;
                    const float* src = colour.at(field.sy[t] + dy, field.sx[t] + dx);
                    for (int k = 0; k < c; ++k) sum[k] += weight[t] * src[k];
                    total += weight[t];
                }
            }
            float* out = &values[static_cast<size_t>(p) * c];
            for (int k = 0; k < c; ++k) out[k] = total > 0.0f ? sum[k] / total : colour.at(y, x)[k];
        }
    });
    return values;
}

void write_listed(const std::vector<int32_t>& pixels, const std::vector<float>& values, Image& img) {
    const int c = img.channels;
    for (size_t p = 0; p < pixels.size(); ++p)
        std::copy_n(&values[p * c], c, img.px.data() + static_cast<size_t>(pixels[p]) * c);
}

void vote_best(const Image& colour, const Field& field, const std::vector<float>& weight, int radius,
               const std::vector<int32_t>& pixels, Image& out) {
    const int h = colour.height, w = colour.width, c = colour.channels;
    const int n = static_cast<int>(pixels.size());
    if (n == 0) return;
    // The best covering patch is a (2r+1)^2 arg-max over the targets' weight map, taken separably: first along
    // each row (for every row the written pixels' windows reach), then down the columns at the written pixels.
    const int y0 = std::max(pixels.front() / w - radius, 0), y1 = std::min(pixels.back() / w + radius, h - 1);
    const int rows = y1 - y0 + 1;
    std::vector<float> row_best(static_cast<size_t>(rows) * w);
    std::vector<int8_t> row_dx(row_best.size());
    parallel_chunks(CHUNKS, [&](int chunk) {
        for (int y = y0 + chunk_start(rows, chunk); y < y0 + chunk_start(rows, chunk + 1); ++y) {
            const int32_t* index = &field.index[static_cast<size_t>(y) * w];
            const size_t base = static_cast<size_t>(y - y0) * w;
            for (int x = 0; x < w; ++x) {
                float top = -1.0f;
                int8_t at = 0;
                for (int dx = -radius; dx <= radius; ++dx) {
                    const int tx = x - dx;
                    if (tx < 0 || tx >= w || index[tx] < 0) continue;
                    if (weight[index[tx]] > top) top = weight[index[tx]], at = static_cast<int8_t>(dx);
                }
                row_best[base + x] = top;
                row_dx[base + x] = at;
            }
        }
    });
    parallel_chunks(CHUNKS, [&](int chunk) {
        for (int p = chunk_start(n, chunk); p < chunk_start(n, chunk + 1); ++p) {
            const int y = pixels[p] / w, x = pixels[p] % w;
            float top = -1.0f;
            int best_dy = 0;
            for (int dy = -radius; dy <= radius; ++dy) {
                const int ty = y - dy;
                if (ty < y0 || ty > y1) continue;
                const float v = row_best[static_cast<size_t>(ty - y0) * w + x];
                if (v > top) top = v, best_dy = dy;
            }
            if (top < 0.0f) continue;  // no covering target (cannot happen for a hole pixel)
            const int ty = y - best_dy, dx = row_dx[static_cast<size_t>(ty - y0) * w + x];
            const int t = field.index[static_cast<size_t>(ty) * w + x - dx];
            std::copy_n(colour.at(field.sy[t] + best_dy, field.sx[t] + dx), c, out.at(y, x));
        }
    });
}

}  // namespace retouch::patch
