/* multifashion_load.c: a multifashion-v1 file that `mtb gen multifashion` wrote
 * (multifashion_file.c; schema: datasets/README.md, "multifashion-v1") read back for training,
 * so that `mtb train --problem multifashion --data FILE` and `mtb sweep --data FILE` train on
 * the file instead of rebuilding the data set from the Fashion-MNIST package.
 *
 * The file is untrusted: it is first read whole in a child process (mtb_h5_open_untrusted),
 * every size is checked against the recipe before anything is allocated (a split holds
 * MTB_MF_PASSES x its source count, 36 x 36 uint8 images, two labels below 10), and each
 * split's images and labels must hash to the SHA-256 the file records for them, so a damaged
 * or edited file is refused rather than trained on. Only x and y are read; the provenance
 * arrays (source, offset) are not needed for training. */
#include "mtb/multifashion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"

/* Samples of each split by the recipe (spec sec. 2.6): MTB_MF_PASSES x its source items. */
static const size_t split_samples[MTB_MF_N_SPLITS] = {
    MTB_MF_PASSES * 60000, MTB_MF_PASSES * 10000, MTB_MF_PASSES * 50000, MTB_MF_PASSES * 10000};

static mtb_status expect_u8(mtb_h5 *f, const char *obj, int rank, const size_t *want,
                            mtb_error *err)
{
    mtb_h5_kind kind;
    char tn[32];
    mtb_status st = mtb_h5_dtype(f, obj, &kind, tn, sizeof tn, err);
    if (st)
        return st;
    if (strcmp(tn, "uint8"))
        return mtb_fail(err, MTB_EIO, "%s: %s holds %s, expected uint8", mtb_h5_path(f), obj, tn);
    int r;
    size_t dims[MTB_H5_MAX_RANK];
    if ((st = mtb_h5_shape(f, obj, &r, dims, err)))
        return st;
    int same = r == rank;
    for (int i = 0; same && i < rank; i++)
        same = dims[i] == want[i];
    if (!same) {
        char got[96] = "", exp[96] = "";
        for (int i = 0; i < r && i < MTB_H5_MAX_RANK; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", i ? " x " : "", dims[i]);
        for (int i = 0; i < rank; i++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%zu", i ? " x " : "", want[i]);
        return mtb_fail(err, MTB_EIO, "%s: %s has shape (%s), the recipe %s stores (%s)",
                        mtb_h5_path(f), obj, got, MTB_MF_RECIPE, exp);
    }
    return MTB_OK;
}

static mtb_status read_split(mtb_h5 *f, mtb_mf_split_id id, mtb_mf_split *s, mtb_error *err)
{
    const char *name = mtb_mf_split_names[id], *path = mtb_h5_path(f);
    char grp[32], ox[48], oy[48], want_hash[80];
    snprintf(grp, sizeof grp, "/%s", name);
    snprintf(ox, sizeof ox, "/%s/x", name);
    snprintf(oy, sizeof oy, "/%s/y", name);
    if (!mtb_h5_is_group(f, grp))
        return mtb_fail(err, MTB_EIO, "%s: no split '%s' (mtb gen multifashion writes train, "
                        "test, dev_train and dev_val); the file is not a complete "
                        "multifashion-v1 file", path, name);
    const size_t n = split_samples[id];
    const size_t dx[3] = {n, MTB_MF_SIDE, MTB_MF_SIDE}, dy[2] = {n, 2};
    mtb_status st;
    if ((st = expect_u8(f, ox, 3, dx, err)) || (st = expect_u8(f, oy, 2, dy, err)) ||
        (st = mtb_h5_attr_get_str(f, grp, "sha256_x_y", want_hash, sizeof want_hash, err)))
        return st;
    size_t got[3];
    if ((st = mtb_h5_read_u8(f, ox, 3, got, &s->x, err)) ||
        (st = mtb_h5_read_u8(f, oy, 2, got, &s->y, err)))
        return st;
    s->n = n;
    for (size_t i = 0; i < 2 * n; i++)
        if (s->y[i] >= MTB_MF_CLASSES)
            return mtb_fail(err, MTB_EIO, "%s: %s[%zu][%zu] = %u is not a class (0..%d); the "
                            "file is damaged", path, oy, i / 2, i % 2, s->y[i], MTB_MF_CLASSES - 1);
    char hex[65];
    mtb_mf_split_sha256(s, hex);
    if (strcmp(hex, want_hash))
        return mtb_fail(err, MTB_EIO, "%s: the %s split's images and labels hash to %.16s..., "
                        "the file records %.16s...; the file is damaged or was edited (make it "
                        "again with mtb gen multifashion)", path, name, hex, want_hash);
    return MTB_OK;
}

mtb_status mtb_multifashion_load(const char *path, unsigned split_mask, mtb_multifashion *mf,
                                 mtb_error *err)
{
    memset(mf, 0, sizeof *mf);
    if (!(split_mask & 0xFu) || (split_mask & ~0xFu))
        return mtb_fail(err, MTB_EINVAL, "multifashion: split mask 0x%x selects none of the "
                        "4 splits", split_mask);
    mtb_h5 *f = mtb_h5_open_untrusted(path, NULL, err);
    if (!f)
        return err ? err->status : MTB_EIO;
    char format[64], recipe[64];
    int64_t version = 0, seed = -1;
    mtb_status st = mtb_h5_attr_get_str(f, "/", "format", format, sizeof format, err);
    if (!st && strcmp(format, "mtb-multifashion"))
        st = mtb_fail(err, MTB_EIO, "%s: format is '%s', not a MultiFashion file "
                      "('mtb-multifashion', written by mtb gen multifashion)", path, format);
    if (!st)
        st = mtb_h5_attr_get_i64(f, "/", "format_version", &version, err);
    if (!st && version != 1)
        st = mtb_fail(err, MTB_EIO, "%s: format_version %lld; this mtb reads version 1",
                      path, (long long)version);
    if (!st)
        st = mtb_h5_attr_get_str(f, "/", "recipe", recipe, sizeof recipe, err);
    if (!st && strcmp(recipe, MTB_MF_RECIPE))
        st = mtb_fail(err, MTB_EIO, "%s: recipe '%s'; this mtb builds and reads '%s'", path,
                      recipe, MTB_MF_RECIPE);
    if (!st)
        st = mtb_h5_attr_get_i64(f, "/", "seed", &seed, err);
    if (!st && seed < 0)
        st = mtb_fail(err, MTB_EIO, "%s: seed %lld is negative", path, (long long)seed);
    size_t nh = 0;
    char **hashes = NULL;
    if (!st)
        st = mtb_h5_attr_get_strs(f, "/", "source_sha256", &nh, &hashes, err);
    if (!st && nh != MTB_FASHION_N_FILES)
        st = mtb_fail(err, MTB_EIO, "%s: source_sha256 has %zu entries, expected %d", path, nh,
                      MTB_FASHION_N_FILES);
    for (size_t i = 0; !st && i < nh; i++) {
        if (strlen(hashes[i]) != 64)
            st = mtb_fail(err, MTB_EIO, "%s: source_sha256[%zu] is not a SHA-256", path, i);
        else
            memcpy(mf->source_sha256[i], hashes[i], 65);
    }
    mtb_h5_free_strs(hashes, nh);
    mf->seed = (uint64_t)seed;
    for (int id = 0; !st && id < MTB_MF_N_SPLITS; id++)
        if (split_mask & (1u << id))
            st = read_split(f, (mtb_mf_split_id)id, &mf->split[id], err);
    mtb_h5_close(f);
    if (st)
        mtb_multifashion_free(mf);
    return st;
}
