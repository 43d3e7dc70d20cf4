/* IEEE binary16 and bfloat16 <-> float32, bit exact, with round to nearest
 * even on narrowing (the rounding PyTorch's .half() and .bfloat16() use). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clheads/safetensors.h"

static uint32_t float_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static float bits_float(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

float clh_f16_to_f32(uint16_t bits) {
    uint32_t sign = (uint32_t)(bits >> 15) << 31;
    uint32_t exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    if (exponent == 0) {
        /* Zero or subnormal: mantissa x 2^-24, exact in float32. */
        float magnitude = ldexpf((float)mantissa, -24);
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) /* infinity, or NaN with its payload kept */
        return bits_float(sign | 0x7f800000u | (mantissa << 13));
    return bits_float(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

/* q with the `shift` low bits of `full` rounded off, to nearest even. */
static uint32_t round_shift(uint32_t full, unsigned shift) {
    uint32_t q = full >> shift;
    uint32_t rest = full & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (q & 1u))) q++;
    return q;
}

uint16_t clh_f32_to_f16(float value) {
    uint32_t bits = float_bits(value);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    int32_t exponent = (int32_t)((bits >> 23) & 0xffu);
    uint32_t mantissa = bits & 0x7fffffu;
    if (exponent == 255) /* NaN stays a (quiet) NaN, infinity stays infinity */
        return (uint16_t)(sign | 0x7c00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u));
    int32_t half_exponent = exponent - 127 + 15;
    if (half_exponent >= 31) return (uint16_t)(sign | 0x7c00u);
    if (half_exponent <= 0) {
        /* A binary16 subnormal (or zero): the full 24-bit significand scaled
         * to units of 2^-24. Rounding up may give the smallest normal, whose
         * encoding follows on naturally. float32 subnormals all round to 0. */
        if (exponent == 0) return sign;
        unsigned shift = (unsigned)(126 - exponent);
        if (shift >= 25) return sign;
        return (uint16_t)(sign | round_shift(mantissa | 0x800000u, shift));
    }
    /* Normal: a mantissa carry moves into the exponent, and past the largest
     * finite value into infinity (0x7c00), as IEEE rounding requires. */
    uint32_t q = round_shift(((uint32_t)half_exponent << 23) | mantissa, 13);
    if (q >= 0x7c00u) return (uint16_t)(sign | 0x7c00u);
    return (uint16_t)(sign | q);
}

float clh_bf16_to_f32(uint16_t bits) { return bits_float((uint32_t)bits << 16); }

uint16_t clh_f32_to_bf16(float value) {
    uint32_t bits = float_bits(value);
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu))
        return (uint16_t)((bits >> 16) | 0x40u); /* quiet NaN */
    /* Round to nearest even on the low 16 bits; a carry reaches infinity. */
    uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(rounded >> 16);
}
