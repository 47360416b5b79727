/* golden_map_multi.c: golden entries for the methods that use balancer.h's interface
 * extensions (several samples per step; losses after the update; the representation and its
 * gradients). See golden.h.
 *
 * SDMGrad has no entry: its LibMTL cases are marked unreliable and kept out of the shared
 * set (LIBMTL-FORMULAS.md: the inner SGD at lr 5 jumps between faces of the simplex, so
 * float32 and float64 runs part ways after a step or two). */
#include <stddef.h>

#include "golden.h"

const golden_entry golden_entries_multi[] = {
    {.fixture = "FAMO",
     .method = "famo",
     .options = "w_lr=0.025,gamma=0.001,optimizer=adam",
     .note = "the paper's Algorithm 2 = LibMTL (Adam on the logits, L2 decay 1e-3); the "
             "logits step in after_update with inputs/losses_after; LibMTL returns no weights"},
    {.fixture = "MoDo",
     .method = "modo",
     .options = "gamma=0.001,rho=0.1",
     .note = "LibMTL's MoDo_gamma = 1e-3 (the official code's default is 0.1); samples 0, 1 "
             "update lambda, sample 2 gives the gradient; LibMTL returns lambda = trunk_w"},
    {.fixture = "GradDrop",
     .method = "graddrop",
     .options = "leak=0,eps=1e-7",
     .note = "representation gradients: G = inputs/G_rep (T, B d), rep = {inputs/rep, d}; "
             "LibMTL's 1e-7 in the purity; the recorded uniforms inputs/random_uniform (one per "
             "feature) are replayed; theta's gradient is the sum over the B rows (rep = X + "
             "theta); LibMTL returns no weights"},
    {.fixture = NULL},
};
