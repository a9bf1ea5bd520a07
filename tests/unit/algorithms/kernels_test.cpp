// The SIMD kernels against the scalar definition: every path must give bit-identical results.
#include "algorithms/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "algorithms/initial_factors.h"
#include "algorithms/svd.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "core/random.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using kernels::AlignedFloats;

// The instruction sets this CPU can run, scalar first.
std::vector<Isa> runnable_isas() {
  std::vector<Isa> out = {Isa::kScalar};
  if (best_supported_isa() >= Isa::kAvx2) out.push_back(Isa::kAvx2);
  if (best_supported_isa() >= Isa::kAvx512) out.push_back(Isa::kAvx512);
  return out;
}

uint32_t bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

std::vector<float> random_floats(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal(0.0, 1.0));
  return v;
}

TEST(SimdTest, ParsesNamesAndCapsBySupport) {
  EXPECT_EQ(parse_isa("scalar"), Isa::kScalar);
  EXPECT_EQ(parse_isa("avx2"), Isa::kAvx2);
  EXPECT_EQ(parse_isa("avx512"), Isa::kAvx512);
  EXPECT_THROW(parse_isa("sse9"), Error);
  const char* old = std::getenv("RECO_SIMD");
  const std::string saved = old ? old : "";
  setenv("RECO_SIMD", "scalar", 1);
  EXPECT_EQ(active_isa(), Isa::kScalar);
  setenv("RECO_SIMD", "avx512", 1);
  EXPECT_EQ(active_isa(), best_supported_isa());
  setenv("RECO_SIMD", "auto", 1);
  EXPECT_EQ(active_isa(), best_supported_isa());
  setenv("RECO_SIMD", "bogus", 1);
  EXPECT_THROW(active_isa(), Error);
  if (old) {
    setenv("RECO_SIMD", saved.c_str(), 1);
  } else {
    unsetenv("RECO_SIMD");
  }
}

TEST(KernelsTest, DotIsBitIdenticalOnEveryPathAndCloseToExact) {
  Rng rng(11);
  for (uint32_t n = 0; n <= 140; ++n) {
    const auto a = random_floats(n, rng), b = random_floats(n, rng);
    const float ref = kernels::dot(Isa::kScalar, a.data(), b.data(), n);
    double exact = 0.0;
    for (uint32_t f = 0; f < n; ++f) exact += double{a[f]} * b[f];
    EXPECT_NEAR(ref, exact, 1e-5 * (1 + n)) << "n=" << n;
    for (const Isa isa : runnable_isas()) {
      EXPECT_EQ(bits(kernels::dot(isa, a.data(), b.data(), n)), bits(ref))
          << isa_name(isa) << " n=" << n;
    }
  }
}

TEST(KernelsTest, SgdDotIsBitIdenticalOnEveryPath) {
  Rng rng(12);
  for (uint32_t stride = 16; stride <= 256; stride += 16) {
    AlignedFloats a(stride), b(stride);
    const auto va = random_floats(stride, rng), vb = random_floats(stride, rng);
    std::memcpy(a.data(), va.data(), stride * sizeof(float));
    std::memcpy(b.data(), vb.data(), stride * sizeof(float));
    const float ref = kernels::sgd_dot(Isa::kScalar, a.data(), b.data(), stride);
    double exact = 0.0;
    for (uint32_t f = 0; f < stride; ++f) exact += double{va[f]} * vb[f];
    EXPECT_NEAR(ref, exact, 1e-4 * stride);
    for (const Isa isa : runnable_isas()) {
      EXPECT_EQ(bits(kernels::sgd_dot(isa, a.data(), b.data(), stride)), bits(ref))
          << isa_name(isa) << " stride=" << stride;
    }
  }
}

TEST(KernelsTest, DotTileEqualsDotOnEveryPath) {
  Rng rng(13);
  for (const uint32_t n : {1u, 5u, 16u, 31u, 100u, 128u}) {
    for (const uint32_t n_users : {1u, 3u, 4u, 9u}) {
      const uint32_t n_items = 11, stride = n + 3;  // unaligned, unpadded rows
      const auto users = random_floats(size_t{n_users} * stride, rng);
      const auto items = random_floats(size_t{n_items} * stride, rng);
      std::vector<const float*> rows;
      for (uint32_t t = 0; t < n_users; ++t) rows.push_back(users.data() + t * stride);
      for (const Isa isa : runnable_isas()) {
        const size_t ld = n_items + 2;
        std::vector<float> out(n_users * ld, -7.0f);
        kernels::dot_tile(isa, rows.data(), n_users, items.data(), stride, n_items, n, out.data(),
                          ld);
        for (uint32_t t = 0; t < n_users; ++t) {
          for (uint32_t j = 0; j < n_items; ++j) {
            ASSERT_EQ(bits(out[t * ld + j]),
                      bits(kernels::dot(Isa::kScalar, rows[t], items.data() + j * stride, n)))
                << isa_name(isa) << " n=" << n << " users=" << n_users << " t=" << t << " j=" << j;
          }
          EXPECT_EQ(out[t * ld + n_items], -7.0f);  // nothing written past the items
        }
      }
    }
  }
}

TEST(KernelsTest, BiasesAndThresholdsMatchTheScalarDefinition) {
  Rng rng(14);
  for (const uint32_t n : {0u, 1u, 7u, 8u, 9u, 100u}) {
    const auto dots = random_floats(n, rng);
    std::vector<double> bias(n);
    for (auto& b : bias) b = rng.normal(0.0, 1.0);
    std::vector<float> ref = dots;
    kernels::add_biases(Isa::kScalar, ref.data(), n, 3.25, bias.data());
    for (uint32_t j = 0; j < n; ++j) {
      ASSERT_EQ(ref[j], static_cast<float>(3.25 + bias[j] + static_cast<double>(dots[j])));
    }
    std::vector<uint32_t> want;
    for (uint32_t j = 0; j < n; ++j) {
      if (ref[j] >= ref[n / 2 < n ? n / 2 : 0]) want.push_back(j);
    }
    for (const Isa isa : runnable_isas()) {
      std::vector<float> got = dots;
      kernels::add_biases(isa, got.data(), n, 3.25, bias.data());
      EXPECT_EQ(got, ref) << isa_name(isa);
      if (n == 0) continue;
      std::vector<uint32_t> idx(n);
      idx.resize(kernels::indices_at_least(isa, ref.data(), n, ref[n / 2], idx.data()));
      EXPECT_EQ(idx, want) << isa_name(isa);
    }
  }
}

// One SGD problem: ratings grouped by user, parameters in padded rows.
struct Problem {
  uint32_t n_users, n_items, n_factors, stride;
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> item;
  std::vector<float> rating;
  std::vector<float> bu, bi;
  AlignedFloats p, q;
};

Problem make_problem(uint32_t n_users, uint32_t n_items, uint32_t n_factors, uint64_t seed) {
  Rng rng(seed);
  Problem pr{n_users, n_items, n_factors, kernels::padded_width(n_factors), {0}, {}, {}, {},
             {},      {},      {}};
  for (uint32_t u = 0; u < n_users; ++u) {
    for (uint32_t i = 0; i < n_items; ++i) {
      if (rng.uniform() < 0.4) {
        pr.item.push_back(i);
        pr.rating.push_back(static_cast<float>(1 + rng.below(9)) / 2.0f);
      }
    }
    pr.offsets.push_back(pr.item.size());
  }
  pr.bu.assign(n_users, 0.0f);
  pr.bi.assign(n_items, 0.0f);
  pr.p = AlignedFloats(size_t{n_users} * pr.stride);
  pr.q = AlignedFloats(size_t{n_items} * pr.stride);
  for (uint32_t u = 0; u < n_users; ++u) {
    for (uint32_t f = 0; f < n_factors; ++f) pr.p[u * pr.stride + f] = rng.normal(0, 0.1);
  }
  for (uint32_t i = 0; i < n_items; ++i) {
    for (uint32_t f = 0; f < n_factors; ++f) pr.q[i * pr.stride + f] = rng.normal(0, 0.1);
  }
  return pr;
}

double run_epochs(Problem& pr, Isa isa, bool biased, int epochs) {
  const kernels::SgdRates rates{0.005f,
                                0.006f,
                                0.007f,
                                0.008f,
                                1 - 0.005f * 0.02f,
                                1 - 0.006f * 0.03f,
                                1 - 0.007f * 0.04f,
                                1 - 0.008f * 0.05f};
  const kernels::SgdParams params{pr.bu.data(), pr.bi.data(), pr.p.data(), pr.q.data(),
                                  pr.stride,    3.5f,         biased};
  const kernels::SgdSegments segs{nullptr, pr.offsets.data(), pr.n_users, pr.item.data(),
                                  pr.rating.data()};
  double sse = 0.0;
  for (int e = 0; e < epochs; ++e) sse = kernels::sgd_pass(isa, rates, params, segs);
  return sse;
}

TEST(KernelsTest, SgdPassIsBitIdenticalOnEveryPath) {
  // Strides 16..144 cover every register-resident width and the generic in-memory loop.
  for (const uint32_t nf : {1u, 7u, 16u, 20u, 50u, 100u, 128u, 130u}) {
    for (const bool biased : {true, false}) {
      Problem ref = make_problem(23, 31, nf, nf);
      const double ref_sse = run_epochs(ref, Isa::kScalar, biased, 3);
      ASSERT_TRUE(std::isfinite(ref_sse));
      for (const Isa isa : runnable_isas()) {
        {
          Problem got = make_problem(23, 31, nf, nf);
          const double sse = run_epochs(got, isa, biased, 3);
          const std::string what = std::string(isa_name(isa)) + " n_factors=" + std::to_string(nf) +
                                   (biased ? " biased" : " unbiased");
          EXPECT_EQ(sse, ref_sse) << what;
          EXPECT_EQ(std::memcmp(got.bu.data(), ref.bu.data(), ref.bu.size() * 4), 0) << what;
          EXPECT_EQ(std::memcmp(got.bi.data(), ref.bi.data(), ref.bi.size() * 4), 0) << what;
          EXPECT_EQ(std::memcmp(got.p.data(), ref.p.data(), ref.p.size() * 4), 0) << what;
          EXPECT_EQ(std::memcmp(got.q.data(), ref.q.data(), ref.q.size() * 4), 0) << what;
          // The padding stays zero.
          for (uint32_t u = 0; u < got.n_users; ++u) {
            for (uint32_t f = nf; f < got.stride; ++f) ASSERT_EQ(got.p[u * got.stride + f], 0.0f);
          }
        }
      }
    }
  }
}

TEST(InitialFactorsTest, SameDrawsAsRngNormalForAnyThreadCount) {
  for (const size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{20001}}) {
    Rng rng(77, rng_stream::kFactorInit);
    std::vector<float> want(count);
    for (auto& x : want) x = static_cast<float>(rng.normal(0.25, 0.1));
    for (const int threads : {1, 2, 5}) {
      const InitialFactors init(77, 0.25, 0.1, count, threads);
      ASSERT_EQ(init.size(), count);
      EXPECT_EQ(std::vector<float>(init.data(), init.data() + count), want)
          << count << " values, " << threads << " threads";
      EXPECT_TRUE(init.matches(77, 0.25, 0.1));
      EXPECT_FALSE(init.matches(78, 0.25, 0.1));
    }
  }
}

TEST(KernelsTest, SvdFitIsBitIdenticalOnEveryPath) {
  const Dataset d = testing::random_dataset(40, 60, 0.3, 3);
  const auto all = all_rating_indices(d);
  const TrainingSet set = make_training_set(d, all);
  SvdOptions o = SvdOptions::defaults();
  o.n_factors = 37;
  o.n_epochs = 5;
  o.isa = Isa::kScalar;
  const FactorModel ref = fit_svd(o, set, {0.5f, 5.0f}, 9);
  for (const Isa isa : runnable_isas()) {
    o.isa = isa;
    const FactorModel m = fit_svd(o, set, {0.5f, 5.0f}, 9);
    EXPECT_EQ(m.user_factors, ref.user_factors) << isa_name(isa);
    EXPECT_EQ(m.item_factors, ref.item_factors) << isa_name(isa);
    EXPECT_EQ(m.user_bias, ref.user_bias) << isa_name(isa);
    EXPECT_EQ(m.item_bias, ref.item_bias) << isa_name(isa);
  }
}

}  // namespace
}  // namespace reco::algorithms
