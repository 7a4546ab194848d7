/* Published test vectors for every algorithm, checked one-shot and streamed in uneven chunks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsum.h"

static int failures;

static void check(const char *what, uint64_t got, uint64_t want) {
    if (got != want) {
        fprintf(stderr, "FAIL %s: got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", what, got, want);
        failures++;
    }
}

struct vector {
    const char *input;
    uint32_t crc32, crc32c, adler32, xxh32;
    uint64_t xxh64;
};

/* CRC check values from the CRC catalogue ("123456789"), Adler-32 of "Wikipedia" from RFC 1950
 * worked examples, xxHash values from the reference implementation. */
static const struct vector vectors[] = {
    {"", 0x00000000u, 0x00000000u, 0x00000001u, 0x02CC5D05u, 0xEF46DB3751D8E999ull},
    {"a", 0xE8B7BE43u, 0xC1D04330u, 0x00620062u, 0x550D7456u, 0xD24EC4F1A98C6E5Bull},
    {"abc", 0x352441C2u, 0x364B3FB7u, 0x024D0127u, 0x32D153FFu, 0x44BC2CF5AD770999ull},
    {"123456789", 0xCBF43926u, 0xE3069283u, 0x091E01DEu, 0x937BAD67u, 0x8CB841DB40E6AE83ull},
    {"Wikipedia", 0xADAAC02Eu, 0x2D0E3663u, 0x11E60398u, 0xF628BB38u, 0x8C1D59A179B5665Cull},
    {"The quick brown fox jumps over the lazy dog", 0x414FA339u, 0x22620404u, 0x5BDC0FDAu,
     0xE85EA4DEu, 0x0B242D361FDA71BCull},
};

/* The xxHash sanity buffer: byte i is the top byte of PRIME32^(2^i) mod 2^32. */
#define PRIME32 2654435761u
#define SANITY_LEN 2367
static unsigned char sanity[SANITY_LEN];

static void fill_sanity(void) {
    uint32_t gen = PRIME32;
    for (size_t i = 0; i < SANITY_LEN; i++) {
        sanity[i] = (unsigned char)(gen >> 24);
        gen *= gen;
    }
}

struct sanity_vector {
    size_t len;
    uint32_t xxh32_0, xxh32_p;
    uint64_t xxh64_0, xxh64_p;
};

static const struct sanity_vector sanity_vectors[] = {
    {0, 0x02CC5D05u, 0x36B78AE7u, 0xEF46DB3751D8E999ull, 0xAC75FDA2929B17EFull},
    {1, 0xB85CBEE5u, 0xD5845D64u, 0x4FCE394CC88952D8ull, 0x739840CB819FA723ull},
    {14, 0xE5AA0AB4u, 0x4481951Du, 0xCFFA8DB881BC3A3Dull, 0x5B9611585EFCC9CBull},
    {222, 0xC8070816u, 0xF3CFC852u, 0x9DD507880DEBB03Dull, 0xDC515172B8EE0600ull},
    {2367, 0xD63AC827u, 0x2FB2FF0Bu, 0x2E717C2BB15C0A8Aull, 0xF7B7F152E920C87Cull},
};

static uint64_t streamed(xsum_algo algo, const unsigned char *data, size_t len, size_t chunk) {
    xsum_ctx ctx;
    xsum_init(&ctx, algo);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        xsum_update(&ctx, data + off, n);
    }
    return xsum_final(&ctx);
}

static void test_strings(void) {
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        size_t n = strlen(v->input);
        char what[128];
        snprintf(what, sizeof what, "crc32(\"%s\")", v->input);
        check(what, xsum_crc32(0, v->input, n), v->crc32);
        snprintf(what, sizeof what, "crc32c(\"%s\")", v->input);
        check(what, xsum_crc32c(0, v->input, n), v->crc32c);
        snprintf(what, sizeof what, "adler32(\"%s\")", v->input);
        check(what, xsum_adler32(1, v->input, n), v->adler32);
        snprintf(what, sizeof what, "xxh32(\"%s\")", v->input);
        check(what, xsum_xxh32(v->input, n, 0), v->xxh32);
        snprintf(what, sizeof what, "xxh64(\"%s\")", v->input);
        check(what, xsum_xxh64(v->input, n, 0), v->xxh64);
    }
}

static void test_sanity_buffer(void) {
    fill_sanity();
    for (size_t i = 0; i < sizeof sanity_vectors / sizeof sanity_vectors[0]; i++) {
        const struct sanity_vector *v = &sanity_vectors[i];
        char what[64];
        snprintf(what, sizeof what, "xxh32(sanity, %zu, 0)", v->len);
        check(what, xsum_xxh32(sanity, v->len, 0), v->xxh32_0);
        snprintf(what, sizeof what, "xxh32(sanity, %zu, prime)", v->len);
        check(what, xsum_xxh32(sanity, v->len, PRIME32), v->xxh32_p);
        snprintf(what, sizeof what, "xxh64(sanity, %zu, 0)", v->len);
        check(what, xsum_xxh64(sanity, v->len, 0), v->xxh64_0);
        snprintf(what, sizeof what, "xxh64(sanity, %zu, prime)", v->len);
        check(what, xsum_xxh64(sanity, v->len, PRIME32), v->xxh64_p);
    }
    check("crc32(sanity)", xsum_crc32(0, sanity, SANITY_LEN), 0x84A73DFCu);
    check("crc32c(sanity)", xsum_crc32c(0, sanity, SANITY_LEN), 0x888052E7u);
    check("adler32(sanity)", xsum_adler32(1, sanity, SANITY_LEN), 0xA8BC0DABu);
}

/* A million 'a's: long enough for Adler-32's deferred modulo and every stripe loop. */
static void test_million(void) {
    size_t len = 1000000;
    unsigned char *buf = malloc(len);
    if (buf == NULL) {
        fprintf(stderr, "FAIL out of memory\n");
        failures++;
        return;
    }
    memset(buf, 'a', len);
    const uint64_t want[XSUM_ALGO_COUNT] = {0xDC25BFBCu, 0x436FE240u, 0x15D870F9u, 0xE1155920u,
                                            0xDC483AAA9B4FDC40ull};
    static const size_t chunks[] = {1000000, 1, 3, 7, 16, 31, 4096, 65537};
    for (int a = 0; a < XSUM_ALGO_COUNT; a++) {
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            char what[64];
            snprintf(what, sizeof what, "%s(a*1e6, chunk %zu)", xsum_algo_name((xsum_algo)a), chunks[c]);
            check(what, streamed((xsum_algo)a, buf, len, chunks[c]), want[a]);
        }
    }
    /* Unaligned start: the word loads must not assume alignment. */
    check("crc32 unaligned", xsum_crc32(0, buf + 1, len - 1), xsum_crc32(0, buf, len - 1));
    check("xxh64 unaligned", xsum_xxh64(buf + 3, len - 3, 0), xsum_xxh64(buf, len - 3, 0));
    free(buf);
}

static void test_names(void) {
    for (int a = 0; a < XSUM_ALGO_COUNT; a++) {
        check("algo name round trip", (uint64_t)xsum_algo_from_name(xsum_algo_name((xsum_algo)a)),
              (uint64_t)a);
    }
    check("unknown algo", (uint64_t)(xsum_algo_from_name("md5") < 0), 1);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : "all";
    if (!strcmp(only, "all") || !strcmp(only, "strings")) test_strings();
    if (!strcmp(only, "all") || !strcmp(only, "sanity")) test_sanity_buffer();
    if (!strcmp(only, "all") || !strcmp(only, "million")) test_million();
    if (!strcmp(only, "all") || !strcmp(only, "names")) test_names();
    printf("xsum %s on a %u-bit %s-endian target: %d failure(s)\n", only, xsum_target_pointer_bits(),
           xsum_target_big_endian() ? "big" : "little", failures);
    return failures == 0 ? 0 : 1;
}
