// What patches are compared on: the colours and the local contrast.
//
// Squared differences alone favour smooth sources: a textured target differs from a flat patch of its mean
// colour by its own variance, but from another piece of the same texture (not aligned with it) by twice that.
// So a plain sum of squared differences fills holes with sky and blurred background. A fourth channel, the
// luminance's standard deviation in a 7x7 window, makes a flat source pay for the contrast it lacks.
#pragma once

#include "grid.hpp"

namespace retouch::patch {

constexpr int FEATURE_CHANNELS = 4;  // R, G, B, contrast

// Rows [y0, y1) and columns [x0, x1).
struct Box {
    int y0, y1, x0, x1;
};

// Recomputes `features` (HxWx4, the image's size) inside `box` from `img`.
void update_features(const Image& img, float contrast_weight, const Box& box, Image& features);

}  // namespace retouch::patch
