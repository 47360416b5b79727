/* fuzz_dataset.c: libFuzzer target for the data-set loader (mtb_dataset_load_limits): any
 * bytes must give MTB_OK or a clean error, in the calling process, without a crash, a
 * hang, a leak or an unbounded allocation. HDF5's own failures happen in the isolated
 * child and come back as errors; what is fuzzed here is everything mtb does around them. */
#include <string.h>

#include "fuzz_util.h"
#include "mtb/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    mtb_h5_limits lim = fuzz_limits();
    mtb_dataset ds;
    mtb_error err = {0};
    mtb_status st = mtb_dataset_load_limits(path, &lim, &ds, &err);
    if (st == MTB_OK) {
        /* A loaded data set is usable: the check the trainer relies on holds. */
        if (mtb_dataset_check(&ds, &err) != MTB_OK)
            abort();
        mtb_dataset_free(&ds);
    } else if (!err.msg[0] || ds.tasks || ds.train.x) {
        abort(); /* an error must explain itself and leave nothing allocated */
    }
    return 0;
}
