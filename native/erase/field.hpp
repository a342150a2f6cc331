// The nearest-neighbour field of one pyramid level and the PatchMatch search that improves it (Barnes et al. 2009).
//
// A target is a patch centre whose (2r+1)^2 patch touches the hole; a source is a patch centre whose whole patch
// lies inside the image, clear of the hole and near it. Each target keeps its one best source.
#pragma once

#include <cstdint>
#include <vector>

#include "features.hpp"
#include "grid.hpp"

namespace retouch::patch {

struct Sources {
    Mask valid;                 // 1 where a patch centre may be copied from
    std::vector<int32_t> y, x;  // the same, listed (for uniform random picks)
};

struct Field {
    std::vector<int32_t> ty, tx;  // target centres, raster order
    std::vector<int32_t> index;   // per pixel: the target centred there, or -1
    std::vector<int32_t> sy, sx;  // each target's matched source centre
    std::vector<float> dist;      // and the patch distance to it
};

// Targets: the set pixels of `near` (those within the patch radius of the hole), in raster order.
Field make_targets(const Mask& near);

// Sum of squared differences of the target's patch (clipped to the image) and the source's, over every channel
// of `features`. Stops early once the sum passes `limit`, returning a value above it.
float patch_distance(const Features& features, int ty, int tx, int sy, int sx, int radius, float limit);

// The same over the target's known pixels alone (outside `hole`), scaled to the whole patch's count: how well a
// source continues what surrounds the target, whatever the hole holds so far.
float known_distance(const Features& features, const Mask& hole, int ty, int tx, int sy, int sx, int radius);

// Recomputes every target's distance to its current source (after the image changed).
void measure(const Features& features, Field& field, int radius, const Mask* known_only = nullptr);

// Deterministic per-stream random numbers (splitmix64).
struct Random {
    uint64_t state;
    explicit Random(uint64_t seed) : state(seed) {}
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
};

uint64_t mix_seed(uint64_t a, uint64_t b);

// Each target gets a source picked uniformly from `sources`.
void random_field(Field& field, const Sources& sources, uint64_t seed);

// One PatchMatch sweep: propagation from the already visited neighbours (left and above, or right and below
// when `reverse`), then a random search around the best source with a radius halving from `radius` down to 1,
// plus one uniform pick from all sources when `global_pick`. With `known_only`, patches are compared on the
// pixels outside that hole alone (see known_distance). Targets are swept in fixed bands of rows, even
// bands in parallel and then odd ones, so the result depends on `seed` alone, not on the thread count.
void patchmatch_sweep(const Features& features, Field& field, const Sources& sources, int radius_patch,
                      int search_radius, bool global_pick, bool reverse, uint64_t seed,
                      const Mask* known_only = nullptr);

}  // namespace retouch::patch
