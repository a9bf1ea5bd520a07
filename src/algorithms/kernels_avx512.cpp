// AVX-512 kernels (F + DQ + BW + VL), compiled with function-level target attributes so the
// rest of the program stays plain x86-64. Each function performs exactly the float operations
// of the scalar definition in kernels.h, in the same order.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

// GCC 12's AVX-512 headers implement the 512->256 casts and extracts with a deliberately
// self-initialised "undefined" register (avxintrin.h, _mm256_undefined_pd), which its own
// -Wmaybe-uninitialized then reports at every inlining site. The value is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "algorithms/kernels.h"

#define RECO_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

namespace reco::algorithms::kernels::detail {
namespace {

// Ratings ahead whose item row is prefetched: item rows are visited in data order, which no
// hardware prefetcher can guess, and the matrix rarely fits in L2.
constexpr uint64_t kPrefetchAhead = 8;

// 16 lanes -> 1: j + 8, j + 4, j + 2, j + 1.
RECO_AVX512 inline float hsum16(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

// 64 lanes held as four registers (lanes 0-15, 16-31, 32-47, 48-63): j + 32, j + 16, then 16.
RECO_AVX512 inline float hsum64(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  return hsum16(_mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3)));
}

// The same sum as hsum64, left in every lane: each step adds a lane to its partner j ^ w
// (w = 32, 16 as whole registers, then 8, 4, 2, 1 by shuffles). Addition is commutative, so
// every lane holds exactly hsum64's value.
RECO_AVX512 inline __m512 hsum64_all(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  __m512 v = _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
}

RECO_AVX512 inline void prefetch_row(const float* row, uint32_t chunks) {
  const char* bytes = reinterpret_cast<const char*>(row);
  for (uint32_t c = 0; c < chunks; ++c) _mm_prefetch(bytes + 64 * c, _MM_HINT_T0);
}

// NC > 0: rows of NC registers, the user's row kept in registers for the whole segment.
// NC == 0: any width, rows updated in memory (same operations, same order).
template <int NC, bool kBiased>
RECO_AVX512 double sgd_segments(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  const uint32_t stride = NC > 0 ? NC * 16 : m.stride;
  const uint32_t nc = stride / 16;
  const __m512 keep_p = _mm512_set1_ps(r.keep_pu), keep_q = _mm512_set1_ps(r.keep_qi);
  const __m512 keep_bu = _mm512_set1_ps(r.keep_bu), keep_bi = _mm512_set1_ps(r.keep_bi);
  const __m512 lr_bu = _mm512_set1_ps(r.lr_bu), lr_bi = _mm512_set1_ps(r.lr_bi);
  const __m512 lr_pu = _mm512_set1_ps(r.lr_pu), lr_qi = _mm512_set1_ps(r.lr_qi);
  const __m512 mu = _mm512_set1_ps(m.mu);
  const uint64_t end_all = s.offsets[s.count];
  double total = 0.0;
  for (size_t seg = 0; seg < s.count; ++seg) {
    const size_t u = s.users ? s.users[seg] : seg;
    float* pu = m.user_factors + u * stride;
    __m512 p[NC > 0 ? NC : 1];
    if constexpr (NC > 0) {
#pragma GCC unroll 8
      for (int c = 0; c < NC; ++c) p[c] = _mm512_load_ps(pu + 16 * c);
    }
    // The scalar part of the step runs in every lane of a register (all lanes equal): the dot
    // product is reduced with its sum broadcast to all lanes and the error never leaves the
    // vector unit, which shortens the dependency chain rating -> rating of one user.
    __m512 bu = _mm512_set1_ps(m.user_bias[u]);
    __m512 sse = _mm512_setzero_ps();
    const uint64_t end = s.offsets[seg + 1];
    for (uint64_t k = s.offsets[seg]; k < end; ++k) {
      if (k + kPrefetchAhead < end_all) {
        prefetch_row(m.item_factors + size_t{s.item[k + kPrefetchAhead]} * stride, nc);
      }
      const uint32_t i = s.item[k];
      float* q = m.item_factors + size_t{i} * stride;
      const __m512 zero = _mm512_setzero_ps();
      __m512 acc[4] = {zero, zero, zero, zero};
      if constexpr (NC > 0) {
#pragma GCC unroll 8
        for (int c = 0; c < NC; ++c) {
          acc[c % 4] = _mm512_fmadd_ps(p[c], _mm512_load_ps(q + 16 * c), acc[c % 4]);
        }
      } else {
        for (uint32_t c = 0; c < nc; ++c) {
          acc[c % 4] =
              _mm512_fmadd_ps(_mm512_load_ps(pu + 16 * c), _mm512_load_ps(q + 16 * c), acc[c % 4]);
        }
      }
      const __m512 d = hsum64_all(acc[0], acc[1], acc[2], acc[3]);
      const __m512 rating = _mm512_set1_ps(s.rating[k]);
      __m512 err;
      if constexpr (kBiased) {
        const __m512 bi = _mm512_set1_ps(m.item_bias[i]);
        err = _mm512_sub_ps(rating, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(mu, bu), bi), d));
        bu = _mm512_fmadd_ps(lr_bu, err, _mm512_mul_ps(keep_bu, bu));
        m.item_bias[i] = _mm512_cvtss_f32(_mm512_fmadd_ps(lr_bi, err, _mm512_mul_ps(keep_bi, bi)));
      } else {
        err = _mm512_sub_ps(rating, d);
      }
      sse = _mm512_fmadd_ps(err, err, sse);
      // lr * q and keep * p do not depend on the error: only one FMA per register follows it.
      if constexpr (NC > 0) {
#pragma GCC unroll 8
        for (int c = 0; c < NC; ++c) {
          const __m512 qc = _mm512_load_ps(q + 16 * c);
          _mm512_store_ps(q + 16 * c, _mm512_fmadd_ps(err, _mm512_mul_ps(lr_qi, p[c]),
                                                      _mm512_mul_ps(keep_q, qc)));
          p[c] = _mm512_fmadd_ps(err, _mm512_mul_ps(lr_pu, qc), _mm512_mul_ps(keep_p, p[c]));
        }
      } else {
        for (uint32_t c = 0; c < nc; ++c) {
          const __m512 pc = _mm512_load_ps(pu + 16 * c), qc = _mm512_load_ps(q + 16 * c);
          _mm512_store_ps(q + 16 * c, _mm512_fmadd_ps(err, _mm512_mul_ps(lr_qi, pc),
                                                      _mm512_mul_ps(keep_q, qc)));
          _mm512_store_ps(pu + 16 * c, _mm512_fmadd_ps(err, _mm512_mul_ps(lr_pu, qc),
                                                       _mm512_mul_ps(keep_p, pc)));
        }
      }
    }
    if constexpr (NC > 0) {
#pragma GCC unroll 8
      for (int c = 0; c < NC; ++c) _mm512_store_ps(pu + 16 * c, p[c]);
    }
    m.user_bias[u] = _mm512_cvtss_f32(bu);
    total += _mm512_cvtss_f32(sse);
  }
  return total;
}

template <bool kBiased>
RECO_AVX512 double sgd_dispatch(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  switch (m.stride / 16) {
    case 1:
      return sgd_segments<1, kBiased>(r, m, s);
    case 2:
      return sgd_segments<2, kBiased>(r, m, s);
    case 3:
      return sgd_segments<3, kBiased>(r, m, s);
    case 4:
      return sgd_segments<4, kBiased>(r, m, s);
    case 5:
      return sgd_segments<5, kBiased>(r, m, s);
    case 6:
      return sgd_segments<6, kBiased>(r, m, s);
    case 7:
      return sgd_segments<7, kBiased>(r, m, s);
    case 8:
      return sgd_segments<8, kBiased>(r, m, s);
    default:
      return sgd_segments<0, kBiased>(r, m, s);
  }
}

}  // namespace

RECO_AVX512 double sgd_pass_avx512(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  return m.biased ? sgd_dispatch<true>(r, m, s) : sgd_dispatch<false>(r, m, s);
}

RECO_AVX512 float dot_avx512(const float* a, const float* b, uint32_t n) {
  __m512 acc = _mm512_setzero_ps();
  uint32_t f = 0;
  for (; f + 16 <= n; f += 16) {
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + f), _mm512_loadu_ps(b + f), acc);
  }
  if (f < n) {
    // Lanes past the end keep their sums (the scalar definition never touches them).
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - f)) - 1);
    acc = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + f),
                                _mm512_maskz_loadu_ps(mask, b + f), acc, mask);
  }
  return hsum16(acc);
}

RECO_AVX512 float sgd_dot_avx512(const float* a, const float* b, uint32_t stride) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 acc[4] = {zero, zero, zero, zero};
  for (uint32_t c = 0; c < stride / 16; ++c) {
    acc[c % 4] =
        _mm512_fmadd_ps(_mm512_load_ps(a + 16 * c), _mm512_load_ps(b + 16 * c), acc[c % 4]);
  }
  return hsum64(acc[0], acc[1], acc[2], acc[3]);
}

namespace {

// Sixteen 16-lane sums v[4 * jj + t] (user t, item jj) -> one register whose lane 4 * t + jj is
// hsum16(v[4 * jj + t]): the pairs j + 8, j + 4, j + 2, j + 1 of every sum, done for several
// sums per instruction by interleaving them.
RECO_AVX512 inline __m512 reduce16x16(const __m512* v) {
  __m512 l1[8], l2[4], l3[2];
  for (int k = 0; k < 8; ++k) {  // lanes 0-7: v[2k] j + 8; lanes 8-15: v[2k + 1] j + 8
    const __m512 a = v[2 * k], b = v[2 * k + 1];
    l1[k] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  for (int m = 0; m < 4; ++m) {  // four sums of 4 lanes, one per 128-bit block: j + 4
    const __m512 x = l1[2 * m], y = l1[2 * m + 1];
    l2[m] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  for (int m = 0; m < 2; ++m) {  // two sums of 2 lanes per block: j + 2
    const __m512 x = l2[2 * m], y = l2[2 * m + 1];
    l3[m] = _mm512_add_ps(_mm512_shuffle_ps(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_ps(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // j + 1; block b ends up holding v[b], v[4 + b], v[8 + b], v[12 + b].
  return _mm512_add_ps(_mm512_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

}  // namespace

RECO_AVX512 void add_biases_avx512(float* scores, uint32_t n, double base,
                                   const double* item_bias) {
  const __m512d b = _mm512_set1_pd(base);
  uint32_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m512d s = _mm512_add_pd(_mm512_add_pd(b, _mm512_loadu_pd(item_bias + j)),
                                    _mm512_cvtps_pd(_mm256_loadu_ps(scores + j)));
    _mm256_storeu_ps(scores + j, _mm512_cvtpd_ps(s));
  }
  for (; j < n; ++j) {
    scores[j] = static_cast<float>(base + item_bias[j] + static_cast<double>(scores[j]));
  }
}

RECO_AVX512 uint32_t indices_at_least_avx512(const float* scores, uint32_t n, float threshold,
                                             uint32_t* out) {
  const __m512 th = _mm512_set1_ps(threshold);
  const __m512i step = _mm512_set1_epi32(16);
  __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint32_t m = 0, j = 0;
  for (; j + 16 <= n; j += 16) {
    const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(scores + j), th, _CMP_GE_OQ);
    _mm512_mask_compressstoreu_epi32(out + m, hit, idx);
    m += static_cast<uint32_t>(__builtin_popcount(hit));
    idx = _mm512_add_epi32(idx, step);
  }
  for (; j < n; ++j) {
    if (scores[j] >= threshold) out[m++] = j;
  }
  return m;
}

RECO_AVX512 void dot_tile_avx512(const float* const* users, uint32_t n_users, const float* items,
                                 size_t item_stride, size_t n_items, uint32_t n, float* out,
                                 size_t ld) {
  // Item groups outside, user tiles inside: a group's four item rows stay in L1 while every
  // user tile passes over them (the user rows of a block stay in L1 too), so the loads are
  // mostly L1 hits. Missing users and items repeat the last one; their sums are dropped.
  const uint32_t full = n / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - full)) - 1);
  for (size_t j0 = 0; j0 < n_items; j0 += 4) {
    const float* it[4];
    for (size_t jj = 0; jj < 4; ++jj) it[jj] = items + std::min(j0 + jj, n_items - 1) * item_stride;
    const size_t valid_items = std::min<size_t>(4, n_items - j0);
    for (uint32_t t0 = 0; t0 < n_users; t0 += 4) {
      const float* u[4];
      for (uint32_t t = 0; t < 4; ++t) u[t] = users[std::min(t0 + t, n_users - 1)];
      __m512 acc[16];
      for (auto& a : acc) a = _mm512_setzero_ps();
      for (uint32_t f = 0; f < full; f += 16) {
        const __m512 p0 = _mm512_loadu_ps(u[0] + f), p1 = _mm512_loadu_ps(u[1] + f);
        const __m512 p2 = _mm512_loadu_ps(u[2] + f), p3 = _mm512_loadu_ps(u[3] + f);
#pragma GCC unroll 4
        for (int jj = 0; jj < 4; ++jj) {
          const __m512 q = _mm512_loadu_ps(it[jj] + f);
          acc[4 * jj + 0] = _mm512_fmadd_ps(p0, q, acc[4 * jj + 0]);
          acc[4 * jj + 1] = _mm512_fmadd_ps(p1, q, acc[4 * jj + 1]);
          acc[4 * jj + 2] = _mm512_fmadd_ps(p2, q, acc[4 * jj + 2]);
          acc[4 * jj + 3] = _mm512_fmadd_ps(p3, q, acc[4 * jj + 3]);
        }
      }
      if (tail) {
        // Lanes past the end keep their sums, as in dot_avx512.
        __m512 p[4];
        for (int t = 0; t < 4; ++t) p[t] = _mm512_maskz_loadu_ps(tail, u[t] + full);
        for (int jj = 0; jj < 4; ++jj) {
          const __m512 q = _mm512_maskz_loadu_ps(tail, it[jj] + full);
          for (int t = 0; t < 4; ++t) {
            acc[4 * jj + t] = _mm512_mask3_fmadd_ps(p[t], q, acc[4 * jj + t], tail);
          }
        }
      }
      alignas(64) float sums[16];
      _mm512_store_ps(sums, reduce16x16(acc));
      const uint32_t valid_users = std::min<uint32_t>(4, n_users - t0);
      for (uint32_t t = 0; t < valid_users; ++t) {
        for (size_t jj = 0; jj < valid_items; ++jj) out[(t0 + t) * ld + j0 + jj] = sums[4 * t + jj];
      }
    }
  }
}

}  // namespace reco::algorithms::kernels::detail
