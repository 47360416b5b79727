/* fuzz_idx.c: libFuzzer target for the Fashion-MNIST IDX decoder (mtb_idx_decode_gz,
 * datasets/multifashion_idx.c), whose input comes from outside. Byte 0 picks images (odd) or
 * labels (even), byte 1 the expected count (0..255), the rest is the gzip stream. Any input
 * must give MTB_OK with exactly what was asked for, or a clean error with a message and
 * nothing allocated; never a crash, a leak or an allocation the bytes could not justify. */
#include <string.h>

#include "mtb/multifashion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const int images = data[0] & 1;
    const size_t want = data[1];
    mtb_idx idx;
    mtb_error err = {0};
    mtb_status st = mtb_idx_decode_gz(data + 2, size - 2, "fuzz", images ? 2051 : 2049, want,
                                      &idx, &err);
    if (st == MTB_OK) {
        const int side = images ? 28 : 1;
        if (idx.count != want || idx.rows != side || idx.cols != side || !idx.data)
            __builtin_trap();
        size_t sum = 0; /* touch every byte: ASan sees a short buffer */
        for (size_t i = 0; i < want * (size_t)side * side; i++)
            sum += idx.data[i];
        (void)sum;
        mtb_idx_free(&idx);
    } else if (!err.msg[0] || idx.data) {
        __builtin_trap();
    }
    return 0;
}
