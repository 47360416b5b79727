/* test_rng_smoke.c: the build's own smoke test; the real RNG tests are in test_rng.c. */
#include <criterion/criterion.h>

#include "mtb/rng.h"

Test(rng, same_seed_same_stream_is_identical)
{
    mtb_rng a, b;
    mtb_rng_seed(&a, 42, 7);
    mtb_rng_seed(&b, 42, 7);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(mtb_rng_u64(&a), mtb_rng_u64(&b));
}

Test(rng, streams_differ)
{
    mtb_rng a, b;
    mtb_rng_seed(&a, 42, 1);
    mtb_rng_seed(&b, 42, 2);
    int same = 0;
    for (int i = 0; i < 1000; i++)
        same += mtb_rng_u64(&a) == mtb_rng_u64(&b);
    cr_assert_lt(same, 2);
}
