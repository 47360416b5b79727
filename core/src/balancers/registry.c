/* registry.c: every balancing method mtb has, in the order `mtb methods` lists them.
 * Adding a method: write core/src/balancers/<name>.c ending in its type object,
 * declare it here and add it to the list. */
#include <string.h>

#include "mtb/balancer.h"

/* Loss weighting with fixed or random weights (RLW paper, random-weighting paper). */
/* (declarations are added here as each method lands) */

const mtb_balancer_type *const mtb_balancer_types[] = {
    NULL,
};

const mtb_balancer_type *mtb_balancer_find(const char *name)
{
    for (int i = 0; mtb_balancer_types[i]; i++)
        if (!strcmp(mtb_balancer_types[i]->name, name))
            return mtb_balancer_types[i];
    return NULL;
}
