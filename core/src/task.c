/* task.c: names of the loss kinds, as they appear in files and on the command line. */
#include "mtb/task.h"

#include <string.h>

static const char *const loss_names[] = {"mse", "l1", "bce", "ce"};

const char *mtb_loss_name(mtb_loss_kind k)
{
    return (unsigned)k < sizeof loss_names / sizeof *loss_names ? loss_names[k] : "unknown";
}

int mtb_loss_from_name(const char *name, mtb_loss_kind *k)
{
    for (unsigned i = 0; i < sizeof loss_names / sizeof *loss_names; i++)
        if (!strcmp(name, loss_names[i])) {
            *k = (mtb_loss_kind)i;
            return 0;
        }
    return -1;
}
