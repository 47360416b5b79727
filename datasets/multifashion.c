/* multifashion.c: the construction of multifashion-v1 (spec multifashion.md sec. 2, restated
 * in multifashion.h and docs/multifashion.md), and its training form.
 *
 * Pareto MTL (Lin et al. 2019, sec. 6.1) describes MultiFashion as "two images with different
 * classes", one at the top left and one at the bottom right of a 36 x 36 canvas, "each moved
 * up to 4 pixels in each direction", 120 000 training and 20 000 test samples; its generator
 * was never published. Our reading, fixed here so that every byte follows from the seed:
 *   - split s draws from mtb_rng stream s of the dataset seed (xoshiro256** seeded through
 *     SplitMix64, rng.h), nothing else;
 *   - pass p = 0, 1 over the split's N sources: L = shuffle(0..N-1), then R = shuffle(0..N-1)
 *     (mtb_rng_shuffle: Fisher-Yates from the top, j = below(i + 1)); for k = 0..N-1 in order,
 *     sample p N + k: left = L[k], right = R[k]; while class(left) = class(right): right =
 *     below(N); then dy = below(5), dx = below(5), dy' = 4 + below(5), dx' = 4 + below(5), and
 *     while (dy', dx') = (dy, dx): dy' = 4 + below(5), dx' = 4 + below(5);
 *     (below(n): unbiased integer in [0, n) by rejection, mtb_rng_below);
 *   - the canvas is zero, the left item is pasted with its top-left pixel at (dy, dx), the
 *     right one at (dy', dx'), each pixel the max of what is there and the item (Sener &
 *     Koltun's overlay rule: order-independent, stays in 0..255). */
#include "mtb/multifashion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/rng.h"
#include "mtb/sha256.h"

const char *const mtb_mf_split_names[MTB_MF_N_SPLITS] = {"train", "test", "dev_train", "dev_val"};

static void split_free(mtb_mf_split *s)
{
    free(s->x), free(s->y), free(s->source), free(s->offset);
    memset(s, 0, sizeof *s);
}

void mtb_multifashion_free(mtb_multifashion *mf)
{
    if (!mf)
        return;
    for (int i = 0; i < MTB_MF_N_SPLITS; i++)
        split_free(&mf->split[i]);
}

/* dst (36 x 36) = max(dst, item placed at (dy, dx)). */
static void paste_max(uint8_t *dst, const uint8_t *item, int dy, int dx)
{
    for (int r = 0; r < MTB_MF_ITEM; r++) {
        uint8_t *row = dst + (size_t)(dy + r) * MTB_MF_SIDE + dx;
        const uint8_t *src = item + (size_t)r * MTB_MF_ITEM;
        for (int c = 0; c < MTB_MF_ITEM; c++)
            if (src[c] > row[c])
                row[c] = src[c];
    }
}

/* Samples of one split from the sources first .. first + N - 1 of (img, lab). */
static mtb_status build_split(const uint8_t *img, const uint8_t *lab, size_t first, size_t N,
                              uint64_t seed, mtb_mf_split_id id, mtb_mf_split *s, mtb_error *err)
{
    const size_t n = MTB_MF_PASSES * N;
    memset(s, 0, sizeof *s);
    s->x = calloc(n, MTB_MF_PIXELS);
    s->y = malloc(n * 2);
    s->source = malloc(n * 2 * sizeof *s->source);
    s->offset = malloc(n * 4);
    size_t *L = malloc(N * sizeof *L), *R = malloc(N * sizeof *R);
    if (!s->x || !s->y || !s->source || !s->offset || !L || !R) {
        split_free(s);
        free(L), free(R);
        return mtb_fail(err, MTB_ENOMEM, "multifashion: out of memory for the %zu samples of "
                        "split %s", n, mtb_mf_split_names[id]);
    }
    s->n = n;
    mtb_rng rng;
    mtb_rng_seed(&rng, seed, (uint64_t)id);
    for (int pass = 0; pass < MTB_MF_PASSES; pass++) {
        for (size_t i = 0; i < N; i++)
            L[i] = R[i] = i;
        mtb_rng_shuffle(&rng, L, N);
        mtb_rng_shuffle(&rng, R, N);
        for (size_t k = 0; k < N; k++) {
            const size_t i = (size_t)pass * N + k;
            size_t left = L[k], right = R[k];
            while (lab[first + left] == lab[first + right])
                right = (size_t)mtb_rng_below(&rng, N);
            int dy = (int)mtb_rng_below(&rng, 5), dx = (int)mtb_rng_below(&rng, 5);
            int dy2 = 4 + (int)mtb_rng_below(&rng, 5), dx2 = 4 + (int)mtb_rng_below(&rng, 5);
            while (dy2 == dy && dx2 == dx) {
                dy2 = 4 + (int)mtb_rng_below(&rng, 5);
                dx2 = 4 + (int)mtb_rng_below(&rng, 5);
            }
            uint8_t *canvas = s->x + i * MTB_MF_PIXELS;
            paste_max(canvas, img + (first + left) * MTB_MF_ITEM * MTB_MF_ITEM, dy, dx);
            paste_max(canvas, img + (first + right) * MTB_MF_ITEM * MTB_MF_ITEM, dy2, dx2);
            s->y[2 * i] = lab[first + left];
            s->y[2 * i + 1] = lab[first + right];
            s->source[2 * i] = (uint32_t)(first + left);
            s->source[2 * i + 1] = (uint32_t)(first + right);
            uint8_t *o = s->offset + 4 * i;
            o[0] = (uint8_t)dy, o[1] = (uint8_t)dx, o[2] = (uint8_t)dy2, o[3] = (uint8_t)dx2;
        }
    }
    free(L), free(R);
    return MTB_OK;
}

mtb_status mtb_multifashion_build(const mtb_fashion *src, uint64_t seed, unsigned split_mask,
                                  mtb_multifashion *mf, mtb_error *err)
{
    memset(mf, 0, sizeof *mf);
    if (src->n_train != 60000 || src->n_test != 10000 || !src->train_x || !src->test_x)
        return mtb_fail(err, MTB_EINVAL, "multifashion: the source must hold 60 000 training "
                        "and 10 000 test items, got %zu and %zu", src->n_train, src->n_test);
    if (!(split_mask & 0xFu) || (split_mask & ~0xFu))
        return mtb_fail(err, MTB_EINVAL, "multifashion: split mask 0x%x selects none of the "
                        "4 splits", split_mask);
    mf->seed = seed;
    memcpy(mf->source_sha256, src->sha256, sizeof mf->source_sha256);
    /* spec sec. 2.6: sources of each split (dev: the first 50 000 / the last 10 000) */
    const struct { const uint8_t *img, *lab; size_t first, N; } plan[MTB_MF_N_SPLITS] = {
        {src->train_x, src->train_y, 0, 60000},
        {src->test_x, src->test_y, 0, 10000},
        {src->train_x, src->train_y, 0, 50000},
        {src->train_x, src->train_y, 50000, 10000}};
    for (int id = 0; id < MTB_MF_N_SPLITS; id++) {
        if (!(split_mask & (1u << id)))
            continue;
        mtb_status st = build_split(plan[id].img, plan[id].lab, plan[id].first, plan[id].N, seed,
                                    (mtb_mf_split_id)id, &mf->split[id], err);
        if (st) {
            mtb_multifashion_free(mf);
            return st;
        }
    }
    return MTB_OK;
}

void mtb_mf_split_sha256(const mtb_mf_split *s, char hex[65])
{
    mtb_sha256 h;
    mtb_sha256_init(&h);
    mtb_sha256_update(&h, s->x, s->n * MTB_MF_PIXELS);
    mtb_sha256_update(&h, s->y, s->n * 2);
    mtb_sha256_final(&h, hex);
}

mtb_status mtb_multifashion_dataset(const mtb_multifashion *mf, mtb_mf_split_id train_id,
                                    size_t n_train, mtb_mf_split_id test_id, size_t n_test,
                                    mtb_dataset *ds, mtb_error *err)
{
    memset(ds, 0, sizeof *ds);
    if ((unsigned)train_id >= MTB_MF_N_SPLITS || (unsigned)test_id >= MTB_MF_N_SPLITS)
        return mtb_fail(err, MTB_EINVAL, "multifashion: unknown split id");
    const mtb_mf_split *tr = &mf->split[train_id], *te = &mf->split[test_id];
    if (!tr->n || !te->n)
        return mtb_fail(err, MTB_EINVAL, "multifashion: split %s or %s was not built",
                        mtb_mf_split_names[train_id], mtb_mf_split_names[test_id]);
    if (!n_train)
        n_train = tr->n;
    if (!n_test)
        n_test = te->n;
    if (n_train > tr->n || n_test > te->n)
        return mtb_fail(err, MTB_EINVAL, "multifashion: %zu / %zu samples asked, the splits %s / "
                        "%s have %zu / %zu", n_train, n_test, mtb_mf_split_names[train_id],
                        mtb_mf_split_names[test_id], tr->n, te->n);
    mtb_status st = mtb_dataset_alloc(ds, 2, MTB_MF_PIXELS, 2, n_train, n_test, err);
    if (st)
        return st;
    snprintf(ds->name, sizeof ds->name, "%s", MTB_MF_RECIPE);
    snprintf(ds->generator, sizeof ds->generator,
             "recipe=%s,train=%s,n_train=%zu,test=%s,n_test=%zu,x=pixel/255,rng=xoshiro256**,"
             "stream=split_id,source_sha256=%.16s;%.16s;%.16s;%.16s", MTB_MF_RECIPE,
             mtb_mf_split_names[train_id], n_train, mtb_mf_split_names[test_id], n_test,
             mf->source_sha256[0], mf->source_sha256[1], mf->source_sha256[2],
             mf->source_sha256[3]);
    ds->seed = mf->seed;
    for (int t = 0; t < 2; t++) {
        mtb_task_spec *k = &ds->tasks[t];
        k->loss = MTB_LOSS_CE;
        k->out_width = MTB_MF_CLASSES;
        k->target_width = 1;
        k->target_offset = t;
        k->sigma = 1.0;
    }
    const mtb_mf_split *from[2] = {tr, te};
    mtb_split *to[2] = {&ds->train, &ds->test};
    for (int j = 0; j < 2; j++) {
        const size_t np = to[j]->n * MTB_MF_PIXELS;
        for (size_t i = 0; i < np; i++)
            to[j]->x[i] = (float)from[j]->x[i] / 255.0f;
        for (size_t i = 0; i < to[j]->n * 2; i++)
            to[j]->y[i] = (float)from[j]->y[i];
    }
    return MTB_OK;
}
