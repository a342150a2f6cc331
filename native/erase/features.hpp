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
constexpr float FEATURE_STEPS = 255.0f;  // features are stored as bytes: value * FEATURE_STEPS, rounded

// The features of every pixel, quantised to bytes: a quarter of the memory of floats, so the scattered reads of
// source patches during the search mostly hit the cache (on a 12 MP photo's crop the float features were 25 MB).
// Matching needs no finer steps than the 8-bit photos most users edit.
struct Features {
    int height = 0, width = 0;
    static constexpr int channels = FEATURE_CHANNELS;
    std::vector<uint8_t> px;

    Features(int h, int w) : height(h), width(w), px(static_cast<size_t>(h) * w * FEATURE_CHANNELS, 0) {}
    uint8_t* at(int y, int x) { return px.data() + (static_cast<size_t>(y) * width + x) * FEATURE_CHANNELS; }
    const uint8_t* at(int y, int x) const {
        return px.data() + (static_cast<size_t>(y) * width + x) * FEATURE_CHANNELS;
    }
};

// Rows [y0, y1) and columns [x0, x1).
struct Box {
    int y0, y1, x0, x1;
};

// Recomputes `features` (the image's size) inside `box` from `img`.
void update_features(const Image& img, float contrast_weight, const Box& box, Features& features);

}  // namespace retouch::patch
