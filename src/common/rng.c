/* splitmix64 and the nn.Linear-style uniform fill (include/clheads/rng.h has the exact recipe). */
#include "clheads/rng.h"

clh_rng clh_rng_for_head(uint64_t seed, int64_t task_id) {
    clh_rng rng = {seed ^ (UINT64_C(0xD1B54A32D192ED03) * (uint64_t)task_id)};
    return rng;
}

uint64_t clh_rng_next(clh_rng *rng) {
    uint64_t z = (rng->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

double clh_rng_uniform(clh_rng *rng) { return (double)(clh_rng_next(rng) >> 40) * 0x1.0p-24; }

void clh_rng_fill_uniform(clh_rng *rng, float *out, uint64_t count, double bound) {
    for (uint64_t i = 0; i < count; i++) out[i] = (float)((2.0 * clh_rng_uniform(rng) - 1.0) * bound);
}
