/* Internal: the one little-endian reader. Every file format clheads reads
 * (safetensors header length, tensor bytes, optimizer step counters, rehearsal
 * memory) stores integers little-endian; these read them byte by byte, so the
 * result is the same on any host byte order and needs no alignment. */
#ifndef CLH_INTERNAL_LITTLE_ENDIAN_H
#define CLH_INTERNAL_LITTLE_ENDIAN_H

#include <stdint.h>

static inline uint16_t clh_load_le16(const unsigned char *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t clh_load_le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t clh_load_le64(const unsigned char *p) {
    return (uint64_t)clh_load_le32(p) | ((uint64_t)clh_load_le32(p + 4) << 32);
}

#endif
