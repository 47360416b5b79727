/* rng.c: xoshiro256** with SplitMix64 seeding, and the samplers built on it. */
#include "mtb/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mtb_rng_seed(mtb_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Hash the stream number before combining so that (seed, stream) and
     * (seed + 1, stream - 1) do not collide. */
    uint64_t h = stream;
    uint64_t key = seed ^ splitmix64(&h);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&key);
    /* An all-zero state is the one xoshiro cannot leave; SplitMix64 never gives it
     * for four consecutive outputs, but stay safe. */
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1;
}

uint64_t mtb_rng_u64(mtb_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mtb_rng_uniform(mtb_rng *rng) { return (double)(mtb_rng_u64(rng) >> 11) * 0x1.0p-53; }

uint64_t mtb_rng_below(mtb_rng *rng, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection on the top of the range keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = mtb_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

double mtb_rng_normal(mtb_rng *rng)
{
    /* Box-Muller; u1 in (0, 1] so the log is finite. */
    double u1 = 1.0 - mtb_rng_uniform(rng);
    double u2 = mtb_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double mtb_rng_normal_ms(mtb_rng *rng, double mu, double sigma) { return mu + sigma * mtb_rng_normal(rng); }

double mtb_rng_gamma(mtb_rng *rng, double shape)
{
    if (shape < 1.0) {
        /* Gamma(a) = Gamma(a + 1) * U^(1/a)  (Marsaglia & Tsang, Sec. 6). */
        double u = 1.0 - mtb_rng_uniform(rng);
        return mtb_rng_gamma(rng, shape + 1.0) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = mtb_rng_normal(rng);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = 1.0 - mtb_rng_uniform(rng);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

int mtb_rng_bernoulli(mtb_rng *rng, double p) { return mtb_rng_uniform(rng) < p; }

mtb_status mtb_rng_dirichlet(mtb_rng *rng, int k, const double *alpha, double *out, mtb_error *err)
{
    if (k < 1)
        return mtb_fail(err, MTB_EINVAL, "dirichlet: dimension must be >= 1, got %d", k);
    double sum = 0.0;
    for (int i = 0; i < k; i++) {
        if (!(alpha[i] > 0.0) || !isfinite(alpha[i]))
            return mtb_fail(err, MTB_EINVAL, "dirichlet: alpha[%d] must be finite and > 0, got %g", i, alpha[i]);
        out[i] = mtb_rng_gamma(rng, alpha[i]);
        sum += out[i];
    }
    /* With tiny alphas every gamma draw can underflow to 0: fall back to one-hot
     * on a uniformly chosen coordinate, the limit of the distribution. */
    if (!(sum > 0.0)) {
        uint64_t j = mtb_rng_below(rng, (uint64_t)k);
        for (int i = 0; i < k; i++)
            out[i] = (uint64_t)i == j;
        return MTB_OK;
    }
    for (int i = 0; i < k; i++)
        out[i] /= sum;
    return MTB_OK;
}

void mtb_rng_shuffle(mtb_rng *rng, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)mtb_rng_below(rng, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
