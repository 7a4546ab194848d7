#!/usr/bin/env bash
# Put a cross image's target loader and runtime libraries where target binaries look for them, so
# they run through binfmt_misc with no environment at all (no QEMU_LD_PREFIX, `env -i ./prog`):
# the loader at the path binaries name (their PT_INTERP: /lib/ld64.so.1 on s390x, ...) and every
# shared library of the cross libc and GCC runtime (/usr/<triplet>/lib: libc, libm, libstdc++,
# libgcc_s, ...) in Debian's multiarch dir /usr/lib/<multiarch>, which that loader searches.
# They are links to the very files the cross compiler linked against. Nothing already there is
# replaced, and Debian's own packages (apt-get install libc6:<debian>) replace the links.
# Usage: target_runtime.sh TRIPLET MULTIARCH
set -euo pipefail
[ "$#" -eq 2 ] || {
    echo "usage: target_runtime.sh TRIPLET MULTIARCH" >&2
    exit 2
}
triplet=$1 multiarch=$2
root=/usr/$triplet

# The multiarch dir must be the one the cross compiler itself uses.
got=$("$triplet-gcc" -print-multiarch)
if [ "$got" != "$multiarch" ]; then
    echo "target_runtime.sh: $triplet-gcc -print-multiarch says '$got', not '$multiarch'" >&2
    exit 1
fi

# link TARGET LINK: make LINK point at TARGET unless something is there already.
link() {
    if [ -e "$2" ] || [ -L "$2" ]; then
        echo "target_runtime.sh: kept $2 ($(readlink -f "$2"))"
    else
        mkdir -p "$(dirname "$2")"
        ln -s "$1" "$2"
    fi
}

interp=$("$triplet-readelf" -l "$root/lib/libc.so.6" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
[ -n "$interp" ] || {
    echo "target_runtime.sh: $root/lib/libc.so.6 names no program interpreter" >&2
    exit 1
}
loader=$(find "$root"/lib* -maxdepth 1 -name "$(basename "$interp")" | head -n 1)
[ -n "$loader" ] || {
    echo "target_runtime.sh: no $(basename "$interp") in $root/lib*" >&2
    exit 1
}
link "$loader" "$interp"
count=0
for lib in "$root"/lib/*.so.[0-9]*; do
    [ -e "$lib" ] || continue
    link "$lib" "/usr/lib/$multiarch/$(basename "$lib")"
    count=$((count + 1))
done
echo "target_runtime.sh: $interp -> $loader; $count libraries linked into /usr/lib/$multiarch"
