/* synth_internal.h: the steps the MTR-based generators share, private to synth/.
 *
 * LSD-6 and BCE-T (rlw.md sec. 2 and R6), LSD-3C (imtl.md sec. 1) and LSD-CE3 (dbmtl.md
 * sec. 1) are all "the MTRRegression generator (mtrregression-and-slaw.md sec. 1) with T task
 * matrices" and other targets. Each is made of the same few steps, which live here so that
 * every generator file reads as its spec's recipe and so that one step cannot drift apart
 * between two generators:
 *
 *   1. draw the MTR inputs x and task matrices B + eps_t          mtb_synth_open
 *   2. clean targets from the pre-activations z_t = (B + eps_t) x  mtb_synth_tanh_targets,
 *                                                                   mtb_synth_argmax_labels,
 *                                                                   mtb_synth_sign_labels
 *   3. label noise from the second stream, seed + 1               mtb_synth_noise_stream,
 *                                                                   mtb_synth_relabel,
 *                                                                   mtb_synth_flip
 *   4. the task table, the description, the hand-over            mtb_synth_task,
 *                                                                   mtb_synth_inputs_desc,
 *                                                                   mtb_synth_finish
 *
 * Each helper consumes random draws exactly as the code it replaced did (the data sets, and
 * the pinned hashes of runs on them, depend on it): steps 1 and 3 draw, step 2 does not. */
#ifndef MTB_SYNTH_INTERNAL_H
#define MTB_SYNTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/dataset.h"
#include "mtb/rng.h"
#include "mtb/synth.h"
#include "mtr_draws.h"

/* ---- checks and parameters ------------------------------------------------------------ */

/* MTB_EINVAL unless 1 <= n_train < n_total <= INT_MAX (both splits have samples; BLAS takes
 * the row count as an int); messages start with "who: ". */
mtb_status mtb_synth_check_split(const char *who, size_t n_total, size_t n_train,
                                 mtb_error *err);

/* The MTR generator's defaults (250 inputs, 100 outputs, stds 10, 3.5, 0.01) with T task
 * matrices, this seed and split: "the MTRRegression generator of the SLAW spec sec. 1 with
 * n = T task matrices" (rlw.md sec. 2; imtl.md and dbmtl.md sec. 1 say the same). */
void mtb_synth_mtr_inputs(mtb_mtr_params *m, int T, uint64_t seed, size_t n_total,
                          size_t n_train);

/* ---- step 1: the draws, the data set and a work matrix ---------------------------------- */

/* One generator's state from its draws to the finished data set. */
typedef struct mtb_synth_build {
    mtb_mtr_params m;  /* the MTR parameters behind the draws (m.sigma is not read) */
    mtb_mtr_draws d;   /* x and B + eps_t, mtr_draws.h */
    mtb_dataset ds;    /* being filled: x stored, y zero until the targets are made */
    double *Z;         /* (n, z_rows) work: pre-activations of one task */
    int z_rows;
} mtb_synth_build;

/* Draws m's inputs and task matrices (mtb_mtr_draws_make, in the MTR spec's order), allocates
 * the data set (m->T tasks, m->d_in inputs, y_width target columns, m's split) and the work
 * matrix for up to z_rows pre-activations per sample (1 <= z_rows <= m->d_out), and stores x.
 * The caller has validated m (mtr_draws.h). On failure nothing is left allocated. */
mtb_status mtb_synth_open(mtb_synth_build *b, const mtb_mtr_params *m, int y_width,
                          int z_rows, const char *who, mtb_error *err);

/* The row of y for sample r: the n_train training rows first, then the test rows. */
static inline float *mtb_synth_y_row(mtb_synth_build *b, size_t r)
{
    return mtb_mtr_draws_y_row(&b->d, &b->ds, r);
}

/* Frees the draws and the work matrix and hands the data set to *out. */
void mtb_synth_finish(mtb_synth_build *b, mtb_dataset *out);

/* ---- step 2: clean targets (no random draws) -------------------------------------------- */

/* Regression targets sigma tanh(z_t) over all d_out outputs of task t (0-based), into
 * columns [col, col + d_out) of every row, rounded to float32: the MTR target
 * (mtrregression-and-slaw.md sec. 1), also LSD-6's t1..t4 (rlw.md sec. 2) and LSD-3C's t2, t3
 * (imtl.md sec. 1). Needs z_rows >= d_out. */
void mtb_synth_tanh_targets(mtb_synth_build *b, int t, double sigma, int col);

/* Class labels argmax of z_t[1..classes] (the first on a tie, which has probability 0 in
 * exact arithmetic) into column col: LSD-6's t5 (rlw.md sec. 2), LSD-3C's t1 (imtl.md
 * sec. 1), LSD-CE3's tasks (dbmtl.md sec. 1). Needs z_rows >= classes. */
void mtb_synth_argmax_labels(mtb_synth_build *b, int t, int classes, int col);

/* Bits 1[z_t[j] > 0], j = 1..bits, into columns [col, col + bits): LSD-6's t6 (rlw.md
 * sec. 2), BCE-T's label (bits = 1, rlw.md R6), LSD-CE3-sep's task 1 (dbmtl.md sec. 1).
 * Needs z_rows >= bits. */
void mtb_synth_sign_labels(mtb_synth_build *b, int t, int bits, int col);

/* ---- step 3: label noise ---------------------------------------------------------------- */

/* The label-noise stream: MTB_STREAM_DATA of seed + 1, so that the noise never shifts the
 * inputs (rlw.md sec. 2: "a second stream seeded with dataset seed + 1"). seed + 1 wraps at
 * 2^64 - 1 (unsigned arithmetic), which is still a valid, distinct seed. */
void mtb_synth_noise_stream(mtb_rng *rng, uint64_t seed);

/* One noisy class label (rlw.md sec. 2, t5): a uniform u, always drawn (also for rate 0, so
 * that every variant consumes the stream alike), and only when u < rate a second draw, the
 * new class uniform over the classes - 1 others. 0 <= clean < classes, classes >= 2. */
int mtb_synth_relabel(mtb_rng *rng, int clean, int classes, double rate);

/* One noisy bit (rlw.md sec. 2, t6; R6's flips): one uniform u, bit flipped when u < p. */
float mtb_synth_flip(mtb_rng *rng, float bit, double p);

/* ---- step 4: task table and description ------------------------------------------------- */

/* One row of the task table; no class weights. */
void mtb_synth_task(mtb_task_spec *k, mtb_loss_kind loss, int out_width, int target_width,
                    int offset, double sigma);

/* The shortest of %.15g / %.17g that reads back as v ("0.05", not "0.050000000000000003"). */
const char *mtb_synth_num(char buf[32], double v);

#define MTB_SYNTH_INPUTS_DESC_LEN 256

/* "d_in=..,d_out=..,n_total=..,n_train=..,std_B=..,std_eps=..,std_x=..,rng=xoshiro256**,
 * stream=1": the MTR inputs' part of a derived generator's description, numbers in the
 * shortest form that reads back (mtb_synth_num). Returns buf. */
const char *mtb_synth_inputs_desc(char buf[MTB_SYNTH_INPUTS_DESC_LEN], const mtb_mtr_params *m);

#endif
