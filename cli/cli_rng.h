/* The CLI's seeded generator: the library's splitmix64 (clheads/rng.h), used for
 * the backbone's initial weights, the synthetic data, the pixel permutations
 * and the shuffling of every epoch.
 * Its whole state is one uint64, which a checkpoint stores, so a resumed run
 * shuffles exactly as an uninterrupted one. */
#ifndef CLI_RNG_H
#define CLI_RNG_H

#include <stdint.h>

#include "clheads/rng.h"

typedef clh_rng cli_rng;

static inline uint64_t cli_rng_next(cli_rng *rng) { return clh_rng_next(rng); }

/* Uniform in [0, 1) with 24 random bits (exact in float). */
static inline double cli_rng_uniform(cli_rng *rng) { return clh_rng_uniform(rng); }

/* Uniform integer in [0, n) for 0 < n <= 2^32 (multiply-shift; the tiny bias
 * of this method is irrelevant for shuffling and is the same on every run). */
static inline uint64_t cli_rng_below(cli_rng *rng, uint64_t n) {
    return ((clh_rng_next(rng) >> 32) * n) >> 32;
}

/* Independent streams for the purposes above, derived from the run's seed. */
#define CLI_STREAM_BACKBONE 0xB4C4B0E5EEDull
#define CLI_STREAM_SHUFFLE 0x5A0FF1E5EEDull
#define CLI_STREAM_PERMUTE 0x9E12A17E5EEDull
#define CLI_STREAM_SYNTHETIC 0x5F17E71C5EEDull

/* A stream starts where the library starts a head's: seed ^ (stream * 0xD1B5...). */
static inline cli_rng cli_rng_stream(uint64_t seed, uint64_t stream) {
    return clh_rng_for_head(seed, (int64_t)stream);
}

#endif
