#include "vote.hpp"

#include <algorithm>

#include "parallel.hpp"

namespace retouch::patch {

void vote(const Image& colour, const Field& field, const std::vector<float>& weight, int radius,
          const std::vector<int32_t>& pixels, VoteMode mode, Image& out) {
    const int h = colour.height, w = colour.width, c = colour.channels;
    const int n = static_cast<int>(pixels.size()), chunks = 32;
    parallel_chunks(chunks, [&](int chunk) {
        std::vector<float> sum(c);
        const int first = static_cast<int>(static_cast<int64_t>(n) * chunk / chunks);
        const int last = static_cast<int>(static_cast<int64_t>(n) * (chunk + 1) / chunks);
        for (int p = first; p < last; ++p) {
            const int y = pixels[p] / w, x = pixels[p] % w;
            std::fill(sum.begin(), sum.end(), 0.0f);
            float total = 0.0f, top = -1.0f;
            const float* chosen = nullptr;
            for (int dy = -radius; dy <= radius; ++dy) {
                const int ty = y - dy;
                if (ty < 0 || ty >= h) continue;
                for (int dx = -radius; dx <= radius; ++dx) {
                    const int tx = x - dx;
                    if (tx < 0 || tx >= w) continue;
                    const int t = field.index[static_cast<size_t>(ty) * w + tx];
                    if (t < 0) continue;
                    const float* src = colour.at(field.sy[t] + dy, field.sx[t] + dx);
                    const float wt = weight[t];
                    if (mode == VoteMode::BEST) {
                        if (wt > top) {
                            top = wt;
                            chosen = src;
                        }
                    } else {
                        for (int k = 0; k < c; ++k) sum[k] += wt * src[k];
                        total += wt;
                    }
                }
            }
            float* dst = out.at(y, x);
            if (mode == VoteMode::BEST) {
                if (chosen) std::copy_n(chosen, c, dst);
            } else if (total > 0.0f) {
                for (int k = 0; k < c; ++k) dst[k] = sum[k] / total;
            }
        }
    });
}

}  // namespace retouch::patch
