// Exemplar-based image completion: the whole patch engine, from a photo and its hole to the filled photo.
#pragma once

#include <cstdint>
#include <functional>

#include "grid.hpp"

namespace retouch::patch {

// Called after each EM iteration of each pyramid level with (done, PROGRESS_STEPS): the share of the work done,
// each level's iterations weighted by its hole's pixel count. May throw (a cancelled job) to stop the fill.
using Progress = std::function<void(int, int)>;
constexpr int PROGRESS_STEPS = 1000;

// Fills the hole (mask 1) of `image` (float32 RGB) with texture copied from the rest of it; pixels outside the
// hole are returned unchanged. Equal inputs and seed give equal output, whatever the thread count.
Image complete(Image image, const Mask& hole, uint64_t seed, const Progress& progress);

}  // namespace retouch::patch
