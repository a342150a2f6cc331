#include "complete.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "features.hpp"
#include "field.hpp"
#include "membrane.hpp"
#include "peel.hpp"
#include "parallel.hpp"
#include "constants.hpp"
#include "vote.hpp"

namespace retouch::patch {
namespace {

struct Level {
    Image img;  // the photo at this size; its hole is being filled
    Mask hole;
    std::vector<float> depth;  // each hole pixel's distance to the nearest known pixel (0 outside the hole)
    Field field;
    std::vector<float> weight;  // each target's vote weight after the last iteration
};

// Half size. A coarse pixel is known when any of its children is (its value: their mean), so thin strokes
// vanish after a level or two and their surroundings survive.
Level downsample(const Level& fine) {
    const int h = fine.img.height, w = fine.img.width, c = fine.img.channels;
    Level coarse;
    coarse.img = Image((h + 1) / 2, (w + 1) / 2, c);
    coarse.hole = Mask(coarse.img.height, coarse.img.width);
    for (int y = 0; y < coarse.img.height; ++y)
        for (int x = 0; x < coarse.img.width; ++x) {
            float known[4] = {0, 0, 0, 0}, all[4] = {0, 0, 0, 0};
            int n_known = 0, n_all = 0;
            for (int yy = 2 * y; yy < std::min(2 * y + 2, h); ++yy)
                for (int xx = 2 * x; xx < std::min(2 * x + 2, w); ++xx) {
                    const float* p = fine.img.at(yy, xx);
                    const bool is_known = !fine.hole.at(yy, xx);
                    for (int k = 0; k < c; ++k) {
                        all[k] += p[k];
                        if (is_known) known[k] += p[k];
                    }
                    ++n_all;
                    n_known += is_known;
                }
            float* out = coarse.img.at(y, x);
            for (int k = 0; k < c; ++k) out[k] = n_known ? known[k] / n_known : all[k] / n_all;
            coarse.hole.at(y, x) = n_known == 0;
        }
    return coarse;
}

float max_of(const std::vector<float>& v, const Mask& where) {
    float m = 0.0f;
    for (size_t i = 0; i < v.size(); ++i)
        if (where.v[i]) m = std::max(m, v[i]);
    return m;
}

Mask inverted(const Mask& m) {
    Mask out(m.height, m.width);
    for (size_t i = 0; i < m.v.size(); ++i) out.v[i] = !m.v[i];
    return out;
}

// The bounding box of the set pixels of `m`, grown by `margin` and clipped to it.
Box grown_box(const Mask& m, int margin) {
    Box b{m.height, -1, m.width, -1};
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x)
            if (m.at(y, x)) b = Box{std::min(b.y0, y), std::max(b.y1, y), std::min(b.x0, x), std::max(b.x1, x)};
    return Box{std::max(b.y0 - margin, 0), std::min(b.y1 + margin + 1, m.height), std::max(b.x0 - margin, 0),
               std::min(b.x1 + margin + 1, m.width)};
}

// Each pixel's distance to the nearest known pixel (0 outside the hole), computed on the hole's box alone: the
// nearest known pixel of a hole pixel is never farther than the box's known border.
std::vector<float> hole_depth(const Mask& hole) {
    const int w = hole.width;
    std::vector<float> depth(hole.v.size(), 0.0f);
    if (!hole.any()) return depth;
    const Box box = grown_box(hole, 1);
    Mask inner(box.y1 - box.y0, box.x1 - box.x0);
    for (int y = box.y0; y < box.y1; ++y)
        std::copy_n(&hole.v[static_cast<size_t>(y) * w + box.x0], inner.width, &inner.at(y - box.y0, 0));
    const std::vector<float> d = chamfer_distance(inner);
    for (int y = box.y0; y < box.y1; ++y)
        std::copy_n(&d[static_cast<size_t>(y - box.y0) * inner.width], inner.width,
                    &depth[static_cast<size_t>(y) * w + box.x0]);
    return depth;
}

std::vector<Level> pyramid(Image image, const Mask& hole) {
    std::vector<Level> levels(1);
    levels[0].img = std::move(image);
    levels[0].hole = hole;
    for (;;) {
        Level& top = levels.back();
        top.depth = hole_depth(top.hole);
        const float depth = max_of(top.depth, top.hole);
        const int side = std::min(top.img.height, top.img.width);
        if (depth <= COARSEST_DEPTH || side / 2 < 4 * (2 * PATCH_RADIUS + 1)) return levels;
        levels.push_back(downsample(top));
    }
}

// Sources: patch centres whose whole patch is inside the image and clear of the hole (outside `touched`, the pixels
// whose patch reaches it), within `band` pixels of it.
Sources find_sources(const Mask& hole, const Mask& touched, int radius, float band) {
    const int h = hole.height, w = hole.width;
    const std::vector<float> to_hole = chamfer_distance(inverted(hole));
    Sources s;
    s.valid = Mask(h, w);
    // rows in fixed chunks, each listing its own sources, joined in order (the same list on any thread count)
    constexpr int CHUNKS = 16;
    std::vector<int32_t> ys[CHUNKS], xs[CHUNKS];
    const int rows = std::max(h - 2 * radius, 0);
    parallel_chunks(CHUNKS, [&](int chunk) {
        for (int y = radius + rows * chunk / CHUNKS; y < radius + rows * (chunk + 1) / CHUNKS; ++y)
            for (int x = radius; x < w - radius; ++x) {
                const size_t i = static_cast<size_t>(y) * w + x;
                if (touched.v[i] || to_hole[i] > band) continue;
                s.valid.v[i] = 1;
                ys[chunk].push_back(y);
                xs[chunk].push_back(x);
            }
    });
    for (int chunk = 0; chunk < CHUNKS; ++chunk) {
        s.y.insert(s.y.end(), ys[chunk].begin(), ys[chunk].end());
        s.x.insert(s.x.end(), xs[chunk].begin(), xs[chunk].end());
    }
    return s;
}

// Start a level from the coarser one's matches, shifted to this size: fine target (y, x) takes the source its
// parent had, at the same offset. Targets without a usable parent source get a random one.
void carry_field(Field& field, const Field& coarse, int coarse_w, int coarse_h, const Sources& sources, int w,
                 uint64_t seed) {
    Random rng(seed);
    for (size_t i = 0; i < field.ty.size(); ++i) {
        const int y = field.ty[i], x = field.tx[i];
        const int py = std::min(y / 2, coarse_h - 1), px = std::min(x / 2, coarse_w - 1);
        const int j = coarse.index[static_cast<size_t>(py) * coarse_w + px];
        if (j >= 0) {
            const int cy = y + 2 * (coarse.sy[j] - py), cx = x + 2 * (coarse.sx[j] - px);
            if (cy >= 0 && cy < sources.valid.height && cx >= 0 && cx < w && sources.valid.at(cy, cx)) {
                field.sy[i] = cy;
                field.sx[i] = cx;
                continue;
            }
        }
        const int pick = rng.below(static_cast<int>(sources.y.size()));
        field.sy[i] = sources.y[pick];
        field.sx[i] = sources.x[pick];
    }
}

// Bilinear enlargement of the coarser result into this level's hole: the estimate its matches are measured on.
void enlarge_into_hole(const Image& coarse, Level& level) {
    const int h = level.img.height, w = level.img.width, c = level.img.channels;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            if (!level.hole.at(y, x)) continue;
            const float fy = std::clamp((y + 0.5f) / 2 - 0.5f, 0.0f, coarse.height - 1.0f);
            const float fx = std::clamp((x + 0.5f) / 2 - 0.5f, 0.0f, coarse.width - 1.0f);
            const int y0 = static_cast<int>(fy), x0 = static_cast<int>(fx);
            const int y1 = std::min(y0 + 1, coarse.height - 1), x1 = std::min(x0 + 1, coarse.width - 1);
            const float ay = fy - y0, ax = fx - x0;
            float* out = level.img.at(y, x);
            for (int k = 0; k < c; ++k)
                out[k] = (1 - ay) * ((1 - ax) * coarse.at(y0, x0)[k] + ax * coarse.at(y0, x1)[k]) +
                         ay * ((1 - ax) * coarse.at(y1, x0)[k] + ax * coarse.at(y1, x1)[k]);
        }
}

// Vote weights: confidence (higher near the known edge, Wexler et al.) times similarity exp(-d / 2 sigma^2),
// with d the mean squared difference per value and sigma^2 a percentile of d over all targets.
std::vector<float> vote_weights(const Field& field, const std::vector<float>& confidence, int radius, int h, int w,
                                int channels) {
    const size_t n = field.ty.size();
    std::vector<float> per_value(n);
    for (size_t i = 0; i < n; ++i) {
        const int rows = std::min(field.ty[i] + radius, h - 1) - std::max(field.ty[i] - radius, 0) + 1;
        const int cols = std::min(field.tx[i] + radius, w - 1) - std::max(field.tx[i] - radius, 0) + 1;
        per_value[i] = field.dist[i] / static_cast<float>(rows * cols * channels);
    }
    std::vector<float> sample;
    const size_t stride = std::max<size_t>(1, n / 20000);
    for (size_t i = 0; i < n; i += stride) sample.push_back(per_value[i]);
    const size_t k = std::min(sample.size() - 1, static_cast<size_t>(SIMILARITY_PERCENTILE * sample.size()));
    std::nth_element(sample.begin(), sample.begin() + k, sample.end());
    const float sigma2 = std::max(sample[k], 1e-10f);
    std::vector<float> weight(n);
    for (size_t i = 0; i < n; ++i)
        weight[i] = confidence[i] * std::exp(-std::min(per_value[i] / (2.0f * sigma2), 60.0f)) + 1e-30f;
    return weight;
}

std::vector<int32_t> listed(const Mask& m) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < m.v.size(); ++i)
        if (m.v[i]) out.push_back(static_cast<int32_t>(i));
    return out;
}

// Expectation-maximisation at one level (Wexler, Shechtman and Irani 2007), in place.
Schedule schedule(bool coarsest, bool full_size, bool thin) {
    return thin ? THIN : coarsest ? COARSEST : full_size ? FULL_SIZE : MIDDLE;
}

size_t count_set(const Mask& m) {
    size_t n = 0;
    for (uint8_t b : m.v) n += b != 0;
    return n;
}

void complete_level(std::vector<Level>& levels, int index, bool thin, uint64_t seed,
                    const std::function<void()>& iteration_done) {
    Level& level = levels[index];
    const Level* coarser = index + 1 < static_cast<int>(levels.size()) ? &levels[index + 1] : nullptr;
    const int h = level.img.height, w = level.img.width, r = PATCH_RADIUS;
    const bool coarsest = coarser == nullptr, full_size = index == 0;
    const std::vector<float>& depth = level.depth;
    const float band = std::max(SOURCE_BAND * max_of(depth, level.hole), MIN_SOURCE_BAND / (1 << index));
    const Mask touched = dilate_square(level.hole, r);
    const Sources sources = find_sources(level.hole, touched, r, band);
    level.field = make_targets(touched);
    Field& field = level.field;
    if (sources.y.empty()) return;  // nothing to copy from: keep the smooth estimate

    const size_t n = field.ty.size();
    std::vector<float> confidence(n);
    parallel_chunks(16, [&](int chunk) {
        for (size_t i = n * chunk / 16; i < n * (chunk + 1) / 16; ++i)
            confidence[i] = std::pow(CONFIDENCE_DECAY, -depth[static_cast<size_t>(field.ty[i]) * w + field.tx[i]]);
    });
    const std::vector<int32_t> hole_pixels = listed(level.hole);

    if (coarser != nullptr && !coarser->weight.empty()) {  // the coarser level made matches (it had sources)
        carry_field(field, coarser->field, coarser->img.width, coarser->img.height, sources, w, mix_seed(seed, 1));
        // this size's pixels, copied by the carried matches, rather than the enlarged (blurrier) coarser result:
        // their mean on the smaller levels, which settle the layout; at full size the best match's own texture
        // (the mean there left the finest detail 4-5% fainter on bench/erase.py's object and medium masks)
        if (full_size)
            vote_best(level.img, field, confidence, r, hole_pixels, level.img);
        else
            write_listed(hole_pixels, vote_mean(level.img, field, confidence, r, hole_pixels), level.img);
    } else {
        if (!thin) peel_fill(level.img, level.hole, sources, r);  // the membrane's smooth guess, replaced
        random_field(field, sources, mix_seed(seed, 2));
    }

    // thin holes have few levels and few targets: every level gets the coarsest level's full search
    Schedule plan = schedule(coarsest, full_size, thin);
    if (plan.radius == 0) plan.radius = std::max(h, w);
    // features change only where the hole's pixels reach (the contrast window); the rest is computed once
    Features features(h, w);
    update_features(level.img, CONTRAST_WEIGHT, Box{0, h, 0, w}, features);
    const Box changing = grown_box(level.hole, 4);
    for (int it = 0; it < plan.iterations; ++it) {
        if (it > 0) update_features(level.img, CONTRAST_WEIGHT, changing, features);
        // the coarsest level's first matches look at the known pixels alone: its hole holds only a smooth guess,
        // and smooth guesses match smooth sources (sky, walls), which would then spread through the hole
        const Mask* known_only = coarsest && it == 0 ? &level.hole : nullptr;
        measure(features, field, r, known_only);
        for (int sweep = 0; sweep < plan.sweeps; ++sweep)
            patchmatch_sweep(features, field, sources, r, plan.radius, plan.global_pick,
                             (it * plan.sweeps + sweep) % 2 == 1, mix_seed(seed, 100 + it * plan.sweeps + sweep),
                             known_only);
        level.weight = vote_weights(field, confidence, r, h, w, features.channels);
        // the best-weighted match alone writes each pixel: averaging several would blur the texture
        vote_best(level.img, field, level.weight, r, hole_pixels, level.img);
        iteration_done();
    }
}

// Joins the fill to its surroundings in the gradient domain (Perez et al. 2003): what the matches rebuild on the
// known ring around the hole is compared with the real ring, and the membrane interpolation of that difference
// is added to the fill. The fill keeps its own texture; its tone and gradient meet the photo's at the edge. The ring
// is known, so `level.img` still holds the photo's own values there.
void blend_in(const Mask& hole, Level& level) {
    const int h = hole.height, w = hole.width, c = level.img.channels, r = PATCH_RADIUS;
    if (level.weight.empty()) return;  // no matches were made: the membrane fill already meets the edge
    const Box box = grown_box(hole, 1);  // the hole and its ring
    std::vector<int32_t> ring;
    for (int y = box.y0; y < box.y1; ++y)
        for (int x = box.x0; x < box.x1; ++x)
            if (!hole.at(y, x) && ((y > 0 && hole.at(y - 1, x)) || (y + 1 < h && hole.at(y + 1, x)) ||
                                   (x > 0 && hole.at(y, x - 1)) || (x + 1 < w && hole.at(y, x + 1))))
                ring.push_back(y * w + x);
    const std::vector<float> rebuilt = vote_mean(level.img, level.field, level.weight, r, ring);
    const int y0 = box.y0, x0 = box.x0, bh = box.y1 - box.y0, bw = box.x1 - box.x0;
    Image offset(bh, bw, c);
    Mask state(bh, bw);
    for (size_t p = 0; p < ring.size(); ++p) {
        const int y = ring[p] / w, x = ring[p] % w;
        state.at(y - y0, x - x0) = FIXED;
        for (int k = 0; k < c; ++k) offset.at(y - y0, x - x0)[k] = level.img.at(y, x)[k] - rebuilt[p * c + k];
    }
    for (int y = 0; y < bh; ++y)
        for (int x = 0; x < bw; ++x)
            if (hole.at(y + y0, x + x0)) state.at(y, x) = UNKNOWN;
    membrane_fill(offset, state);
    for (int y = 0; y < bh; ++y)
        for (int x = 0; x < bw; ++x)
            if (state.at(y, x) == UNKNOWN) {
                float* p = level.img.at(y + y0, x + x0);
                for (int k = 0; k < c; ++k) p[k] = std::clamp(p[k] + offset.at(y, x)[k], 0.0f, 1.0f);
            }
}

}  // namespace

Image complete(Image image, const Mask& hole, uint64_t seed, const Progress& progress) {
    std::vector<Level> levels = pyramid(std::move(image), hole);
    const bool thin = max_of(levels[0].depth, hole) <= THIN_DEPTH;
    const int n = static_cast<int>(levels.size());
    Level& top = levels.back();
    Mask state(top.hole.height, top.hole.width);
    for (size_t i = 0; i < state.v.size(); ++i) state.v[i] = top.hole.v[i] ? UNKNOWN : FIXED;
    membrane_fill(top.img, state);
    // an iteration's share of the work: its level's hole pixels over those of every iteration of every level
    std::vector<double> share(n);
    double all = 0.0;
    for (int index = 0; index < n; ++index) {
        share[index] = static_cast<double>(count_set(levels[index].hole)) *
                       schedule(index == n - 1, index == 0, thin).iterations;
        all += share[index];
    }
    double done = 0.0;
    for (int index = n - 1; index >= 0; --index) {
        const double per_iteration = share[index] / schedule(index == n - 1, index == 0, thin).iterations;
        if (index + 1 < n) enlarge_into_hole(levels[index + 1].img, levels[index]);
        complete_level(levels, index, thin, mix_seed(seed, static_cast<uint64_t>(index)), [&] {
            done += per_iteration;
            progress(static_cast<int>(PROGRESS_STEPS * std::min(done / all, 1.0)), PROGRESS_STEPS);
        });
        if (index + 1 < n) levels[index + 1] = Level();  // free the coarser level's memory
    }
    progress(PROGRESS_STEPS, PROGRESS_STEPS);
    blend_in(hole, levels[0]);
    return std::move(levels[0].img);
}

}  // namespace retouch::patch
