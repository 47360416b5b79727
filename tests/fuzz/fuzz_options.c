/* fuzz_options.c: libFuzzer target for the `--options K=V,...` parser (mtb_hparams_parse)
 * of every method: the first byte picks the method, the rest is the text. Any text must
 * give MTB_OK with every value inside its range, or a clean error. */
#include <math.h>
#include <string.h>

#include "mtb/balancer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int n_types;
    if (!n_types)
        while (mtb_balancer_types[n_types])
            n_types++;
    if (size < 1 || size > 4096)
        return 0;
    const mtb_balancer_type *type = mtb_balancer_types[data[0] % n_types];
    char text[4097];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    mtb_hparams hp;
    mtb_error err = {0};
    mtb_status st = mtb_hparams_parse(type, text, &hp, &err);
    if (st != MTB_OK && !err.msg[0])
        __builtin_trap();
    if (st == MTB_OK) {
        char buf[2048];
        mtb_hparams_format(type, &hp, buf, sizeof buf);
        for (int i = 0; i < hp.n; i++)
            if (isnan(hp.v[i]))
                __builtin_trap();
    }
    return 0;
}
