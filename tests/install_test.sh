#!/usr/bin/env bash
# tests/install_test.sh: `make install` works for a user of the C library (run by make test).
#  1. installs into a staging root (DESTDIR) and checks the layout: headers, libmtb.a,
#     libmtb.so -> libmtb.so.0 with that soname, mtb.pc, bin/mtb;
#  2. installs under a temporary PREFIX, builds the README's C example (the first ```c block
#     of README.md) against it with `pkg-config --cflags --libs mtb`, and runs it;
#  3. checks that the installed bin/mtb runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# The regular build (build/, bin/), whatever the calling make was given (make sanitize
# passes B=build-san and sanitizer flags, which an installed library must not carry).
unset MAKEFLAGS MFLAGS MAKELEVEL
MAKE="${MAKE:-make} B=build BIN=bin"
tmp=$(mktemp -d /tmp/mtb-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "install_test: FAILED: $*" >&2; exit 1; }

$MAKE -s install PREFIX=/usr/local DESTDIR="$tmp/stage" > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail "make install DESTDIR"; }
root=$tmp/stage/usr/local
for f in include/mtb/balancer.h include/mtb/h5.h include/mtb/dataset.h lib/libmtb.a \
         lib/libmtb.so.0 lib/pkgconfig/mtb.pc bin/mtb; do
    [ -e "$root/$f" ] || fail "DESTDIR install lacks $f"
done
[ "$(readlink "$root/lib/libmtb.so")" = libmtb.so.0 ] || fail "lib/libmtb.so is not a link to libmtb.so.0"
soname=$(readelf -d "$root/lib/libmtb.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libmtb.so.0 ] || fail "soname is '$soname', expected libmtb.so.0"
grep -qx 'prefix=/usr/local' "$root/lib/pkgconfig/mtb.pc" || fail "mtb.pc does not say prefix=/usr/local"

prefix=$tmp/prefix
$MAKE -s install PREFIX="$prefix" > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail "make install PREFIX"; }
awk '/^```c$/ {on = 1; next} on && /^```$/ {exit} on' README.md > "$tmp/example.c"
[ -s "$tmp/example.c" ] || fail "no \`\`\`c block in README.md"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs mtb) || fail "pkg-config --cflags --libs mtb"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$tmp/example" "$tmp/example.c" $flags \
    || fail "the README's C example does not build against the installed copy ($flags)"
# ldd's output is read whole: `ldd | grep -q` under pipefail fails whenever grep exits on
# its match before ldd has written everything (SIGPIPE), which made this check flaky.
libs=$(ldd "$tmp/example" 2>/dev/null || true)
case $libs in *"libmtb.so.0 => $prefix/lib"*) ;; *)
    libs=$(LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/example" 2>/dev/null || true) ;;
esac
case $libs in *"libmtb.so.0 => $prefix/lib"*) ;; *)
    fail "the example does not link the installed libmtb.so.0: $libs" ;;
esac
LD_LIBRARY_PATH="$prefix/lib" "$tmp/example" > "$tmp/out" || fail "the README's C example failed: $(cat "$tmp/out")"
"$prefix/bin/mtb" methods > /dev/null || fail "the installed mtb does not run"
echo "install_test: ok (README example: $(head -n 1 "$tmp/out"))"
