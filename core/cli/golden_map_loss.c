/* golden_map_loss.c: golden-fixture entries of the loss-based methods (EW, GLS, UW,
 * DWA, IMTL, DB-MTL, ...). See golden.h. */
#include "golden.h"

const golden_entry golden_entries_loss[] = {
    {.fixture = NULL},
};
