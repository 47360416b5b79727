/* rng.h: seeded random numbers with independent streams.
 *
 * Generator: xoshiro256** (Blackman & Vigna, 2018), 256 bits of state, period 2^256 - 1.
 * Seeding: the state is filled by SplitMix64 from a key that mixes (seed, stream), so
 * every (seed, stream) pair gives its own sequence; mtb uses stream numbers to keep
 * the data generator, the batch order, the initialisation and each method's own draws
 * apart (see MTB_STREAM_* below), so changing one never shifts another.
 *
 * Samplers: uniform [0,1), standard normal (Box-Muller, one output per call so a stream
 * never holds a cached value), normal(mu, sigma), gamma (Marsaglia & Tsang 2000, with the
 * alpha < 1 boost), Dirichlet (normalised gammas), Bernoulli. */
#ifndef MTB_RNG_H
#define MTB_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/status.h"

typedef struct mtb_rng {
    uint64_t s[4];
} mtb_rng;

/* Stream numbers used by mtb's own programs (any uint64 works for a caller's streams). */
enum {
    MTB_STREAM_DATA = 1,     /* synthetic data generators */
    MTB_STREAM_INIT = 2,     /* parameter initialisation */
    MTB_STREAM_SHUFFLE = 3,  /* batch order */
    MTB_STREAM_METHOD = 4,   /* a balancer's own random draws (RLW, PCGrad order, ...) */
    MTB_STREAM_BENCH = 5     /* random inputs of the benchmarks */
};

void mtb_rng_seed(mtb_rng *rng, uint64_t seed, uint64_t stream);
uint64_t mtb_rng_u64(mtb_rng *rng);
double mtb_rng_uniform(mtb_rng *rng);               /* [0, 1), 53 random bits */
uint64_t mtb_rng_below(mtb_rng *rng, uint64_t n);   /* uniform on {0, ..., n-1}; n >= 1, unbiased */
double mtb_rng_normal(mtb_rng *rng);                /* N(0, 1) */
double mtb_rng_normal_ms(mtb_rng *rng, double mu, double sigma);
double mtb_rng_gamma(mtb_rng *rng, double shape);   /* Gamma(shape, scale 1), shape > 0 */
int mtb_rng_bernoulli(mtb_rng *rng, double p);      /* 1 with probability p */

/* Dirichlet(alpha) into out[k]; alpha[i] > 0. Returns MTB_EINVAL on a bad alpha. */
mtb_status mtb_rng_dirichlet(mtb_rng *rng, int k, const double *alpha, double *out, mtb_error *err);

/* Fisher-Yates shuffle of an index array. */
void mtb_rng_shuffle(mtb_rng *rng, size_t *idx, size_t n);

#endif
