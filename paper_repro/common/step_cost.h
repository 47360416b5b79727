/* step_cost.h: the cost of one training step of a registered method, measured through the
 * library's trainer (mtb_trainer_step: forward, the task gradients the method declares, the
 * method, the weighted backward, Adam), on the MTR trunk (250 -> 4 x 100, tanh), T heads of
 * 100 MSE outputs and a batch in memory, one BLAS thread (the caller sets it). Shared by the
 * reproductions' cost experiments (DB-MTL D11; RLW R8 measures the same quantity for its
 * losses-only methods). Timings are printed and tabulated, never asserted. */
#ifndef REPRO_STEP_COST_H
#define REPRO_STEP_COST_H

#include <stddef.h>

typedef struct repro_step_cost {
    int T, batch;      /* tasks; batch size (the MTR protocol: 304) */
    int warm;          /* untimed steps first */
    int reps, steps;   /* reps timed blocks of `steps` steps; the result is the median block */
} repro_step_cost;

/* Milliseconds per step of method:opts (the options as `mtb train --options` takes them);
 * NAN with the reason in msg when the method cannot be built or a step fails. */
double repro_step_ms(const repro_step_cost *c, const char *method, const char *opts, char *msg,
                     size_t msg_len);

#endif
