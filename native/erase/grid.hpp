// Plain images and masks the patch engine works on, and the small pixel-grid routines its stages share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace retouch::patch {

// Float32 pixels, rows of width * channels values, C order (the layout numpy hands over).
struct Image {
    int height = 0, width = 0, channels = 0;
    std::vector<float> px;

    Image() = default;
    Image(int h, int w, int c) : height(h), width(w), channels(c), px(static_cast<size_t>(h) * w * c, 0.0f) {}
    float* at(int y, int x) { return px.data() + (static_cast<size_t>(y) * width + x) * channels; }
    const float* at(int y, int x) const { return px.data() + (static_cast<size_t>(y) * width + x) * channels; }
};

// One byte per pixel (a hole mask: 1 = to fill; or a small state code).
struct Mask {
    int height = 0, width = 0;
    std::vector<uint8_t> v;

    Mask() = default;
    Mask(int h, int w, uint8_t fill = 0) : height(h), width(w), v(static_cast<size_t>(h) * w, fill) {}
    uint8_t& at(int y, int x) { return v[static_cast<size_t>(y) * width + x]; }
    uint8_t at(int y, int x) const { return v[static_cast<size_t>(y) * width + x]; }
    bool any() const {
        for (uint8_t b : v)
            if (b) return true;
        return false;
    }
};

// Distance in pixels from every pixel to the nearest pixel where `zero` is 0 (0 there): a two-pass chamfer
// transform with 1 / sqrt(2) steps, within 8% of the Euclidean distance, which is all the engine needs.
std::vector<float> chamfer_distance(const Mask& zero);

// The pixels within `radius` (Chebyshev) of a set pixel: where patches of that radius touch the set.
Mask dilate_square(const Mask& set, int radius);

}  // namespace retouch::patch
