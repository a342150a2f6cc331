// The patch engine's constants, in one place. Tuned on bench/erase.py (Kodak photos, four mask kinds).
#pragma once

namespace retouch::patch {

constexpr int PATCH_RADIUS = 3;               // 7x7 patches
constexpr float CONFIDENCE_DECAY = 1.3f;      // vote weight falls by this factor per pixel of depth (Wexler et al.)
constexpr float SIMILARITY_PERCENTILE = 0.95f;  // sigma^2 of the vote weights: this percentile of the distances
constexpr float COARSEST_DEPTH = 6.0f;        // halve until the deepest hole pixel is about this close to known ones
constexpr float SOURCE_BAND = 3.0f;           // copy from patches within this many hole depths of the hole ...
constexpr float MIN_SOURCE_BAND = 24.0f;      // ... and at least this many pixels (at full size)
constexpr float CONTRAST_WEIGHT = 3.0f;       // weight of the local-contrast feature against the colours
constexpr int PEEL_MAX_HOLE = 4096;         // coarsest holes up to this many pixels start from a peel
constexpr float PEEL_FLAT_DATA = 0.002f;      // a peel's data term where no edge meets the front
constexpr float THIN_DEPTH = 12.0f;           // holes at most this deep (strokes) search hard on every level

// Per level: EM iterations, PatchMatch sweeps per iteration, random search radius (0: the whole level), and
// whether each target also tries one source picked from anywhere in the band.
struct Schedule {
    int iterations, sweeps, radius;
    bool global_pick;
};
constexpr Schedule COARSEST{10, 4, 0, true};  // small, decides the structure: search everywhere, and hard
constexpr Schedule THIN{5, 2, 0, true};       // strokes: every level searches everywhere (they have few targets)
constexpr Schedule MIDDLE{3, 1, 16, true};   // refine the carried field nearby
constexpr Schedule FULL_SIZE{2, 1, 4, false};  // most targets, least structure: polish

}  // namespace retouch::patch
