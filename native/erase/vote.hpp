// Voting: turning a nearest-neighbour field back into pixels (the M step of Wexler et al.'s completion).
#pragma once

#include <vector>

#include "field.hpp"

namespace retouch::patch {

enum class VoteMode {
    MEAN,  // weighted mean of what every overlapping patch's match puts at the pixel
    BEST,  // the value the best-weighted overlapping match puts there: copied texture at full contrast
};

// Writes, for every pixel listed in `pixels` (as y * width + x), what the field's matches vote there, read from
// `colour` at the matched sources and weighed by `weight` (one per target). Sources never lie on a written pixel,
// so `out` may be `colour` itself.
void vote(const Image& colour, const Field& field, const std::vector<float>& weight, int radius,
          const std::vector<int32_t>& pixels, VoteMode mode, Image& out);

}  // namespace retouch::patch
