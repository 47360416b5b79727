/* multifashion.h: MultiFashion "multifashion-v1", two overlaid Fashion-MNIST items on a
 * 36x36 canvas, one 10-class task per item (the project's spec multifashion.md, sec. 2;
 * docs/multifashion.md).
 *
 *   1. the source: the four IDX files of Fashion-MNIST (Xiao et al. 2017) as Debian's package
 *      dataset-fashion-mnist installs them (gzip), read as untrusted input: every size is
 *      checked before allocating, the magic numbers (2051 images, 2049 labels), the counts
 *      (60 000 / 10 000), 28 x 28 and, unless asked not to, the SHA-256 of each .gz file
 *      against the hashes the spec pins;
 *   2. the construction (multifashion.c), deterministic from one dataset seed: per split its
 *      own mtb_rng stream (stream id = split id), two passes over the split's sources, each
 *      pass two Fisher-Yates permutations L, R (mtb_rng_shuffle); sample k of a pass pairs
 *      left = L[k] with right = R[k], redrawing right uniformly (mtb_rng_below, rejection)
 *      while the two classes are equal; left corner (dy, dx) uniform on {0..4}^2, right
 *      corner (dy', dx') uniform on {4..8}^2, redrawn while it equals the left one;
 *      pixel-wise max of the two items on a zero canvas;
 *   3. storage (multifashion_file.c): HDF5, uint8 images [n,36,36] and labels [n,2] per split,
 *      with each sample's source indices and offsets, and the recipe in attributes. */
#ifndef MTB_MULTIFASHION_H
#define MTB_MULTIFASHION_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/dataset.h"
#include "mtb/problem.h"
#include "mtb/status.h"

#define MTB_MF_RECIPE "multifashion-v1"
#define MTB_MF_SIDE 36    /* canvas side */
#define MTB_MF_ITEM 28    /* Fashion-MNIST item side */
#define MTB_MF_PIXELS (MTB_MF_SIDE * MTB_MF_SIDE)
#define MTB_MF_CLASSES 10
#define MTB_MF_PASSES 2   /* every source image is the left item of exactly 2 samples */
#define MTB_MF_DEFAULT_SOURCE "/usr/share/datasets/fashion-mnist"
#define MTB_MF_PACKAGE "dataset-fashion-mnist"

/* ---- the source ------------------------------------------------------------------- */

/* The four files, in this order everywhere (names as the package installs them). */
enum { MTB_FASHION_TRAIN_IMAGES = 0, MTB_FASHION_TRAIN_LABELS, MTB_FASHION_TEST_IMAGES,
       MTB_FASHION_TEST_LABELS, MTB_FASHION_N_FILES };
extern const char *const mtb_fashion_file_names[MTB_FASHION_N_FILES];
extern const char *const mtb_fashion_sha256[MTB_FASHION_N_FILES]; /* of the .gz files */

/* One decoded IDX file: count items of rows x cols bytes (labels: rows = cols = 1). */
typedef struct mtb_idx {
    uint32_t magic;
    size_t count;
    int rows, cols;
    uint8_t *data;   /* (count, rows, cols) */
} mtb_idx;

/* Decodes a gzip-compressed IDX file held in memory (untrusted: never reads or writes out of
 * bounds, allocates only after the header agrees with what is expected). want_magic 2051
 * (images, rank 3) or 2049 (labels, rank 1); the count must equal want_count and images must
 * be 28 x 28. A damaged stream, a short or long payload, or trailing data is MTB_EIO with a
 * message that starts with name. */
mtb_status mtb_idx_decode_gz(const void *gz, size_t len, const char *name, uint32_t want_magic,
                             size_t want_count, mtb_idx *out, mtb_error *err);
void mtb_idx_free(mtb_idx *idx); /* NULL and zeroed ok */

typedef struct mtb_fashion {
    size_t n_train, n_test;          /* 60 000, 10 000 */
    uint8_t *train_x, *train_y;      /* (n_train, 28, 28), (n_train) */
    uint8_t *test_x, *test_y;
    char sha256[MTB_FASHION_N_FILES][65]; /* of the .gz files as read */
} mtb_fashion;

/* Reads the four files from dir (NULL: MTB_MF_DEFAULT_SOURCE). verify: compare each file's
 * SHA-256 with mtb_fashion_sha256 (0: only record it). A missing, unreadable, oversized or
 * damaged file is MTB_EIO naming the file and the package that provides it. */
mtb_status mtb_fashion_load(const char *dir, int verify, mtb_fashion *src, mtb_error *err);
void mtb_fashion_free(mtb_fashion *src);

/* ---- the construction -------------------------------------------------------------- */

/* Split ids; also the RNG stream of each split. dev_train / dev_val are the tuning-only,
 * source-disjoint split of the training sources (0..49 999 and 50 000..59 999). */
typedef enum mtb_mf_split_id {
    MTB_MF_TRAIN = 0, MTB_MF_TEST = 1, MTB_MF_DEV_TRAIN = 2, MTB_MF_DEV_VAL = 3, MTB_MF_N_SPLITS = 4
} mtb_mf_split_id;
extern const char *const mtb_mf_split_names[MTB_MF_N_SPLITS]; /* "train", "test", ... */

typedef struct mtb_mf_split {
    size_t n;          /* samples: MTB_MF_PASSES x the split's sources */
    uint8_t *x;        /* (n, 36, 36) */
    uint8_t *y;        /* (n, 2): class of the top-left item, of the bottom-right item */
    uint32_t *source;  /* (n, 2): the two items' indices in the Fashion-MNIST file */
    uint8_t *offset;   /* (n, 4): dy, dx (0..4) of the left item, dy', dx' (4..8) of the right */
} mtb_mf_split;

typedef struct mtb_multifashion {
    uint64_t seed;
    mtb_mf_split split[MTB_MF_N_SPLITS]; /* n = 0 for splits not built */
    char source_sha256[MTB_FASHION_N_FILES][65];
} mtb_multifashion;

/* Builds the splits whose bit (1 << id) is set in split_mask (e.g. all: 0xF). */
mtb_status mtb_multifashion_build(const mtb_fashion *src, uint64_t seed, unsigned split_mask,
                                  mtb_multifashion *mf, mtb_error *err);
void mtb_multifashion_free(mtb_multifashion *mf);

/* SHA-256 of a split's images then its labels (the bytes stored), for golden tests. */
void mtb_mf_split_sha256(const mtb_mf_split *s, char hex[65]);

/* Writes the HDF5 file (atomically; schema in datasets/README.md). */
mtb_status mtb_multifashion_save(const char *path, const mtb_multifashion *mf, mtb_error *err);

/* Reads a file mtb_multifashion_save wrote (untrusted: checked in a child process first),
 * the splits whose bit is set in split_mask, x and y only; every shape is checked against the
 * recipe before it is read and each split against the SHA-256 the file records. MTB_EIO
 * naming the file and what is wrong for anything else. */
mtb_status mtb_multifashion_load(const char *path, unsigned split_mask, mtb_multifashion *mf,
                                 mtb_error *err);

/* The training form: an mtb_dataset with x = pixel / 255 (float, no standardisation; spec
 * sec. 2.8), y = the two class indices, two CE tasks of 10 classes. Uses the first n_train
 * samples of split `train_id` and the first n_test of `test_id` (0: all). */
mtb_status mtb_multifashion_dataset(const mtb_multifashion *mf, mtb_mf_split_id train_id,
                                    size_t n_train, mtb_mf_split_id test_id, size_t n_test,
                                    mtb_dataset *ds, mtb_error *err);

/* ---- the benchmark problems (multifashion_problem.c) ------------------------------------ */

/* Fills the family fields, tasks and protocol of name = multifashion[-mlp][-e<E>]: the
 * lenet-pmtl (or mlp) trunk for 50 (or E) epochs; smoke: the mlp trunk on a 12 000 / 2 000
 * subset for 2 epochs. MTB_EINVAL for another name. */
mtb_status mtb_multifashion_problem(mtb_problem *p, const char *name, int smoke, mtb_error *err);
/* The problem's data set from the source files (MTB_MF_DEFAULT_SOURCE, or the directory in
 * the environment variable MTB_FASHION_MNIST_DIR), in the training form. */
mtb_status mtb_multifashion_problem_dataset(const mtb_problem *p, mtb_dataset *ds, mtb_error *err);
/* The same data set from a multifashion-v1 file (mtb gen multifashion -o FILE). */
mtb_status mtb_multifashion_problem_load(const mtb_problem *p, const char *path, mtb_dataset *ds,
                                         mtb_error *err);

#endif
