/* xxHash32 and xxHash64, following the published xxHash specification. */
#include "bytes.h"
#include "xsum.h"

#define P32_1 0x9E3779B1u
#define P32_2 0x85EBCA77u
#define P32_3 0xC2B2AE3Du
#define P32_4 0x27D4EB2Fu
#define P32_5 0x165667B1u

#define P64_1 0x9E3779B185EBCA87ull
#define P64_2 0xC2B2AE3D27D4EB4Full
#define P64_3 0x165667B19E3779F9ull
#define P64_4 0x85EBCA77C2B2AE63ull
#define P64_5 0x27D4EB2F165667C5ull

static uint32_t round32(uint32_t acc, uint32_t lane) {
    acc += lane * P32_2;
    acc = xsum_rotl32(acc, 13);
    return acc * P32_1;
}

static uint32_t tail32(uint32_t h, const uint8_t *p, size_t len) {
    while (len >= 4) {
        h += xsum_load_le32(p) * P32_3;
        h = xsum_rotl32(h, 17) * P32_4;
        p += 4;
        len -= 4;
    }
    while (len--) {
        h += (*p++) * P32_5;
        h = xsum_rotl32(h, 11) * P32_1;
    }
    h ^= h >> 15;
    h *= P32_2;
    h ^= h >> 13;
    h *= P32_3;
    h ^= h >> 16;
    return h;
}

void xsum_xxh32_init(xsum_xxh32_state *st, uint32_t seed) {
    memset(st, 0, sizeof *st);
    st->seed = seed;
    st->acc[0] = seed + P32_1 + P32_2;
    st->acc[1] = seed + P32_2;
    st->acc[2] = seed;
    st->acc[3] = seed - P32_1;
}

static void stripe32(uint32_t acc[4], const uint8_t *p) {
    for (int i = 0; i < 4; i++) {
        acc[i] = round32(acc[i], xsum_load_le32(p + 4 * i));
    }
}

void xsum_xxh32_update(xsum_xxh32_state *st, const void *data, size_t len) {
    const uint8_t *p = data;
    st->total_len += len;
    if (st->buf_len + len < 16) {
        memcpy(st->buf + st->buf_len, p, len);
        st->buf_len += (uint32_t)len;
        return;
    }
    if (st->buf_len) {
        size_t fill = 16 - st->buf_len;
        memcpy(st->buf + st->buf_len, p, fill);
        stripe32(st->acc, st->buf);
        p += fill;
        len -= fill;
        st->buf_len = 0;
    }
    while (len >= 16) {
        stripe32(st->acc, p);
        p += 16;
        len -= 16;
    }
    memcpy(st->buf, p, len);
    st->buf_len = (uint32_t)len;
}

uint32_t xsum_xxh32_digest(const xsum_xxh32_state *st) {
    uint32_t h;
    if (st->total_len >= 16) {
        h = xsum_rotl32(st->acc[0], 1) + xsum_rotl32(st->acc[1], 7) + xsum_rotl32(st->acc[2], 12) +
            xsum_rotl32(st->acc[3], 18);
    } else {
        h = st->seed + P32_5;
    }
    h += (uint32_t)st->total_len;
    return tail32(h, st->buf, st->buf_len);
}

uint32_t xsum_xxh32(const void *data, size_t len, uint32_t seed) {
    xsum_xxh32_state st;
    xsum_xxh32_init(&st, seed);
    xsum_xxh32_update(&st, data, len);
    return xsum_xxh32_digest(&st);
}

static uint64_t round64(uint64_t acc, uint64_t lane) {
    acc += lane * P64_2;
    acc = xsum_rotl64(acc, 31);
    return acc * P64_1;
}

static uint64_t merge64(uint64_t h, uint64_t acc) {
    h ^= round64(0, acc);
    return h * P64_1 + P64_4;
}

static void stripe64(uint64_t acc[4], const uint8_t *p) {
    for (int i = 0; i < 4; i++) {
        acc[i] = round64(acc[i], xsum_load_le64(p + 8 * i));
    }
}

void xsum_xxh64_init(xsum_xxh64_state *st, uint64_t seed) {
    memset(st, 0, sizeof *st);
    st->seed = seed;
    st->acc[0] = seed + P64_1 + P64_2;
    st->acc[1] = seed + P64_2;
    st->acc[2] = seed;
    st->acc[3] = seed - P64_1;
}

void xsum_xxh64_update(xsum_xxh64_state *st, const void *data, size_t len) {
    const uint8_t *p = data;
    st->total_len += len;
    if (st->buf_len + len < 32) {
        memcpy(st->buf + st->buf_len, p, len);
        st->buf_len += (uint32_t)len;
        return;
    }
    if (st->buf_len) {
        size_t fill = 32 - st->buf_len;
        memcpy(st->buf + st->buf_len, p, fill);
        stripe64(st->acc, st->buf);
        p += fill;
        len -= fill;
        st->buf_len = 0;
    }
    while (len >= 32) {
        stripe64(st->acc, p);
        p += 32;
        len -= 32;
    }
    memcpy(st->buf, p, len);
    st->buf_len = (uint32_t)len;
}

uint64_t xsum_xxh64_digest(const xsum_xxh64_state *st) {
    uint64_t h;
    if (st->total_len >= 32) {
        h = xsum_rotl64(st->acc[0], 1) + xsum_rotl64(st->acc[1], 7) + xsum_rotl64(st->acc[2], 12) +
            xsum_rotl64(st->acc[3], 18);
        for (int i = 0; i < 4; i++) {
            h = merge64(h, st->acc[i]);
        }
    } else {
        h = st->seed + P64_5;
    }
    h += st->total_len;

    const uint8_t *p = st->buf;
    size_t len = st->buf_len;
    while (len >= 8) {
        h ^= round64(0, xsum_load_le64(p));
        h = xsum_rotl64(h, 27) * P64_1 + P64_4;
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        h ^= (uint64_t)xsum_load_le32(p) * P64_1;
        h = xsum_rotl64(h, 23) * P64_2 + P64_3;
        p += 4;
        len -= 4;
    }
    while (len--) {
        h ^= (*p++) * P64_5;
        h = xsum_rotl64(h, 11) * P64_1;
    }
    h ^= h >> 33;
    h *= P64_2;
    h ^= h >> 29;
    h *= P64_3;
    h ^= h >> 32;
    return h;
}

uint64_t xsum_xxh64(const void *data, size_t len, uint64_t seed) {
    xsum_xxh64_state st;
    xsum_xxh64_init(&st, seed);
    xsum_xxh64_update(&st, data, len);
    return xsum_xxh64_digest(&st);
}
