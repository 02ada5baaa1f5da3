#!/bin/sh
# Builds the issue #14 int8 GEMM spike (bench/kernels/gemm-int8.c) into
# bench/.out/kernels/ (ignored): gemm-simd.wasm (SIMD128 only),
# gemm-relaxed.wasm (SIMD128 + relaxed SIMD, i32x4 dot-add) and
# gemm-relaxed-i16.wasm (the i16x8 relaxed dot + extadd). Needs Debian's clang-16 + lld-16
# (apt-get install -y clang-16 lld-16: clang 14 has no relaxed dot builtin).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/../.out/kernels"
CLANG=${CLANG:-clang-16}
mkdir -p "$OUT"
FLAGS="--target=wasm32 -O3 -mbulk-memory -nostdlib -fuse-ld=lld -Wl,--no-entry -Wl,--export-dynamic"
FLAGS="$FLAGS -Wl,--initial-memory=33554432 -Wl,--max-memory=33554432"
EXPORTS="-Wl,--export=buf_a -Wl,--export=buf_b -Wl,--export=buf_c -Wl,--export=pack_b -Wl,--export=gemm_simd"
# shellcheck disable=SC2086
"$CLANG" $FLAGS -msimd128 $EXPORTS -o "$OUT/gemm-simd.wasm" "$HERE/gemm-int8.c"
# shellcheck disable=SC2086
"$CLANG" $FLAGS -msimd128 -mrelaxed-simd -DRELAXED $EXPORTS \
  -Wl,--export=gemm_relaxed -Wl,--export=gemm_relaxed_u7 -Wl,--export=gemm_relaxed_u7_6x8 \
  -Wl,--export=probe_a -Wl,--export=probe_b -Wl,--export=probe_c -Wl,--export=probe_dot \
  -o "$OUT/gemm-relaxed.wasm" "$HERE/gemm-int8.c"
# shellcheck disable=SC2086
"$CLANG" $FLAGS -msimd128 -mrelaxed-simd -DRELAXED -DRELAXED_I16 $EXPORTS \
  -Wl,--export=gemm_relaxed -Wl,--export=gemm_relaxed_u7 -Wl,--export=gemm_relaxed_u7_6x8 \
  -Wl,--export=probe_a -Wl,--export=probe_b -Wl,--export=probe_c -Wl,--export=probe_dot \
  -o "$OUT/gemm-relaxed-i16.wasm" "$HERE/gemm-int8.c"
ls -l "$OUT"
