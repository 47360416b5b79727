/* golden_map_grad.c: golden-fixture entries of the gradient-based methods (MGDA,
 * GradNorm, PCGrad, GradVac, CAGrad, ...). See golden.h. */
#include "golden.h"

const golden_entry golden_entries_grad[] = {
    {.fixture = NULL},
};
