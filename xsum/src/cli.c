/* xsum: print checksums of files or standard input, in the style of sha256sum. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "xsum.h"

static void usage(FILE *out) {
    fputs("usage: xsum [-a ALGORITHM] [FILE...]\n"
          "       xsum --list | --info | --version\n"
          "Prints one checksum per FILE (standard input when none or '-').\n"
          "Algorithms: crc32 (default), crc32c, adler32, xxh32, xxh64.\n",
          out);
}

static int sum_stream(FILE *in, xsum_algo algo, uint64_t *out) {
    static unsigned char buf[65536];
    xsum_ctx ctx;
    size_t n;
    xsum_init(&ctx, algo);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        xsum_update(&ctx, buf, n);
    }
    if (ferror(in)) {
        return -1;
    }
    *out = xsum_final(&ctx);
    return 0;
}

static int sum_one(const char *path, xsum_algo algo) {
    int is_stdin = strcmp(path, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    uint64_t value = 0;
    if (in == NULL) {
        fprintf(stderr, "xsum: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int rc = sum_stream(in, algo, &value);
    int err = errno;
    if (!is_stdin) {
        fclose(in);
    }
    if (rc != 0) {
        fprintf(stderr, "xsum: %s: %s\n", path, strerror(err));
        return 1;
    }
    if (xsum_algo_bits(algo) == 64) {
        printf("%016" PRIx64 "  %s\n", value, path);
    } else {
        printf("%08" PRIx32 "  %s\n", (uint32_t)value, path);
    }
    return 0;
}

int main(int argc, char **argv) {
    xsum_algo algo = XSUM_CRC32;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        } else if (strcmp(arg, "-a") == 0 || strcmp(arg, "--algorithm") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "xsum: %s needs an algorithm name\n", arg);
                return 2;
            }
            int found = xsum_algo_from_name(argv[++i]);
            if (found < 0) {
                fprintf(stderr, "xsum: unknown algorithm '%s' (try --list)\n", argv[i]);
                return 2;
            }
            algo = (xsum_algo)found;
        } else if (strcmp(arg, "--list") == 0) {
            for (int a = 0; a < XSUM_ALGO_COUNT; a++) {
                printf("%s\n", xsum_algo_name((xsum_algo)a));
            }
            return 0;
        } else if (strcmp(arg, "--info") == 0) {
            printf("xsum %s endian=%s pointer_bits=%u\n", XSUM_VERSION,
                   xsum_target_big_endian() ? "big" : "little", xsum_target_pointer_bits());
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf("xsum %s\n", XSUM_VERSION);
            return 0;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "xsum: unknown option '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        return sum_one("-", algo);
    }
    int status = 0;
    for (; i < argc; i++) {
        status |= sum_one(argv[i], algo);
    }
    return status;
}
