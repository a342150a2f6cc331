// Membrane (harmonic) interpolation: the smoothest surface through fixed values, solved coarse to fine.
#pragma once

#include "grid.hpp"

namespace retouch::patch {

enum MembraneState : uint8_t { OUTSIDE = 0, FIXED = 1, UNKNOWN = 2 };

// Overwrites the UNKNOWN pixels of `values` (any channel count) with the membrane interpolation of the FIXED
// ones: each unknown value is the mean of its non-OUTSIDE 4-neighbours. OUTSIDE pixels take no part.
void membrane_fill(Image& values, const Mask& state);

}  // namespace retouch::patch
