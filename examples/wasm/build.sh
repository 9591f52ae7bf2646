#!/usr/bin/env bash
# Builds every example WASM job kind from its C source, reproducibly:
#   examples/wasm/build.sh            -> examples/wasm/<name>/<name>.wasm (committed beside the source)
#   examples/wasm/build.sh --out DIR  -> DIR/<name>.wasm (the reproducibility test compares these bytes)
#   examples/wasm/build.sh --native   -> also DIR/<name>-native, gcc -O2 (the bench's native baseline)
# Needs Debian's clang, lld, wasi-libc and libclang-rt-dev-wasm32 (clang 14 made the committed bytes;
# another clang version gives other, equally valid, bytes). The committed .wasm files mean a clone
# runs the examples without any of this.
#
# Reproducible: no debug info, names stripped, source paths mapped to "." (-ffile-prefix-map), so
# the bytes depend on the sources and the toolchain only, not on where the clone lives.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT=""
NATIVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --native) NATIVE=1; shift ;;
    *) echo "usage: $0 [--out DIR] [--native]" >&2; exit 2 ;;
  esac
done

# name : memory cap in bytes (the module's declared maximum; the runtime cannot grow it further).
# ising: L <= 1024 is a 1 MiB lattice; nbody needs almost nothing. 64 KiB pages.
KINDS="ising:16777216 nbody:2097152"

# -O2 as the ABI asks; -ffp-contract=off so no compiler fuses a*b+c into one rounding (WebAssembly
# has no FMA today, but the native build on an FMA machine would): identical bytes everywhere.
CFLAGS=(-O2 -ffp-contract=off -Wall -Wextra -Werror -ffile-prefix-map="$HERE"=. -fdebug-prefix-map="$HERE"=.)

for entry in $KINDS; do
  name="${entry%%:*}"
  mem="${entry##*:}"
  src="$HERE/$name/$name.c"
  dest="${OUT:-$HERE/$name}"
  mkdir -p "$dest"
  clang --target=wasm32-wasi "${CFLAGS[@]}" -o "$dest/$name.wasm" "$src" \
    -Wl,--max-memory="$mem" -Wl,--initial-memory=1048576 -Wl,-z,stack-size=65536 -Wl,--strip-all
  echo "$dest/$name.wasm ($(wc -c <"$dest/$name.wasm") bytes, max memory $mem)"
  if [ "$NATIVE" = 1 ]; then
    gcc "${CFLAGS[@]}" -o "$dest/$name-native" "$src" -lm
    echo "$dest/$name-native"
  fi
done
