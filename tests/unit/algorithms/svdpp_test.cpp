// SVD++ against a literal transcription of Surprise's SVDpp.fit (every y_j updated at every
// rating): the lazy composition of the y_j updates (svdpp.h) must give the same parameters.
#include "algorithms/svdpp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "algorithms/train.h"
#include "core/error.h"
#include "core/random.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using reco::testing::random_dataset;

// Surprise's loops, written independently: inner ids by first appearance, ratings user by user
// in list order, all in double. Returns the published user vectors (p_u + |I_u|^-1/2 sum y_j),
// item vectors and biases in model order.
struct SvdppReference {
  std::vector<double> bu, bi, user_vec, qi;
};

SvdppReference reference_svdpp(const Dataset& d, const std::vector<uint32_t>& train, size_t nf,
                               int epochs, double lr, double reg, uint64_t seed) {
  std::map<int64_t, size_t> uid, iid;
  std::vector<std::vector<std::pair<size_t, double>>> ur;
  double sum = 0;
  for (const uint32_t k : train) {
    const int64_t ru = d.users.raw(d.user[k]), ri = d.items.raw(d.item[k]);
    if (!uid.count(ru)) {
      uid[ru] = uid.size();
      ur.emplace_back();
    }
    if (!iid.count(ri)) iid[ri] = iid.size();
    ur[uid[ru]].emplace_back(iid[ri], d.rating[k]);
    sum += d.rating[k];
  }
  const double mu = sum / static_cast<double>(train.size());
  const size_t nu = uid.size(), ni = iid.size();
  Rng rng(seed, rng_stream::kFactorInit);
  std::vector<double> pu, qi, yj;
  for (size_t x = 0; x < nu * nf; ++x) pu.push_back(static_cast<float>(rng.normal(0.0, 0.1)));
  for (size_t x = 0; x < ni * nf; ++x) qi.push_back(static_cast<float>(rng.normal(0.0, 0.1)));
  for (size_t x = 0; x < ni * nf; ++x) yj.push_back(static_cast<float>(rng.normal(0.0, 0.1)));
  std::vector<double> bu(nu, 0.0), bi(ni, 0.0);
  for (int e = 0; e < epochs; ++e) {
    for (size_t u = 0; u < nu; ++u) {
      const double sqrt_iu = std::sqrt(static_cast<double>(ur[u].size()));
      for (const auto& [i, r] : ur[u]) {
        std::vector<double> impl(nf, 0.0);
        for (const auto& [j, rj] : ur[u])
          for (size_t f = 0; f < nf; ++f) impl[f] += yj[j * nf + f] / sqrt_iu;
        double dot = 0;
        for (size_t f = 0; f < nf; ++f) dot += qi[i * nf + f] * (pu[u * nf + f] + impl[f]);
        const double err = r - (mu + bu[u] + bi[i] + dot);
        bu[u] += lr * (err - reg * bu[u]);
        bi[i] += lr * (err - reg * bi[i]);
        for (size_t f = 0; f < nf; ++f) {
          const double puf = pu[u * nf + f], qif = qi[i * nf + f];
          pu[u * nf + f] += lr * (err * qif - reg * puf);
          qi[i * nf + f] += lr * (err * (puf + impl[f]) - reg * qif);
          for (const auto& [j, rj] : ur[u])
            yj[j * nf + f] += lr * (err * qif / sqrt_iu - reg * yj[j * nf + f]);
        }
      }
    }
  }
  SvdppReference ref{bu, bi, {}, qi};
  for (size_t u = 0; u < nu; ++u) {
    const double sqrt_iu = std::sqrt(static_cast<double>(ur[u].size()));
    for (size_t f = 0; f < nf; ++f) {
      double s = 0;
      for (const auto& [j, rj] : ur[u]) s += yj[j * nf + f];
      ref.user_vec.push_back(pu[u * nf + f] + s / sqrt_iu);
    }
  }
  return ref;
}

TEST(SvdppTest, EqualsSurprisesLoopsWithEveryUpdateApplied) {
  const Dataset d = random_dataset(30, 25, 0.4, 17);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  const auto params = parse_params("svdpp", {{"n_factors", "4"}, {"n_epochs", "6"}});
  const auto model = fit("svdpp", params, d, all, {0.5f, 5.0f}, 3);
  const FactorModel& m = as_factor_model(*model);
  EXPECT_EQ(m.algorithm, "svdpp");
  const SvdppReference ref = reference_svdpp(d, all, 4, 6, 0.007, 0.02, 3);
  ASSERT_EQ(m.user_factors.size(), ref.user_vec.size());
  for (size_t k = 0; k < ref.bu.size(); ++k) EXPECT_NEAR(m.user_bias[k], ref.bu[k], 2e-6);
  for (size_t k = 0; k < ref.bi.size(); ++k) EXPECT_NEAR(m.item_bias[k], ref.bi[k], 2e-6);
  for (size_t k = 0; k < ref.user_vec.size(); ++k)
    EXPECT_NEAR(m.user_factors[k], ref.user_vec[k], 2e-6) << k;
  for (size_t k = 0; k < ref.qi.size(); ++k) EXPECT_NEAR(m.item_factors[k], ref.qi[k], 2e-6) << k;
}

TEST(SvdppTest, SameSeedSameModelAndATrainingRmsePerEpoch) {
  const Dataset d = random_dataset(40, 30, 0.3, 4);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  const auto params = default_params("svdpp");
  std::vector<double> curve;
  const auto a = fit("svdpp", params, d, all, {0.5f, 5.0f}, 9,
                     [&](int, int, double rmse) { curve.push_back(rmse); });
  const auto b = fit("svdpp", params, d, all, {0.5f, 5.0f}, 9);
  EXPECT_EQ(as_factor_model(*a).user_factors, as_factor_model(*b).user_factors);
  ASSERT_EQ(curve.size(), 20u);
  EXPECT_LT(curve.back(), curve.front());
  const auto c = fit("svdpp", params, d, all, {0.5f, 5.0f}, 10);
  EXPECT_NE(as_factor_model(*a).user_factors, as_factor_model(*c).user_factors);
}

TEST(SvdppTest, SaysWhenTrainingDiverges) {
  const Dataset d = random_dataset(20, 20, 0.5, 2);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  EXPECT_THAT(
      [&] {
        fit("svdpp", parse_params("svdpp", {{"lr_all", "1"}, {"n_factors", "50"}}), d, all,
            {0.5f, 5.0f}, 1);
      },
      ::testing::ThrowsMessage<Error>(::testing::HasSubstr("svdpp training diverged")));
}

}  // namespace
}  // namespace reco::algorithms
