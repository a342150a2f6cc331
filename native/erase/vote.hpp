// Voting: turning a nearest-neighbour field back into pixels (the M step of Wexler et al.'s completion).
#pragma once

#include <vector>

#include "field.hpp"

namespace retouch::patch {

// For every pixel listed in `pixels` (as y * width + x), the weighted mean of what the matches of all the patches
// that cover it put there, read from `colour` at the matched sources: pixels.size() * channels values, in the
// list's order (a pixel no patch covers keeps its colour).
std::vector<float> vote_mean(const Image& colour, const Field& field, const std::vector<float>& weight, int radius,
                             const std::vector<int32_t>& pixels);

// Writes `values` (as vote_mean returns them) to the listed pixels of `img`.
void write_listed(const std::vector<int32_t>& pixels, const std::vector<float>& values, Image& img);

// Each listed pixel of `out` takes what the best-weighted covering patch's match puts there: copied texture at
// full contrast, where a mean of several matches would blur it. Sources never lie on a written pixel, so `out`
// may be `colour` itself.
void vote_best(const Image& colour, const Field& field, const std::vector<float>& weight, int radius,
               const std::vector<int32_t>& pixels, Image& out);

}  // namespace retouch::patch
