/* fuzz_run_file.c: libFuzzer target for the run-file reader (mtb_run_read_summary, run.h),
 * behind the check a program must make on a run file it did not write itself:
 * mtb_h5_validate_untrusted first, then the reader in this process. */
#include <string.h>

#include "fuzz_util.h"
#include "mtb/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    mtb_h5_limits lim = fuzz_limits();
    mtb_error err = {0};
    if (mtb_h5_validate_untrusted(path, &lim, &err) != MTB_OK)
        return 0;
    static mtb_run_summary s; /* large (fixed arrays per task) */
    memset(&s, 0, sizeof s);
    if (mtb_run_read_summary(path, &s, &err) != MTB_OK && !err.msg[0])
        abort();
    return 0;
}
