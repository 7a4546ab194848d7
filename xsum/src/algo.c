/* The by-name interface over every algorithm, and what the library was built for. */
#include <string.h>

#include "bytes.h"
#include "xsum.h"

static const char *const names[XSUM_ALGO_COUNT] = {"crc32", "crc32c", "adler32", "xxh32", "xxh64"};

int xsum_algo_from_name(const char *name) {
    for (int i = 0; i < XSUM_ALGO_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *xsum_algo_name(xsum_algo algo) {
    return (unsigned)algo < XSUM_ALGO_COUNT ? names[algo] : "unknown";
}

unsigned xsum_algo_bits(xsum_algo algo) {
    return algo == XSUM_XXH64 ? 64u : 32u;
}

void xsum_init(xsum_ctx *ctx, xsum_algo algo) {
    memset(ctx, 0, sizeof *ctx);
    ctx->algo = algo;
    switch (algo) {
    case XSUM_ADLER32:
        ctx->u.u32 = 1;
        break;
    case XSUM_XXH32:
        xsum_xxh32_init(&ctx->u.xxh32, 0);
        break;
    case XSUM_XXH64:
        xsum_xxh64_init(&ctx->u.xxh64, 0);
        break;
    case XSUM_CRC32:
    case XSUM_CRC32C:
    case XSUM_ALGO_COUNT:
        break;
    }
}

void xsum_update(xsum_ctx *ctx, const void *data, size_t len) {
    switch (ctx->algo) {
    case XSUM_CRC32:
        ctx->u.u32 = xsum_crc32(ctx->u.u32, data, len);
        break;
    case XSUM_CRC32C:
        ctx->u.u32 = xsum_crc32c(ctx->u.u32, data, len);
        break;
    case XSUM_ADLER32:
        ctx->u.u32 = xsum_adler32(ctx->u.u32, data, len);
        break;
    case XSUM_XXH32:
        xsum_xxh32_update(&ctx->u.xxh32, data, len);
        break;
    case XSUM_XXH64:
        xsum_xxh64_update(&ctx->u.xxh64, data, len);
        break;
    case XSUM_ALGO_COUNT:
        break;
    }
}

uint64_t xsum_final(const xsum_ctx *ctx) {
    switch (ctx->algo) {
    case XSUM_XXH32:
        return xsum_xxh32_digest(&ctx->u.xxh32);
    case XSUM_XXH64:
        return xsum_xxh64_digest(&ctx->u.xxh64);
    case XSUM_CRC32:
    case XSUM_CRC32C:
    case XSUM_ADLER32:
        return ctx->u.u32;
    case XSUM_ALGO_COUNT:
        break;
    }
    return 0;
}

int xsum_target_big_endian(void) {
    return XSUM_BIG_ENDIAN;
}

unsigned xsum_target_pointer_bits(void) {
    return (unsigned)(sizeof(void *) * 8u);
}
