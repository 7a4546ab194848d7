/* Adler-32 (RFC 1950), deferring the modulo as long as the sums cannot overflow. */
#include "xsum.h"

#define ADLER_MOD 65521u
/* Largest n such that 255 n (n + 1) / 2 + (n + 1) (ADLER_MOD - 1) fits in 32 bits. */
#define ADLER_NMAX 5552u

uint32_t xsum_adler32(uint32_t adler, const void *data, size_t len) {
    const uint8_t *p = data;
    uint32_t a = adler & 0xFFFFu;
    uint32_t b = adler >> 16;
    while (len > 0) {
        size_t n = len < ADLER_NMAX ? len : ADLER_NMAX;
        len -= n;
        while (n--) {
            a += *p++;
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    return (b << 16) | a;
}
