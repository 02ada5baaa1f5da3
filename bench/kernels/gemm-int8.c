/*
 * Issue #14 part 3: int8 GEMM micro-kernels for the CLIP-L text-encoder shapes,
 * a measurement spike (nothing here ships in the worker).
 *
 *   C[m][n] = sum_k (A[m][k] - azp) * B[k][n]      A u8 [M][K], B s8 [K][N], C i32 [M][N]
 *
 * which is what onnxruntime's MatMulInteger(A_u8, B_s8, azp) computes (the
 * shipped int8Linear lowering uses azp = 128). B is a constant (the weights): it
 * is packed once by pack_b() (as onnxruntime prepacks constant B), outside the
 * timed calls. A is converted inside every gemm_* call (it is timed).
 *
 * Forms (build.sh compiles this file twice):
 *   gemm_simd        wasm SIMD128 only. A widened to i16, B s8 packed in
 *                    [4 columns x 4 k] 16-byte blocks, widened with
 *                    i16x8.extend_{low,high}, i32x4.dot_i16x8_s; 4x4 tiles
 *                    (4 rows share every B load; onnxruntime's kernel is one row).
 *   gemm_relaxed     (RELAXED) i32x4.relaxed_dot_i8x16_i7x16_add_s, exact for any
 *                    u8 A: the i7 operand must stay in [0,127], so A is split into
 *                    A & 127 and A >> 7 (two dots per 16 products) and the zero
 *                    point is applied once through precomputed column sums.
 *   RELAXED_I16      gemm_relaxed* built on i16x8.relaxed_dot_i8x16_i7x16_s +
 *                    i32x4.extadd_pairwise_i16x8_s instead of the i32x4 dot-add.
 *   gemm_relaxed_u7  (RELAXED) one dot per 16 products; exact only when every
 *                    A < 128, i.e. activations quantized to 7 bits (a different
 *                    lowering than the shipped one: the headroom if accuracy allows).
 *
 * Buffers are static; JS writes A/B and reads C through the exported pointers.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define MAX_M 80 /* 77 rows padded to a multiple of the 4-row tile */
#define MAX_K 3072
#define MAX_N 3072
#define MAX_KN (3072 * 768)

static uint8_t A[MAX_M * MAX_K];
static int8_t B[MAX_KN];
static int32_t C[MAX_M * MAX_N];
static int8_t BP[MAX_KN];        /* packed B: [N/4][K/4][4 cols][4 k] */
static int32_t COLSUM[MAX_N];    /* sum_k B[k][n] */
static int16_t A16[MAX_M * MAX_K];
static uint8_t ALO[MAX_M * MAX_K];
static uint8_t AHI[MAX_M * MAX_K];

uint8_t *buf_a(void) { return A; }
int8_t *buf_b(void) { return B; }
int32_t *buf_c(void) { return C; }

void pack_b(int K, int N) {
  for (int g = 0; g < N / 4; g++)
    for (int kb = 0; kb < K / 4; kb++)
      for (int c = 0; c < 4; c++)
        for (int j = 0; j < 4; j++)
          BP[((g * (K / 4) + kb) * 16) + c * 4 + j] = B[(kb * 4 + j) * N + g * 4 + c];
  for (int n = 0; n < N; n++) {
    int32_t s = 0;
    for (int k = 0; k < K; k++) s += B[k * N + n];
    COLSUM[n] = s;
  }
}

static int padded(int M) { return (M + 3) & ~3; }

/* Adds adjacent lanes: [a0+a1, a2+a3, b0+b1, b2+b3]. */
static inline v128_t hadd_pairs(v128_t a, v128_t b) {
  v128_t even = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
  v128_t odd = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
  return wasm_i32x4_add(even, odd);
}

void gemm_simd(int M, int K, int N, int azp) {
  int MP = padded(M);
  for (int m = 0; m < MP; m++)
    for (int k = 0; k < K; k++) A16[m * K + k] = m < M ? (int16_t)A[m * K + k] - azp : 0;
  for (int g = 0; g < N / 4; g++) {
    const int8_t *bp = BP + g * (K / 4) * 16;
    for (int m = 0; m < MP; m += 4) {
      const int16_t *a0 = A16 + m * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
      v128_t l0 = wasm_i32x4_splat(0), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0,
             h3 = l0;
      for (int kb = 0; kb < K / 4; kb++) {
        v128_t b = wasm_v128_load(bp + kb * 16);
        v128_t blo = wasm_i16x8_extend_low_i8x16(b);  /* cols 0,1 x 4 k */
        v128_t bhi = wasm_i16x8_extend_high_i8x16(b); /* cols 2,3 x 4 k */
        v128_t x;
        x = wasm_v128_load64_splat(a0 + kb * 4);
        l0 = wasm_i32x4_add(l0, wasm_i32x4_dot_i16x8(blo, x));
        h0 = wasm_i32x4_add(h0, wasm_i32x4_dot_i16x8(bhi, x));
        x = wasm_v128_load64_splat(a1 + kb * 4);
        l1 = wasm_i32x4_add(l1, wasm_i32x4_dot_i16x8(blo, x));
        h1 = wasm_i32x4_add(h1, wasm_i32x4_dot_i16x8(bhi, x));
        x = wasm_v128_load64_splat(a2 + kb * 4);
        l2 = wasm_i32x4_add(l2, wasm_i32x4_dot_i16x8(blo, x));
        h2 = wasm_i32x4_add(h2, wasm_i32x4_dot_i16x8(bhi, x));
        x = wasm_v128_load64_splat(a3 + kb * 4);
        l3 = wasm_i32x4_add(l3, wasm_i32x4_dot_i16x8(blo, x));
        h3 = wasm_i32x4_add(h3, wasm_i32x4_dot_i16x8(bhi, x));
      }
      int32_t *c = C + m * N + g * 4;
      wasm_v128_store(c, hadd_pairs(l0, h0));
      wasm_v128_store(c + N, hadd_pairs(l1, h1));
      wasm_v128_store(c + 2 * N, hadd_pairs(l2, h2));
      wasm_v128_store(c + 3 * N, hadd_pairs(l3, h3));
    }
  }
}

#ifdef RELAXED
#ifdef RELAXED_I16
/* The same sums through i16x8.relaxed_dot_i8x16_i7x16_s + extadd (2 more ops):
 * for V8s whose i32x4 dot-add is wrong (Node 20's experimental one, see probe_dot). */
#define RDOT(b, a, acc)                                                                 \
  wasm_i32x4_add(acc, wasm_i32x4_extadd_pairwise_i16x8((v128_t)                         \
                                                       __builtin_wasm_relaxed_dot_i8x16_i7x16_s_i16x8( \
                                                           (__i8x16)(b), (__i8x16)(a))))
#else
#define RDOT(b, a, acc) \
  (v128_t) __builtin_wasm_relaxed_dot_i8x16_i7x16_add_s_i32x4((__i8x16)(b), (__i8x16)(a), \
                                                              (__i32x4)(acc))
#endif

/* One RDOT on fixed lanes: PROBE_C = RDOT(PROBE_A, PROBE_B, PROBE_C), checked from JS. */
static int8_t PROBE_A[16], PROBE_B[16];
static int32_t PROBE_C[4];
int8_t *probe_a(void) { return PROBE_A; }
int8_t *probe_b(void) { return PROBE_B; }
int32_t *probe_c(void) { return PROBE_C; }
void probe_dot(void) {
  wasm_v128_store(PROBE_C, RDOT(wasm_v128_load(PROBE_A), wasm_v128_load(PROBE_B),
                                wasm_v128_load(PROBE_C)));
}

/* 4 rows x 4 columns, two dots (low 7 bits, top bit) per 16 products. */
void gemm_relaxed(int M, int K, int N, int azp) {
  int MP = padded(M);
  for (int i = 0; i < M * K; i++) {
    ALO[i] = A[i] & 127;
    AHI[i] = A[i] >> 7;
  }
  for (int i = M * K; i < MP * K; i++) ALO[i] = AHI[i] = 0;
  for (int g = 0; g < N / 4; g++) {
    const int8_t *bp = BP + g * (K / 4) * 16;
    v128_t zc = wasm_i32x4_mul(wasm_v128_load(COLSUM + g * 4), wasm_i32x4_splat(azp));
    for (int m = 0; m < MP; m += 4) {
      const uint8_t *l0p = ALO + m * K, *h0p = AHI + m * K;
      v128_t l0 = wasm_i32x4_splat(0), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0,
             h3 = l0;
      for (int kb = 0; kb < K / 4; kb++) {
        v128_t b = wasm_v128_load(bp + kb * 16);
        int o = kb * 4;
        l0 = RDOT(b, wasm_v128_load32_splat(l0p + o), l0);
        h0 = RDOT(b, wasm_v128_load32_splat(h0p + o), h0);
        l1 = RDOT(b, wasm_v128_load32_splat(l0p + K + o), l1);
        h1 = RDOT(b, wasm_v128_load32_splat(h0p + K + o), h1);
        l2 = RDOT(b, wasm_v128_load32_splat(l0p + 2 * K + o), l2);
        h2 = RDOT(b, wasm_v128_load32_splat(h0p + 2 * K + o), h2);
        l3 = RDOT(b, wasm_v128_load32_splat(l0p + 3 * K + o), l3);
        h3 = RDOT(b, wasm_v128_load32_splat(h0p + 3 * K + o), h3);
      }
      int32_t *c = C + m * N + g * 4;
#define FIN(l, h) wasm_i32x4_sub(wasm_i32x4_add(l, wasm_i32x4_shl(h, 7)), zc)
      wasm_v128_store(c, FIN(l0, h0));
      wasm_v128_store(c + N, FIN(l1, h1));
      wasm_v128_store(c + 2 * N, FIN(l2, h2));
      wasm_v128_store(c + 3 * N, FIN(l3, h3));
#undef FIN
    }
  }
}

/* 4 rows x 8 columns, one dot per 16 products; requires every A < 128. */
void gemm_relaxed_u7(int M, int K, int N, int azp) {
  int MP = padded(M);
  for (int i = M * K; i < MP * K; i++) A[i] = 0;
  for (int g = 0; g < N / 4; g += 2) {
    const int8_t *bp0 = BP + g * (K / 4) * 16, *bp1 = bp0 + (K / 4) * 16;
    v128_t z0 = wasm_i32x4_mul(wasm_v128_load(COLSUM + g * 4), wasm_i32x4_splat(azp));
    v128_t z1 = wasm_i32x4_mul(wasm_v128_load(COLSUM + g * 4 + 4), wasm_i32x4_splat(azp));
    for (int m = 0; m < MP; m += 4) {
      const uint8_t *a0 = A + m * K;
      v128_t p0 = wasm_i32x4_splat(0), q0 = p0, p1 = p0, q1 = p0, p2 = p0, q2 = p0, p3 = p0,
             q3 = p0;
      for (int kb = 0; kb < K / 4; kb++) {
        v128_t b0 = wasm_v128_load(bp0 + kb * 16), b1 = wasm_v128_load(bp1 + kb * 16);
        int o = kb * 4;
        v128_t x;
        x = wasm_v128_load32_splat(a0 + o);
        p0 = RDOT(b0, x, p0);
        q0 = RDOT(b1, x, q0);
        x = wasm_v128_load32_splat(a0 + K + o);
        p1 = RDOT(b0, x, p1);
        q1 = RDOT(b1, x, q1);
        x = wasm_v128_load32_splat(a0 + 2 * K + o);
        p2 = RDOT(b0, x, p2);
        q2 = RDOT(b1, x, q2);
        x = wasm_v128_load32_splat(a0 + 3 * K + o);
        p3 = RDOT(b0, x, p3);
        q3 = RDOT(b1, x, q3);
      }
      int32_t *c = C + m * N + g * 4;
      wasm_v128_store(c, wasm_i32x4_sub(p0, z0));
      wasm_v128_store(c + 4, wasm_i32x4_sub(q0, z1));
      wasm_v128_store(c + N, wasm_i32x4_sub(p1, z0));
      wasm_v128_store(c + N + 4, wasm_i32x4_sub(q1, z1));
      wasm_v128_store(c + 2 * N, wasm_i32x4_sub(p2, z0));
      wasm_v128_store(c + 2 * N + 4, wasm_i32x4_sub(q2, z1));
      wasm_v128_store(c + 3 * N, wasm_i32x4_sub(p3, z0));
      wasm_v128_store(c + 3 * N + 4, wasm_i32x4_sub(q3, z1));
    }
  }
}
/* 6 rows x 8 columns (12 accumulators: fewer loads per dot, which counts where
 * every load pays an explicit bounds check, as in local workerd); A < 128. */
void gemm_relaxed_u7_6x8(int M, int K, int N, int azp) {
  int MP = (M + 5) / 6 * 6;
  for (int i = M * K; i < MP * K; i++) A[i] = 0;
  for (int g = 0; g < N / 4; g += 2) {
    const int8_t *bp0 = BP + g * (K / 4) * 16, *bp1 = bp0 + (K / 4) * 16;
    v128_t z0 = wasm_i32x4_mul(wasm_v128_load(COLSUM + g * 4), wasm_i32x4_splat(azp));
    v128_t z1 = wasm_i32x4_mul(wasm_v128_load(COLSUM + g * 4 + 4), wasm_i32x4_splat(azp));
    for (int m = 0; m < MP; m += 6) {
      const uint8_t *a0 = A + m * K;
      v128_t p0 = wasm_i32x4_splat(0), q0 = p0, p1 = p0, q1 = p0, p2 = p0, q2 = p0, p3 = p0,
             q3 = p0, p4 = p0, q4 = p0, p5 = p0, q5 = p0;
      for (int kb = 0; kb < K / 4; kb++) {
        v128_t b0 = wasm_v128_load(bp0 + kb * 16), b1 = wasm_v128_load(bp1 + kb * 16);
        const uint8_t *a = a0 + kb * 4;
        v128_t x;
        x = wasm_v128_load32_splat(a);
        p0 = RDOT(b0, x, p0);
        q0 = RDOT(b1, x, q0);
        x = wasm_v128_load32_splat(a + K);
        p1 = RDOT(b0, x, p1);
        q1 = RDOT(b1, x, q1);
        x = wasm_v128_load32_splat(a + 2 * K);
        p2 = RDOT(b0, x, p2);
        q2 = RDOT(b1, x, q2);
        x = wasm_v128_load32_splat(a + 3 * K);
        p3 = RDOT(b0, x, p3);
        q3 = RDOT(b1, x, q3);
        x = wasm_v128_load32_splat(a + 4 * K);
        p4 = RDOT(b0, x, p4);
        q4 = RDOT(b1, x, q4);
        x = wasm_v128_load32_splat(a + 5 * K);
        p5 = RDOT(b0, x, p5);
        q5 = RDOT(b1, x, q5);
      }
      int32_t *c = C + m * N + g * 4;
#define ST(r, p, q)                                         \
  wasm_v128_store(c + (r) * N, wasm_i32x4_sub(p, z0));      \
  wasm_v128_store(c + (r) * N + 4, wasm_i32x4_sub(q, z1));
      ST(0, p0, q0) ST(1, p1, q1) ST(2, p2, q2) ST(3, p3, q3) ST(4, p4, q4) ST(5, p5, q5)
#undef ST
    }
  }
}
#endif
