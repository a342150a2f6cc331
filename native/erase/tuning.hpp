// The patch engine's constants, in one place.
#pragma once

#include "vote.hpp"

namespace retouch::patch {

struct Settings {
    int radius = 3;                      // 7x7 patches
    float confidence_decay = 1.3f;       // vote weight falls by this factor per pixel of depth (Wexler et al.)
    float similarity_percentile = 0.95f; // sigma^2 of the vote weights: this percentile of the patch distances
    float coarsest_depth = 3.0f;         // halve until the deepest hole pixel is about this close to known ones
    float source_band = 3.0f;            // copy from patches within this many hole depths of the hole ...
    float min_source_band = 24.0f;       // ... and at least this many pixels (at full size)
    int shallow_levels = 4;              // pyramids this short (thin holes) search hard on every level
    int coarse_em = 5, coarse_pm = 2;    // coarsest level: EM iterations, PatchMatch sweeps per iteration
    int mid_em = 3, mid_pm = 1, mid_radius = 16;
    bool mid_global = true;
    int fine_em = 2, fine_pm = 1, fine_radius = 4;
    VoteMode final_vote = VoteMode::BEST;
    bool blend = true;
    int best_levels = 99;
    bool known_first = true;
    float contrast_weight = 4.0f;
};

Settings& settings();

}  // namespace retouch::patch
