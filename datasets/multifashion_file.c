/* multifashion_file.c: the HDF5 form of multifashion-v1 (schema: datasets/README.md,
 * "multifashion-v1"). Per split /<split>/x uint8 (n, 36, 36), /y uint8 (n, 2) (task 0 = top-left
 * item's class, task 1 = bottom-right's), /source int64 (n, 2) (the items' indices in their
 * Fashion-MNIST file) and /offset uint8 (n, 4) (dy, dx, dy', dx'); the recipe, the seed, the
 * generator and the source hashes as root attributes, so that the file says how to remake it. */
#include "mtb/multifashion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"

#define FORMAT_VERSION 1

static mtb_status write_split(mtb_h5 *f, const mtb_mf_split *s, const char *name, mtb_error *err)
{
    char obj[64];
    const size_t dx[3] = {s->n, MTB_MF_SIDE, MTB_MF_SIDE}, d2[2] = {s->n, 2}, d4[2] = {s->n, 4};
    int64_t *src = malloc((s->n ? s->n : 1) * 2 * sizeof *src);
    if (!src)
        return mtb_fail(err, MTB_ENOMEM, "multifashion: out of memory writing split %s", name);
    for (size_t i = 0; i < 2 * s->n; i++)
        src[i] = s->source[i];
    mtb_status st;
    snprintf(obj, sizeof obj, "/%s/x", name);
    st = mtb_h5_write_u8(f, obj, 3, dx, s->x, err);
    snprintf(obj, sizeof obj, "/%s/y", name);
    if (!st)
        st = mtb_h5_write_u8(f, obj, 2, d2, s->y, err);
    snprintf(obj, sizeof obj, "/%s/source", name);
    if (!st)
        st = mtb_h5_write_i64(f, obj, 2, d2, src, err);
    snprintf(obj, sizeof obj, "/%s/offset", name);
    if (!st)
        st = mtb_h5_write_u8(f, obj, 2, d4, s->offset, err);
    free(src);
    char hex[65];
    mtb_mf_split_sha256(s, hex);
    snprintf(obj, sizeof obj, "/%s", name);
    if (!st)
        st = mtb_h5_attr_str(f, obj, "sha256_x_y", hex, err);
    static const char *const sources[MTB_MF_N_SPLITS] = {
        "train-images 0..59999", "t10k-images 0..9999", "train-images 0..49999",
        "train-images 50000..59999"};
    for (int id = 0; id < MTB_MF_N_SPLITS && !st; id++)
        if (!strcmp(name, mtb_mf_split_names[id]))
            st = mtb_h5_attr_str(f, obj, "sources", sources[id], err);
    return st;
}

mtb_status mtb_multifashion_save(const char *path, const mtb_multifashion *mf, mtb_error *err)
{
    mtb_h5 *f = mtb_h5_create(path, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    mtb_status st = mtb_h5_attr_str(f, "/", "format", "mtb-multifashion", err);
    if (!st)
        st = mtb_h5_attr_i64(f, "/", "format_version", FORMAT_VERSION, err);
    if (!st)
        st = mtb_h5_attr_str(f, "/", "recipe", MTB_MF_RECIPE, err);
    if (!st)
        st = mtb_h5_attr_i64(f, "/", "seed", (int64_t)mf->seed, err);
    if (!st)
        st = mtb_h5_attr_str(f, "/", "generator",
                             "rng=xoshiro256** seeded through SplitMix64 (mtb rng.h), stream = "
                             "split id (train 0, test 1, dev_train 2, dev_val 3); passes=2; per "
                             "pass L=shuffle, R=shuffle (Fisher-Yates); right redrawn uniformly "
                             "while the classes are equal; left corner {0..4}^2, right corner "
                             "{4..8}^2, redrawn while equal; overlay=max; canvas=36x36; no resize",
                             err);
    if (!st)
        st = mtb_h5_attr_str(f, "/", "source_package", MTB_MF_PACKAGE, err);
    if (!st)
        st = mtb_h5_attr_strs(f, "/", "source_files", MTB_FASHION_N_FILES, mtb_fashion_file_names,
                              err);
    const char *hashes[MTB_FASHION_N_FILES];
    for (int i = 0; i < MTB_FASHION_N_FILES; i++)
        hashes[i] = mf->source_sha256[i];
    if (!st)
        st = mtb_h5_attr_strs(f, "/", "source_sha256", MTB_FASHION_N_FILES, hashes, err);
    if (!st)
        st = mtb_h5_attr_str(f, "/", "tasks", "t0 = class of the top-left item, t1 = class of "
                             "the bottom-right item (10 classes each)", err);
    for (int id = 0; id < MTB_MF_N_SPLITS && !st; id++)
        if (mf->split[id].n)
            st = write_split(f, &mf->split[id], mtb_mf_split_names[id], err);
    if (st) {
        mtb_h5_discard(f);
        return st;
    }
    return mtb_h5_commit(f, err);
}
