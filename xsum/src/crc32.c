/* CRC-32 and CRC-32C, reflected, slice-by-4 over little-endian words. */
#include <threads.h>

#include "bytes.h"
#include "xsum.h"

typedef uint32_t crc_tables[4][256];

static crc_tables crc32_tables;
static crc_tables crc32c_tables;
static once_flag tables_once = ONCE_FLAG_INIT;

static void fill_tables(crc_tables t, uint32_t poly) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? (poly ^ (c >> 1)) : (c >> 1);
        }
        t[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        for (int k = 1; k < 4; k++) {
            t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFFu];
        }
    }
}

static void init_tables(void) {
    fill_tables(crc32_tables, 0xEDB88320u);
    fill_tables(crc32c_tables, 0x82F63B78u);
}

static uint32_t crc_update(const crc_tables t, uint32_t crc, const void *data, size_t len) {
    const uint8_t *p = data;
    crc = ~crc;
    while (len >= 4) {
        crc ^= xsum_load_le32(p);
        crc = t[3][crc & 0xFFu] ^ t[2][(crc >> 8) & 0xFFu] ^ t[1][(crc >> 16) & 0xFFu] ^ t[0][crc >> 24];
        p += 4;
        len -= 4;
    }
    while (len--) {
        crc = t[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t xsum_crc32(uint32_t crc, const void *data, size_t len) {
    call_once(&tables_once, init_tables);
    return crc_update((const uint32_t(*)[256])crc32_tables, crc, data, len);
}

uint32_t xsum_crc32c(uint32_t crc, const void *data, size_t len) {
    call_once(&tables_once, init_tables);
    return crc_update((const uint32_t(*)[256])crc32c_tables, crc, data, len);
}
