// The scalar kernels: the definition the SIMD versions reproduce bit for bit (kernels.h).
#include <cmath>

#include "algorithms/kernels.h"

namespace reco::algorithms::kernels::detail {

float dot_scalar(const float* a, const float* b, uint32_t n) {
  float lane[16] = {};
  for (uint32_t f = 0; f < n; ++f) lane[f % 16] = std::fmaf(a[f], b[f], lane[f % 16]);
  for (uint32_t w = 8; w >= 2; w /= 2) {
    for (uint32_t j = 0; j < w; ++j) lane[j] += lane[j + w];
  }
  return lane[0] + lane[1];
}

float sgd_dot_scalar(const float* a, const float* b, uint32_t stride) {
  float lane[64] = {};
  for (uint32_t f = 0; f < stride; ++f) lane[f % 64] = std::fmaf(a[f], b[f], lane[f % 64]);
  for (uint32_t w = 32; w >= 2; w /= 2) {
    for (uint32_t j = 0; j < w; ++j) lane[j] += lane[j + w];
  }
  return lane[0] + lane[1];
}

void add_biases_scalar(float* scores, uint32_t n, double base, const double* item_bias) {
  for (uint32_t j = 0; j < n; ++j) {
    scores[j] = static_cast<float>(base + item_bias[j] + static_cast<double>(scores[j]));
  }
}

uint32_t indices_at_least_scalar(const float* scores, uint32_t n, float threshold, uint32_t* out) {
  uint32_t m = 0;
  for (uint32_t j = 0; j < n; ++j) {
    out[m] = j;
    m += scores[j] >= threshold ? 1 : 0;  // branch-free: most scores are below the threshold
  }
  return m;
}

void dot_tile_scalar(const float* const* users, uint32_t n_users, const float* items,
                     size_t item_stride, size_t n_items, uint32_t n, float* out, size_t ld) {
  for (uint32_t t = 0; t < n_users; ++t) {
    for (size_t j = 0; j < n_items; ++j) {
      out[t * ld + j] = dot_scalar(users[t], items + j * item_stride, n);
    }
  }
}

double sgd_pass_scalar(const SgdRates& r, const SgdParams& m, const SgdSegments& s) {
  const uint32_t stride = m.stride;
  double total = 0.0;
  for (size_t seg = 0; seg < s.count; ++seg) {
    const size_t u = s.users ? s.users[seg] : seg;
    float* p = m.user_factors + u * stride;
    float bu = m.user_bias[u];
    float sse = 0.0f;
    for (uint64_t k = s.offsets[seg]; k < s.offsets[seg + 1]; ++k) {
      const uint32_t i = s.item[k];
      float* q = m.item_factors + size_t{i} * stride;
      const float d = sgd_dot_scalar(p, q, stride);
      float err;
      if (m.biased) {
        const float bi = m.item_bias[i];
        err = s.rating[k] - (((m.mu + bu) + bi) + d);
        bu = std::fmaf(r.lr_bu, err, r.keep_bu * bu);
        m.item_bias[i] = std::fmaf(r.lr_bi, err, r.keep_bi * bi);
      } else {
        err = s.rating[k] - d;
      }
      sse = std::fmaf(err, err, sse);
      for (uint32_t f = 0; f < stride; ++f) {
        const float pf = p[f], qf = q[f];
        p[f] = std::fmaf(err, r.lr_pu * qf, r.keep_pu * pf);
        q[f] = std::fmaf(err, r.lr_qi * pf, r.keep_qi * qf);
      }
    }
    m.user_bias[u] = bu;
    total += sse;
  }
  return total;
}

}  // namespace reco::algorithms::kernels::detail
