#pragma once
// Numeric kernels shared by training, prediction and top-N, each with a scalar, an AVX2+FMA and
// an AVX-512 implementation selected at run time (simd.h). The float operations and their order
// are defined here once; all three implementations perform exactly these operations, so their
// results are bit-identical (tests/unit/algorithms/kernels_test.cpp checks it). FMA means a
// fused multiply-add (one rounding); the scalar path uses std::fmaf, which is a single
// instruction on any CPU with FMA and a correct (slower) library routine elsewhere.
//
// Prediction dot product, dot(a, b, n): 16 lanes; lane j accumulates, in increasing f, the
// products a[f] * b[f] for f = j mod 16 (acc = fma(a, b, acc), starting from +0); then the
// lanes are combined pairwise: j + 8, j + 4, j + 2, j + 1. This is what one 512-bit register
// (or two 256-bit ones) computes, so SIMD code reproduces it; rows need no padding.
//
// Training dot product, sgd_dot(a, b, stride): the same with 64 lanes (four 512-bit
// accumulators: a shorter dependency chain, which is what bounds SGD), combined j + 32, j + 16,
// then as above. Rows are padded with zeros to kRowAlign floats.
//
// SGD step for one rating r of (user u, item i), with keep_x = 1 - lr_x * reg_x:
//   d   = sgd_dot(p_u, q_i)
//   err = r - (((mu + b_u) + b_i) + d)                       (biased)
//   err = r - d                                              (unbiased)
//   b_u = fma(lr_bu, err, keep_bu * b_u); b_i = fma(lr_bi, err, keep_bi * b_i)   (biased)
//   for each f, with the old p_uf and q_if:
//     p_uf = fma(err, lr_pu * q_if, keep_pu * p_uf)
//     q_if = fma(err, lr_qi * p_uf, keep_qi * q_if)
// which is Surprise's update (b += lr (err - reg b), p += lr (err q - reg p), old values used
// for both factor updates) with float roundings of our choosing: every product that does not
// involve err is formed before err is known, so a rating's error reaches the next rating's dot
// product through a single FMA (the latency of that chain bounds SGD speed).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "algorithms/simd.h"

namespace reco::algorithms::kernels {

// Working-buffer rows are padded to a multiple of this many floats (one 512-bit register).
inline constexpr uint32_t kRowAlign = 16;
inline constexpr uint32_t padded_width(uint32_t n) {
  return (n + kRowAlign - 1) / kRowAlign * kRowAlign;
}

// A 64-byte aligned, zero-initialised float array.
class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t n)
      : data_(new (std::align_val_t(64)) float[n == 0 ? 1 : n]()), size_(n) {}
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return size_; }
  float& operator[](size_t k) { return data_[k]; }
  float operator[](size_t k) const { return data_[k]; }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<float[], Free> data_;
  size_t size_ = 0;
};

struct SgdRates {
  float lr_bu, lr_bi, lr_pu, lr_qi;
  float keep_bu, keep_bi, keep_pu, keep_qi;  // 1 - lr * reg, computed in float
};

// Parameters being trained: rows of `stride` floats (a multiple of kRowAlign, 64-byte aligned,
// padding zero).
struct SgdParams {
  float* user_bias;
  float* item_bias;
  float* user_factors;
  float* item_factors;
  uint32_t stride;
  float mu;  // global mean (biased only)
  bool biased;
};

// Ratings visited in order: segment s holds ratings [offsets[s], offsets[s + 1]) of user
// users[s] (users == nullptr: user s). Items and ratings are indexed by the offsets.
struct SgdSegments {
  const uint32_t* users;
  const uint64_t* offsets;
  size_t count;
  const uint32_t* item;
  const float* rating;
};

// One pass of SGD steps over the segments. Returns the sum of err^2 (accumulated in float per
// segment): a training loss, NaN or infinite when training diverged.
double sgd_pass(Isa isa, const SgdRates& rates, const SgdParams& params,
                const SgdSegments& segments);

float dot(Isa isa, const float* a, const float* b, uint32_t n);
float sgd_dot(Isa isa, const float* a, const float* b, uint32_t stride);

// Many prediction dot products at once (top-N scoring): for t < n_users and j < n_items,
//   out[t * ld + j] = dot(users[t], items + j * item_stride, n)
// bit for bit. Rows need no alignment or padding.
void dot_tile(Isa isa, const float* const* users, uint32_t n_users, const float* items,
              size_t item_stride, size_t n_items, uint32_t n, float* out, size_t ld);

// Turns dot products into estimates in place, as FactorModel::estimate adds them:
//   scores[j] = float((base + item_bias[j]) + double(scores[j]))   for j < n.
void add_biases(Isa isa, float* scores, uint32_t n, double base, const double* item_bias);

// Writes the indices j < n with scores[j] >= threshold to out (ascending) and returns how many.
// out needs room for n.
uint32_t indices_at_least(Isa isa, const float* scores, uint32_t n, float threshold, uint32_t* out);

// The active implementation of dot(), resolved once per process (RECO_SIMD read then).
using DotFn = float (*)(const float*, const float*, uint32_t);
DotFn dot_function();

// Per-ISA implementations (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512.cpp).
namespace detail {
double sgd_pass_scalar(const SgdRates&, const SgdParams&, const SgdSegments&);
double sgd_pass_avx2(const SgdRates&, const SgdParams&, const SgdSegments&);
double sgd_pass_avx512(const SgdRates&, const SgdParams&, const SgdSegments&);
float dot_scalar(const float*, const float*, uint32_t);
float dot_avx2(const float*, const float*, uint32_t);
float dot_avx512(const float*, const float*, uint32_t);
float sgd_dot_scalar(const float*, const float*, uint32_t);
float sgd_dot_avx2(const float*, const float*, uint32_t);
float sgd_dot_avx512(const float*, const float*, uint32_t);
void add_biases_scalar(float*, uint32_t, double, const double*);
void add_biases_avx512(float*, uint32_t, double, const double*);
uint32_t indices_at_least_scalar(const float*, uint32_t, float, uint32_t*);
uint32_t indices_at_least_avx512(const float*, uint32_t, float, uint32_t*);
void dot_tile_scalar(const float* const*, uint32_t, const float*, size_t, size_t, uint32_t, float*,
                     size_t);
void dot_tile_avx2(const float* const*, uint32_t, const float*, size_t, size_t, uint32_t, float*,
                   size_t);
void dot_tile_avx512(const float* const*, uint32_t, const float*, size_t, size_t, uint32_t, float*,
                     size_t);
}  // namespace detail

}  // namespace reco::algorithms::kernels
