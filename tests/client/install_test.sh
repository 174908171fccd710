#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the `lib` and `dev` components (libtokend-client1 and
# libtokend-client-dev) into a scratch root and builds programs
# against it the way users do: C through pkg-config (shared, then the static
# archive alone with libstdc++), and the C++ wrapper under C++17.
# usage: install_test.sh BUILD_DIR CC CXX SANITIZED(ON|OFF)
# Exit 77 (skipped) in sanitizer builds, whose library needs the sanitizer
# runtime linked first, and when pkg-config is missing.
set -eu
build=$1 cc=$2 cxx=$3 sanitized=$4
if [ "$sanitized" = ON ]; then echo "skipped: sanitizer build"; exit 77; fi
command -v pkg-config >/dev/null || { echo "skipped: no pkg-config"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR="$tmp/root" cmake --install "$build" --component lib >/dev/null
DESTDIR="$tmp/root" cmake --install "$build" --component dev >/dev/null

pc=$(find "$tmp/root" -name tokend-client.pc)
[ -n "$pc" ] || { echo "FAIL: tokend-client.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
libdir=$(dirname "$(dirname "$pc")")
for f in "$libdir/libtokend-client.a" "$libdir/libtokend-client.so" "$libdir/libtokend-client.so.1"; do
  [ -e "$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
find "$tmp/root" -path '*/include/tokend/client.h' | grep -q . || { echo "FAIL: no client.h"; exit 1; }
find "$tmp/root" -path '*/include/tokend/client.hpp' | grep -q . || { echo "FAIL: no client.hpp"; exit 1; }

cat > "$tmp/prog.c" <<'C'
#include <stdio.h>
#include <tokend/client.h>
int main(int argc, char** argv) {
  tokend_client* c = NULL;
  int rc = tokend_connect(argc > 1 ? argv[1] : NULL, 100, &c);
  printf("%s\n", tokend_strerror(rc));
  tokend_close(c);
  return rc == TOKEND_ERR_NO_DAEMON ? 0 : 1;
}
C
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Werror -o "$tmp/prog_shared" "$tmp/prog.c" $(pkg-config --cflags --libs tokend-client)
LD_LIBRARY_PATH="$libdir" "$tmp/prog_shared" "$tmp/absent.sock"
"$cc" -std=c99 -Wall -Werror -o "$tmp/prog_static" "$tmp/prog.c" $(pkg-config --cflags tokend-client) \
  "$libdir/libtokend-client.a" -lstdc++
"$tmp/prog_static" "$tmp/absent.sock"

cat > "$tmp/prog.cc" <<'CXX'
#include <iostream>
#include <tokend/client.hpp>
int main(int argc, char** argv) {
  absl::StatusOr<tokend::Client> c = tokend::Client::Connect(argc > 1 ? argv[1] : "");
  std::cout << c.status() << "\n";
  return c.status().code() == absl::StatusCode::kUnavailable ? 0 : 1;
}
CXX
if pkg-config --exists absl_statusor; then
  "$cxx" -std=c++17 -Wall -Werror -o "$tmp/prog_cxx" "$tmp/prog.cc" \
    $(pkg-config --cflags --libs tokend-client absl_statusor)
  LD_LIBRARY_PATH="$libdir" "$tmp/prog_cxx" "$tmp/absent.sock"
fi
echo "PASS"
