/* Little-endian word loads and rotations shared by the implementations.
 *
 * Words are loaded with memcpy (no alignment assumptions) in the machine's own byte order and
 * swapped on big-endian targets, so the swap path is compiled and tested there.
 */
#ifndef XSUM_BYTES_H
#define XSUM_BYTES_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define XSUM_BIG_ENDIAN 1
#else
#define XSUM_BIG_ENDIAN 0
#endif

static inline uint32_t xsum_bswap32(uint32_t x) {
    return ((x & 0x000000FFu) << 24) | ((x & 0x0000FF00u) << 8) | ((x & 0x00FF0000u) >> 8) |
           ((x & 0xFF000000u) >> 24);
}

static inline uint64_t xsum_bswap64(uint64_t x) {
    return ((uint64_t)xsum_bswap32((uint32_t)x) << 32) | xsum_bswap32((uint32_t)(x >> 32));
}

static inline uint32_t xsum_load_le32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if XSUM_BIG_ENDIAN
    v = xsum_bswap32(v);
#endif
    return v;
}

static inline uint64_t xsum_load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if XSUM_BIG_ENDIAN
    v = xsum_bswap64(v);
#endif
    return v;
}

static inline uint32_t xsum_rotl32(uint32_t x, unsigned r) {
    return (x << r) | (x >> (32u - r));
}

static inline uint64_t xsum_rotl64(uint64_t x, unsigned r) {
    return (x << r) | (x >> (64u - r));
}

#endif
