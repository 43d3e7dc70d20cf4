/* clheads — the seeded generator behind nn.Linear-style initialisation.
 *
 * Public so that a program (the clheads tool, a backbone in C) draws from the
 * same stream recipe as the heads. Documented exactly so that scripts/ can
 * reproduce the initial weights in Python (scripts/clheads_init.py) and hand
 * PyTorch the same numbers:
 *   splitmix64: state += 0x9E3779B97F4A7C15; z = state;
 *               z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *               z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31)
 *   a head's stream starts at state = seed ^ (0xD1B54A32D192ED03 * (uint64)task_id)
 *   (DIL and STL use task id 0), so a head's initial values depend only on
 *   (seed, task id, shape), never on set-up order;
 *   u = (next >> 40) * 2^-24 in [0, 1); value = (float)((2u - 1) * bound) in
 *   double arithmetic, bound = 1 / sqrt((double)in_features);
 *   the weight [out, in] is drawn row-major first, then the bias [out].
 *
 * ABI: clh_rng is exactly its documented state, one uint64 (a program may
 * store and restore it); it never grows: another generator would be another
 * type. The functions never fail and never allocate.
 */
#ifndef CLHEADS_RNG_H
#define CLHEADS_RNG_H

#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clh_rng {
    uint64_t state;
} clh_rng;

/* The stream of head `task_id` under `seed` (see above). */
CLH_API clh_rng clh_rng_for_head(uint64_t seed, int64_t task_id);
/* The next 64 random bits (splitmix64). */
CLH_API uint64_t clh_rng_next(clh_rng *rng);
/* Uniform in [0, 1) with 24 random bits (exact in float). */
CLH_API double clh_rng_uniform(clh_rng *rng);
/* Fills out[0..count) with values uniform in [-bound, bound) as documented above. */
CLH_API void clh_rng_fill_uniform(clh_rng *rng, float *out, uint64_t count, double bound);

#ifdef __cplusplus
}
#endif
#endif
