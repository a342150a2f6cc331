// A structure-first start for the coarsest level: the hole filled from its edge inwards, edges first (Criminisi,
// Perez and Toyama 2004), instead of a smooth membrane.
//
// Why: on the coarsest level the membrane guess smears an edge that crosses the hole (a horizon, a railing) over
// its whole height, centred on the hole's middle rather than on the edge, and the EM iterations that follow only
// polish the layout they start from: a horizon came back 8 px too high. Peeling copies, one patch at a time, the
// source that best continues what is already known around the front, taking first the front patches whose known
// part is most complete and carries the strongest edge running into the hole, so straight structures are
// extended before the areas beside them are decided.
#pragma once

#include "field.hpp"
#include "grid.hpp"

namespace retouch::patch {

// Overwrites the hole pixels of `img` (the coarsest level) with patches copied from `sources` (centres of fully
// known patches of the given radius). Deterministic. Does nothing when the hole is larger than this small-level
// pass is meant for (see PEEL_MAX_HOLE): the caller's membrane fill then stays.
void peel_fill(Image& img, const Mask& hole, const Sources& sources, int radius);

}  // namespace retouch::patch
