/* golden_map_multi.c: golden entries for the methods that use balancer.h's interface
 * extensions (several samples per step; losses after the update). See golden.h. */
#include <stddef.h>

#include "golden.h"

const golden_entry golden_entries_multi[] = {
    {.fixture = NULL},
};
