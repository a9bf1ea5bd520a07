#include "algorithms/kernels.h"

namespace reco::algorithms::kernels {

double sgd_pass(Isa isa, const SgdRates& rates, const SgdParams& params,
                const SgdSegments& segments) {
  switch (isa) {
    case Isa::kAvx512:
      return detail::sgd_pass_avx512(rates, params, segments);
    case Isa::kAvx2:
      return detail::sgd_pass_avx2(rates, params, segments);
    case Isa::kScalar:
      break;
  }
  return detail::sgd_pass_scalar(rates, params, segments);
}

float dot(Isa isa, const float* a, const float* b, uint32_t n) {
  switch (isa) {
    case Isa::kAvx512:
      return detail::dot_avx512(a, b, n);
    case Isa::kAvx2:
      return detail::dot_avx2(a, b, n);
    case Isa::kScalar:
      break;
  }
  return detail::dot_scalar(a, b, n);
}

float sgd_dot(Isa isa, const float* a, const float* b, uint32_t stride) {
  switch (isa) {
    case Isa::kAvx512:
      return detail::sgd_dot_avx512(a, b, stride);
    case Isa::kAvx2:
      return detail::sgd_dot_avx2(a, b, stride);
    case Isa::kScalar:
      break;
  }
  return detail::sgd_dot_scalar(a, b, stride);
}

void dot_tile(Isa isa, const float* const* users, uint32_t n_users, const float* items,
              size_t item_stride, size_t n_items, uint32_t n, float* out, size_t ld) {
  switch (isa) {
    case Isa::kAvx512:
      return detail::dot_tile_avx512(users, n_users, items, item_stride, n_items, n, out, ld);
    case Isa::kAvx2:
      return detail::dot_tile_avx2(users, n_users, items, item_stride, n_items, n, out, ld);
    case Isa::kScalar:
      break;
  }
  detail::dot_tile_scalar(users, n_users, items, item_stride, n_items, n, out, ld);
}

void add_biases(Isa isa, float* scores, uint32_t n, double base, const double* item_bias) {
  if (isa == Isa::kAvx512) return detail::add_biases_avx512(scores, n, base, item_bias);
  detail::add_biases_scalar(scores, n, base, item_bias);
}

uint32_t indices_at_least(Isa isa, const float* scores, uint32_t n, float threshold,
                          uint32_t* out) {
  if (isa == Isa::kAvx512) return detail::indices_at_least_avx512(scores, n, threshold, out);
  return detail::indices_at_least_scalar(scores, n, threshold, out);
}

DotFn dot_function() {
  static const DotFn fn = [] {
    switch (active_isa()) {
      case Isa::kAvx512:
        return &detail::dot_avx512;
      case Isa::kAvx2:
        return &detail::dot_avx2;
      case Isa::kScalar:
        break;
    }
    return &detail::dot_scalar;
  }();
  return fn;
}

}  // namespace reco::algorithms::kernels
