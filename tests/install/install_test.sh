#!/bin/sh
# install_test.sh: `cmake --install` into a temporary prefix, then the C example (examples/c) built
# against the installed files with pkg-config, shared and static, and run; the installed valori
# command verifies the store the example wrote; libvalori.so must export only the valori_* names
# that valori.h and valori_native.h declare.
#   sh install_test.sh CMAKE BUILD_DIR SOURCE_DIR WORK_DIR CC NM READELF PKG_CONFIG
set -u
cmake=$1 build=$2 src=$3 work=$4 cc=$5 nm=$6 readelf=$7 pkgconfig=$8
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; exit 1; }
for tool in "$cc" "$nm" "$readelf" "$pkgconfig"; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (scripts/setup.sh installs pkg-config and binutils)"
done
rm -rf "$work" && mkdir -p "$work" || exit 1
prefix=$work/prefix

echo "== cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; die "cmake --install failed"; }
pc=$(find "$prefix" -name valori.pc)
[ -n "$pc" ] && [ "$(echo "$pc" | wc -l)" = 1 ] || die "expected one valori.pc under $prefix, found: '$pc'"
libdir=$(dirname "$(dirname "$pc")")
for f in "$prefix/bin/valori" "$prefix/include/valori.h" "$prefix/include/valori_native.h" \
         "$libdir/libvalori.a" "$libdir/libvalori.so" "$libdir/libvalori.so.0"; do
  [ -e "$f" ] || fail "not installed: $f"
done
[ -x "$prefix/bin/valori" ] || fail "$prefix/bin/valori is not executable"

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
unset PKG_CONFIG_SYSROOT_DIR 2>/dev/null || true
want=$(sed -n 's/^#define VALORI_VERSION_STRING "\(.*\)"/\1/p' "$src/core/include/valori.h")
got=$("$pkgconfig" --modversion valori) || die "pkg-config does not find valori in $PKG_CONFIG_PATH"
[ "$got" = "$want" ] || fail "pkg-config --modversion valori: '$got', valori.h says '$want'"
cflags=$("$pkgconfig" --cflags valori) && libs=$("$pkgconfig" --libs valori) || die "pkg-config --cflags --libs valori failed"
echo "cflags: $cflags"
echo "libs:   $libs"
! "$pkgconfig" --exists valori-no-such-package || fail "pkg-config found a package that does not exist"

echo "== the example, shared"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/c/example.c" $cflags $libs -o "$work/example-shared" ||
  die "building examples/c/example.c against the shared library failed"
"$readelf" -d "$work/example-shared" | grep -q 'NEEDED.*libvalori\.so\.0' || fail "example-shared does not need libvalori.so.0"
LD_LIBRARY_PATH="$libdir" "$work/example-shared" "$work/store-shared" >"$work/shared.out" 2>&1 || { cat "$work/shared.out"; fail "example-shared failed"; }
cat "$work/shared.out"
grep -q "same state root in memory, on disk and after the reopen" "$work/shared.out" || fail "example-shared did not report equal roots"

echo "== the example, static"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/c/example.c" $cflags -Wl,-Bstatic $libs -Wl,-Bdynamic -o "$work/example-static" ||
  die "building examples/c/example.c against the static library failed"
! "$readelf" -d "$work/example-static" | grep -q 'libvalori' || fail "example-static still needs the shared library"
"$work/example-static" "$work/store-static" >"$work/static.out" 2>&1 || { cat "$work/static.out"; fail "example-static failed"; }
grep -q "same state root in memory, on disk and after the reopen" "$work/static.out" || fail "example-static did not report equal roots"
r1=$(sed -n 's/^disk: state root //p' "$work/shared.out") r2=$(sed -n 's/^disk: state root //p' "$work/static.out")
[ -n "$r1" ] && [ "$r1" = "$r2" ] || fail "the shared and static builds give different roots: '$r1' '$r2'"

echo "== bad input: an existing store, a path that is a file"
"$work/example-static" "$work/store-static" >"$work/again.out" 2>&1 && fail "the example reused an existing store"
grep -q "already holds a store" "$work/again.out" || { cat "$work/again.out"; fail "no clear message for an existing store"; }
: >"$work/a-file"
"$work/example-static" "$work/a-file" >"$work/file.out" 2>&1 && fail "the example accepted a file as its store directory"
grep -q "example: $work/a-file: " "$work/file.out" || { cat "$work/file.out"; fail "no clear message for a file as the store directory"; }

echo "== the installed valori command verifies the example's store"
"$prefix/bin/valori" verify "$work/store-shared" >"$work/verify.out" 2>&1 || { cat "$work/verify.out"; fail "valori verify failed"; }
grep -q "root: *$r1" "$work/verify.out" || { cat "$work/verify.out"; fail "valori verify reports another root than the example"; }

echo "== exports of libvalori.so"
"$nm" -D --defined-only "$libdir/libvalori.so" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u >"$work/exports.txt"
n=$(wc -l <"$work/exports.txt")
echo "$n exported symbols"
[ "$n" -ge 20 ] || fail "only $n exported symbols"
for s in valori_open valori_close valori_insert valori_search valori_state_root valori_posix_vfs_open valori_strerror; do
  grep -qx "$s" "$work/exports.txt" || fail "$s is not exported"
done
while read -r s; do
  case $s in valori_*) ;; *) fail "exported symbol '$s' is not a valori_* name" ; continue ;; esac
  grep -qw "$s" "$prefix/include/valori.h" "$prefix/include/valori_native.h" || fail "exported '$s' is declared in neither public header"
done <"$work/exports.txt"
"$nm" "$libdir/libvalori.a" 2>/dev/null | grep -q ' T valori_posix_vfs_open$' || fail "libvalori.a lacks the POSIX VFS"

[ "$fails" = 0 ] && echo "install test: ok"
[ "$fails" = 0 ]
