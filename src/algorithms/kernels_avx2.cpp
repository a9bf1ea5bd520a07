// AVX2 + FMA kernels, compiled with function-level target attributes. Each function performs
// exactly the float operations of the scalar definition in kernels.h, in the same order: a
// 16-lane sum is two 256-bit registers, a 64-lane sum eight.
#include <immintrin.h>

#include <cmath>

#include "algorithms/kernels.h"

#define RECO_AVX2 __attribute__((target("avx2,fma")))

namespace reco::algorithms::kernels::detail {
namespace {

constexpr uint64_t kPrefetchAhead = 8;  // see kernels_avx512.cpp

// 8 lanes -> 1: j + 4, j + 2, j + 1.
RECO_AVX2 inline float hsum8(__m256 v) {
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

// 64 lanes in eight registers (register g holds lanes 8g..8g+7): j + 32, j + 16, j + 8, then 8.
RECO_AVX2 inline float hsum64(const __m256* acc) {
  const __m256 s0 = _mm256_add_ps(acc[0], acc[4]), s1 = _mm256_add_ps(acc[1], acc[5]);
  const __m256 s2 = _mm256_add_ps(acc[2], acc[6]), s3 = _mm256_add_ps(acc[3], acc[7]);
  const __m256 t0 = _mm256_add_ps(s0, s2), t1 = _mm256_add_ps(s1, s3);
  return hsum8(_mm256_add_ps(t0, t1));
}

RECO_AVX2 inline void prefetch_row(const float* row, uint32_t stride) {
  const char* bytes = reinterpret_cast<const char*>(row);
  for (uint32_t off = 0; off < stride * 4; off += 64) _mm_prefetch(bytes + off, _MM_HINT_T0);
}

// NC8 > 0: rows of NC8 registers (loops unrolled); NC8 == 0: any width. Sixteen registers are
// too few to keep a user's row in them, so it is updated in memory (it stays in L1).
template <int NC8, bool kBiased>
RECO_AVX2 double sgd_segments(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  const uint32_t stride = NC8 > 0 ? NC8 * 8 : m.stride;
  const uint32_t nc = stride / 8;
  const __m256 keep_p = _mm256_set1_ps(r.keep_pu), keep_q = _mm256_set1_ps(r.keep_qi);
  const __m256 lr_pu = _mm256_set1_ps(r.lr_pu), lr_qi = _mm256_set1_ps(r.lr_qi);
  const uint64_t end_all = s.offsets[s.count];
  double total = 0.0;
  for (size_t seg = 0; seg < s.count; ++seg) {
    const size_t u = s.users ? s.users[seg] : seg;
    float* pu = m.user_factors + u * stride;
    float bu = m.user_bias[u];
    float sse = 0.0f;
    const uint64_t end = s.offsets[seg + 1];
    for (uint64_t k = s.offsets[seg]; k < end; ++k) {
      if (k + kPrefetchAhead < end_all) {
        prefetch_row(m.item_factors + size_t{s.item[k + kPrefetchAhead]} * stride, stride);
      }
      const uint32_t i = s.item[k];
      float* q = m.item_factors + size_t{i} * stride;
      const __m256 zero = _mm256_setzero_ps();
      __m256 acc[8] = {zero, zero, zero, zero, zero, zero, zero, zero};
#pragma GCC unroll 16
      for (uint32_t c = 0; c < (NC8 > 0 ? NC8 : nc); ++c) {
        acc[c % 8] =
            _mm256_fmadd_ps(_mm256_load_ps(pu + 8 * c), _mm256_load_ps(q + 8 * c), acc[c % 8]);
      }
      const float d = hsum64(acc);
      float err;
      if constexpr (kBiased) {
        const float bi = m.item_bias[i];
        err = s.rating[k] - (((m.mu + bu) + bi) + d);
        bu = std::fmaf(r.lr_bu, err, r.keep_bu * bu);
        m.item_bias[i] = std::fmaf(r.lr_bi, err, r.keep_bi * bi);
      } else {
        err = s.rating[k] - d;
      }
      sse = std::fmaf(err, err, sse);
      const __m256 e = _mm256_set1_ps(err);
#pragma GCC unroll 16
      for (uint32_t c = 0; c < (NC8 > 0 ? NC8 : nc); ++c) {
        const __m256 pc = _mm256_load_ps(pu + 8 * c), qc = _mm256_load_ps(q + 8 * c);
        _mm256_store_ps(q + 8 * c,
                        _mm256_fmadd_ps(e, _mm256_mul_ps(lr_qi, pc), _mm256_mul_ps(keep_q, qc)));
        _mm256_store_ps(pu + 8 * c,
                        _mm256_fmadd_ps(e, _mm256_mul_ps(lr_pu, qc), _mm256_mul_ps(keep_p, pc)));
      }
    }
    m.user_bias[u] = bu;
    total += sse;
  }
  return total;
}

template <bool kBiased>
RECO_AVX2 double sgd_dispatch(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  switch (m.stride / 16) {
    case 1:
      return sgd_segments<2, kBiased>(r, m, s);
    case 2:
      return sgd_segments<4, kBiased>(r, m, s);
    case 3:
      return sgd_segments<6, kBiased>(r, m, s);
    case 4:
      return sgd_segments<8, kBiased>(r, m, s);
    case 5:
      return sgd_segments<10, kBiased>(r, m, s);
    case 6:
      return sgd_segments<12, kBiased>(r, m, s);
    case 7:
      return sgd_segments<14, kBiased>(r, m, s);
    case 8:
      return sgd_segments<16, kBiased>(r, m, s);
    default:
      return sgd_segments<0, kBiased>(r, m, s);
  }
}

}  // namespace

RECO_AVX2 double sgd_pass_avx2(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  return m.biased ? sgd_dispatch<true>(r, m, s) : sgd_dispatch<false>(r, m, s);
}

RECO_AVX2 float dot_avx2(const float* a, const float* b, uint32_t n) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  uint32_t f = 0;
  for (; f + 16 <= n; f += 16) {
    lo = _mm256_fmadd_ps(_mm256_loadu_ps(a + f), _mm256_loadu_ps(b + f), lo);
    hi = _mm256_fmadd_ps(_mm256_loadu_ps(a + f + 8), _mm256_loadu_ps(b + f + 8), hi);
  }
  if (f < n) {
    // Masked-off lanes load zeros; acc + 0 * 0 leaves a lane's sum unchanged (a sum that starts
    // at +0 is never -0).
    alignas(32) static const int32_t ramp[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                 8, 9, 10, 11, 12, 13, 14, 15};
    const __m256i left = _mm256_set1_epi32(static_cast<int32_t>(n - f));
    const __m256i mlo =
        _mm256_cmpgt_epi32(left, _mm256_load_si256(reinterpret_cast<const __m256i*>(ramp)));
    const __m256i mhi =
        _mm256_cmpgt_epi32(left, _mm256_load_si256(reinterpret_cast<const __m256i*>(ramp + 8)));
    lo = _mm256_fmadd_ps(_mm256_maskload_ps(a + f, mlo), _mm256_maskload_ps(b + f, mlo), lo);
    hi =
        _mm256_fmadd_ps(_mm256_maskload_ps(a + f + 8, mhi), _mm256_maskload_ps(b + f + 8, mhi), hi);
  }
  return hsum8(_mm256_add_ps(lo, hi));
}

RECO_AVX2 float sgd_dot_avx2(const float* a, const float* b, uint32_t stride) {
  const __m256 zero = _mm256_setzero_ps();
  __m256 acc[8] = {zero, zero, zero, zero, zero, zero, zero, zero};
  for (uint32_t c = 0; c < stride / 8; ++c) {
    acc[c % 8] = _mm256_fmadd_ps(_mm256_load_ps(a + 8 * c), _mm256_load_ps(b + 8 * c), acc[c % 8]);
  }
  return hsum64(acc);
}

RECO_AVX2 void dot_tile_avx2(const float* const* users, uint32_t n_users, const float* items,
                             size_t item_stride, size_t n_items, uint32_t n, float* out,
                             size_t ld) {
  // Two users x two items per pass, each sum in two registers (lanes 0-7 and 8-15); sixteen
  // registers allow no more. Missing users and items repeat the last one and are dropped.
  alignas(32) static const int32_t ramp[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                               8, 9, 10, 11, 12, 13, 14, 15};
  const uint32_t full = n / 16 * 16;
  const __m256i left = _mm256_set1_epi32(static_cast<int32_t>(n - full));
  const __m256i mlo =
      _mm256_cmpgt_epi32(left, _mm256_load_si256(reinterpret_cast<const __m256i*>(ramp)));
  const __m256i mhi =
      _mm256_cmpgt_epi32(left, _mm256_load_si256(reinterpret_cast<const __m256i*>(ramp + 8)));
  for (uint32_t t0 = 0; t0 < n_users; t0 += 2) {
    const float* u0 = users[t0];
    const float* u1 = users[t0 + 1 < n_users ? t0 + 1 : t0];
    for (size_t j0 = 0; j0 < n_items; j0 += 2) {
      const float* i0 = items + j0 * item_stride;
      const float* i1 = items + (j0 + 1 < n_items ? j0 + 1 : j0) * item_stride;
      __m256 a00l = _mm256_setzero_ps(), a00h = a00l, a01l = a00l, a01h = a00l;
      __m256 a10l = a00l, a10h = a00l, a11l = a00l, a11h = a00l;
      auto step = [&](__m256 p0l, __m256 p0h, __m256 p1l, __m256 p1h, __m256 q0l, __m256 q0h,
                      __m256 q1l, __m256 q1h) __attribute__((target("avx2,fma"))) {
        a00l = _mm256_fmadd_ps(p0l, q0l, a00l);
        a00h = _mm256_fmadd_ps(p0h, q0h, a00h);
        a01l = _mm256_fmadd_ps(p0l, q1l, a01l);
        a01h = _mm256_fmadd_ps(p0h, q1h, a01h);
        a10l = _mm256_fmadd_ps(p1l, q0l, a10l);
        a10h = _mm256_fmadd_ps(p1h, q0h, a10h);
        a11l = _mm256_fmadd_ps(p1l, q1l, a11l);
        a11h = _mm256_fmadd_ps(p1h, q1h, a11h);
      };
      for (uint32_t f = 0; f < full; f += 16) {
        step(_mm256_loadu_ps(u0 + f), _mm256_loadu_ps(u0 + f + 8), _mm256_loadu_ps(u1 + f),
             _mm256_loadu_ps(u1 + f + 8), _mm256_loadu_ps(i0 + f), _mm256_loadu_ps(i0 + f + 8),
             _mm256_loadu_ps(i1 + f), _mm256_loadu_ps(i1 + f + 8));
      }
      if (full < n) {  // masked lanes add 0 * 0, which leaves a sum unchanged (never -0)
        const uint32_t f = full;
        step(_mm256_maskload_ps(u0 + f, mlo), _mm256_maskload_ps(u0 + f + 8, mhi),
             _mm256_maskload_ps(u1 + f, mlo), _mm256_maskload_ps(u1 + f + 8, mhi),
             _mm256_maskload_ps(i0 + f, mlo), _mm256_maskload_ps(i0 + f + 8, mhi),
             _mm256_maskload_ps(i1 + f, mlo), _mm256_maskload_ps(i1 + f + 8, mhi));
      }
      const float s00 = hsum8(_mm256_add_ps(a00l, a00h)), s01 = hsum8(_mm256_add_ps(a01l, a01h));
      const float s10 = hsum8(_mm256_add_ps(a10l, a10h)), s11 = hsum8(_mm256_add_ps(a11l, a11h));
      out[t0 * ld + j0] = s00;
      if (j0 + 1 < n_items) out[t0 * ld + j0 + 1] = s01;
      if (t0 + 1 < n_users) {
        out[(t0 + 1) * ld + j0] = s10;
        if (j0 + 1 < n_items) out[(t0 + 1) * ld + j0 + 1] = s11;
      }
    }
  }
}

}  // namespace reco::algorithms::kernels::detail
