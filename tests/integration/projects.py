"""Small projects the integration tests write and build: write() puts one in a dir; MESON is a
Meson project (a library, an executable, three tests, one of which checks that the binary runs
with the byte order Meson was told it is built for), used by test_build_systems.py and
test_native_arm64.py."""

from __future__ import annotations

from pathlib import Path


def write(root: Path, files: dict[str, str]) -> Path:
    """The files (path under root -> text) written under root; root."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


MESON = {
    "meson.build": """\
project('byteorder', 'c', version: '1.0', default_options: ['warning_level=2'])
order = library('order', 'order.c')
check = executable('order-check', 'check.c', link_with: order)
# Meson knows the host's byte order (from the cross file, or the machine it runs on): the test
# compares it with the binary's.
test('byte order', check, args: ['order', host_machine.endian()])
test('compiled order', check, args: ['compiled'])
test('sum', check, args: ['sum'])
""",
    "order.h": "const char *order_at_run_time(void);\nint order_sum(int a, int b);\n",
    "order.c": """\
#include <stdint.h>
#include <string.h>
#include "order.h"
const char *order_at_run_time(void) {
    uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first ? "little" : "big";
}
int order_sum(int a, int b) { return a + b; }
""",
    "check.c": """\
#include <stdio.h>
#include <string.h>
#include "order.h"
int main(int argc, char **argv) {
    const char *now = order_at_run_time();
    if (argc == 3 && strcmp(argv[1], "order") == 0) {
        printf("runs as %s-endian, built for %s-endian\\n", now, argv[2]);
        return strcmp(now, argv[2]) != 0;
    }
    if (argc == 2 && strcmp(argv[1], "compiled") == 0) {
        const char *compiled = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? "big" : "little";
        printf("compiled %s-endian, runs %s-endian\\n", compiled, now);
        return strcmp(now, compiled) != 0;
    }
    if (argc == 2 && strcmp(argv[1], "sum") == 0)
        return order_sum(40, 2) != 42;
    return 2;
}
""",
}
