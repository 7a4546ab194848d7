/* xsum: checksums and non-cryptographic hashes over byte streams.
 *
 * Every function computes the same value for the same bytes on every architecture; the
 * implementations load machine words and convert them from little-endian, so running the test
 * suite on big-endian or 32-bit targets exercises real code paths.
 */
#ifndef XSUM_H
#define XSUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XSUM_VERSION "1.0.0"

/* CRC-32 (ISO-HDLC, as in zlib and PNG). Start with crc = 0; feed chunks in order. */
uint32_t xsum_crc32(uint32_t crc, const void *data, size_t len);
/* CRC-32C (Castagnoli, as in iSCSI and ext4). Start with crc = 0. */
uint32_t xsum_crc32c(uint32_t crc, const void *data, size_t len);
/* Adler-32 (RFC 1950). Start with adler = 1. */
uint32_t xsum_adler32(uint32_t adler, const void *data, size_t len);

/* xxHash32 and xxHash64, one-shot and streaming. */
typedef struct {
    uint64_t total_len;
    uint32_t acc[4];
    uint32_t seed;
    uint8_t buf[16];
    uint32_t buf_len;
} xsum_xxh32_state;

typedef struct {
    uint64_t total_len;
    uint64_t acc[4];
    uint64_t seed;
    uint8_t buf[32];
    uint32_t buf_len;
} xsum_xxh64_state;

uint32_t xsum_xxh32(const void *data, size_t len, uint32_t seed);
void xsum_xxh32_init(xsum_xxh32_state *st, uint32_t seed);
void xsum_xxh32_update(xsum_xxh32_state *st, const void *data, size_t len);
uint32_t xsum_xxh32_digest(const xsum_xxh32_state *st);

uint64_t xsum_xxh64(const void *data, size_t len, uint64_t seed);
void xsum_xxh64_init(xsum_xxh64_state *st, uint64_t seed);
void xsum_xxh64_update(xsum_xxh64_state *st, const void *data, size_t len);
uint64_t xsum_xxh64_digest(const xsum_xxh64_state *st);

/* One interface over every algorithm, for tools that pick one by name. */
typedef enum {
    XSUM_CRC32,
    XSUM_CRC32C,
    XSUM_ADLER32,
    XSUM_XXH32,
    XSUM_XXH64,
    XSUM_ALGO_COUNT
} xsum_algo;

typedef struct {
    xsum_algo algo;
    union {
        uint32_t u32;
        xsum_xxh32_state xxh32;
        xsum_xxh64_state xxh64;
    } u;
} xsum_ctx;

/* Returns -1 when the name is unknown. */
int xsum_algo_from_name(const char *name);
const char *xsum_algo_name(xsum_algo algo);
/* Width of the digest in bits: 32 or 64. */
unsigned xsum_algo_bits(xsum_algo algo);
void xsum_init(xsum_ctx *ctx, xsum_algo algo);
void xsum_update(xsum_ctx *ctx, const void *data, size_t len);
uint64_t xsum_final(const xsum_ctx *ctx);

/* What the library was built for: 1 on big-endian targets, and sizeof(void *) * 8. */
int xsum_target_big_endian(void);
unsigned xsum_target_pointer_bits(void);

#ifdef __cplusplus
}
#endif

#endif
