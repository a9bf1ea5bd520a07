#include "algorithms/svd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>

#include "algorithms/kernels.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "core/random.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using reco::testing::dataset_of;
using reco::testing::fit_factor;
using reco::testing::random_dataset;

// A plain double-precision transcription of Surprise's SVD.sgd, written independently of the
// implementation: inner ids by first appearance in the training list, ratings visited user by
// user in list order.
struct Reference {
  std::map<int64_t, size_t> uid, iid;
  std::vector<double> bu, bi, pu, qi;
  double mu = 0.0;
};

Reference reference_svd(const Dataset& d, const std::vector<uint32_t>& train, uint32_t nf,
                        int epochs, bool biased, double lr, double reg, double init_mean,
                        double init_std, uint64_t seed) {
  Reference ref;
  std::vector<std::vector<std::pair<size_t, double>>> ur;
  std::vector<int64_t> item_order;
  double sum = 0;
  for (uint32_t k : train) {
    const int64_t ru = d.users.raw(d.user[k]), ri = d.items.raw(d.item[k]);
    if (!ref.uid.count(ru)) {
      const size_t id = ref.uid.size();
      ref.uid[ru] = id;
      ur.emplace_back();
    }
    if (!ref.iid.count(ri)) {
      const size_t id = ref.iid.size();
      ref.iid[ri] = id;
    }
    ur[ref.uid[ru]].emplace_back(ref.iid[ri], d.rating[k]);
    sum += d.rating[k];
  }
  ref.mu = sum / static_cast<double>(train.size());
  const size_t nu = ref.uid.size(), ni = ref.iid.size();
  ref.bu.assign(nu, 0.0);
  ref.bi.assign(ni, 0.0);
  Rng rng(seed, rng_stream::kFactorInit);
  for (size_t x = 0; x < nu * nf; ++x)
    ref.pu.push_back(static_cast<float>(rng.normal(init_mean, init_std)));
  for (size_t x = 0; x < ni * nf; ++x)
    ref.qi.push_back(static_cast<float>(rng.normal(init_mean, init_std)));
  const double mu = biased ? ref.mu : 0.0;
  for (int e = 0; e < epochs; ++e) {
    for (size_t u = 0; u < nu; ++u) {
      for (const auto& [i, r] : ur[u]) {
        double dot = 0;
        for (uint32_t f = 0; f < nf; ++f) dot += ref.qi[i * nf + f] * ref.pu[u * nf + f];
        const double err = r - (mu + ref.bu[u] + ref.bi[i] + dot);
        if (biased) {
          ref.bu[u] += lr * (err - reg * ref.bu[u]);
          ref.bi[i] += lr * (err - reg * ref.bi[i]);
        }
        for (uint32_t f = 0; f < nf; ++f) {
          const double puf = ref.pu[u * nf + f], qif = ref.qi[i * nf + f];
          ref.pu[u * nf + f] += lr * (err * qif - reg * puf);
          ref.qi[i * nf + f] += lr * (err * puf - reg * qif);
        }
      }
    }
  }
  return ref;
}

void expect_matches_reference(const FactorModel& m, const Reference& ref, double tol) {
  ASSERT_EQ(m.n_users(), ref.uid.size());
  ASSERT_EQ(m.n_items(), ref.iid.size());
  EXPECT_NEAR(m.global_mean, ref.mu, 1e-12);
  const uint32_t nf = m.n_factors;
  for (const auto& [raw, ru] : ref.uid) {
    const auto u = static_cast<uint32_t>(m.users.find(raw));
    ASSERT_EQ(u, ru) << "user " << raw << " has another model index";
    EXPECT_NEAR(m.user_bias[u], ref.bu[ru], tol);
    for (uint32_t f = 0; f < nf; ++f) EXPECT_NEAR(m.user_vector(u)[f], ref.pu[ru * nf + f], tol);
  }
  for (const auto& [raw, ri] : ref.iid) {
    const auto i = static_cast<uint32_t>(m.items.find(raw));
    ASSERT_EQ(i, ri) << "item " << raw << " has another model index";
    EXPECT_NEAR(m.item_bias[i], ref.bi[ri], tol);
    for (uint32_t f = 0; f < nf; ++f) EXPECT_NEAR(m.item_vector(i)[f], ref.qi[ri * nf + f], tol);
  }
}

Params svd_params(const std::vector<std::pair<std::string, std::string>>& kv) {
  return parse_params("svd", kv);
}

TEST(SvdTest, OneRatingOneFactorByHand) {
  // mu = 4, p = q = 0.1: e = 4 - (4 + 0.01) = -0.01
  //   b_u = b_i = 0.005 * (-0.01) = -5e-5
  //   p = q = 0.1 + 0.005 * (-0.01 * 0.1 - 0.02 * 0.1) = 0.099985
  const Dataset d = dataset_of({{7, 9, 4.0f}});
  const auto all = all_rating_indices(d);
  const FactorModel m = fit_factor(
      "svd",
      svd_params(
          {{"n_factors", "1"}, {"n_epochs", "1"}, {"init_mean", "0.1"}, {"init_std_dev", "0"}}),
      d, all, {1, 5}, 1);
  m.validate();
  EXPECT_DOUBLE_EQ(m.global_mean, 4.0);
  // The error is computed in float: 4.01 carries an error of ~2e-7, hence the tolerance.
  EXPECT_NEAR(m.user_bias[0], -5e-5, 1e-8);
  EXPECT_NEAR(m.item_bias[0], -5e-5, 1e-8);
  EXPECT_NEAR(m.user_factors[0], 0.099985, 1e-7);
  EXPECT_NEAR(m.item_factors[0], 0.099985, 1e-7);
}

TEST(SvdTest, OneEpochOneFactorMatchesDoubleReference) {
  const Dataset d =
      dataset_of({{10, 1, 4}, {20, 1, 3}, {10, 2, 5}, {30, 3, 1}, {20, 3, 2}, {30, 2, 2.5}});
  // Training list order 4, 0, 2, 1, 5: model users are 20, 10, 30 and items 3, 1, 2; SGD visits
  // (20,3) (20,1) (10,1) (10,2) (30,2).
  const std::vector<uint32_t> train = {4, 0, 2, 1, 5};
  const FactorModel m = fit_factor("svd", svd_params({{"n_factors", "1"}, {"n_epochs", "1"}}), d,
                                   train, {0.5, 5}, 42);
  m.validate();
  EXPECT_EQ(m.users.raw_ids(), (std::vector<int64_t>{20, 10, 30}));
  EXPECT_EQ(m.items.raw_ids(), (std::vector<int64_t>{3, 1, 2}));
  expect_matches_reference(m, reference_svd(d, train, 1, 1, true, 0.005, 0.02, 0, 0.1, 42), 1e-6);
  // Rated items per user, ascending model item index.
  EXPECT_EQ(m.rated_offsets, (std::vector<uint64_t>{0, 2, 4, 5}));
  EXPECT_EQ(m.rated_items, (std::vector<uint32_t>{0, 1, 1, 2, 2}));
  EXPECT_EQ(m.algorithm, "svd");
  EXPECT_EQ(m.scale.min, 0.5f);
  EXPECT_EQ(m.scale.max, 5.0f);
}

TEST(SvdTest, ManyEpochsAndFactorsMatchDoubleReference) {
  const Dataset d = random_dataset(30, 25, 0.3, 5);
  std::vector<uint32_t> train = all_rating_indices(d);
  train.resize(train.size() * 3 / 4);
  const FactorModel m = fit_factor(
      "svd",
      svd_params({{"n_factors", "5"}, {"n_epochs", "10"}, {"lr_all", "0.01"}, {"reg_all", "0.05"}}),
      d, train, {0.5, 5}, 3);
  m.validate();
  expect_matches_reference(m, reference_svd(d, train, 5, 10, true, 0.01, 0.05, 0, 0.1, 3), 2e-5);
}

TEST(SvdTest, UnbiasedMatchesDoubleReference) {
  const Dataset d = random_dataset(20, 15, 0.4, 6);
  const auto all = all_rating_indices(d);
  const FactorModel m =
      fit_factor("svd", svd_params({{"n_factors", "3"}, {"n_epochs", "5"}, {"biased", "false"}}), d,
                 all, {0.5, 5}, 11);
  m.validate();
  EXPECT_FALSE(m.biased);
  for (float b : m.user_bias) EXPECT_EQ(b, 0.0f);
  for (float b : m.item_bias) EXPECT_EQ(b, 0.0f);
  expect_matches_reference(m, reference_svd(d, all, 3, 5, false, 0.005, 0.02, 0, 0.1, 11), 1e-5);
  // Unbiased estimates are the bare dot product (summed in the order of kernels::dot).
  const auto p = m.user_vector(0), q = m.item_vector(0);
  const float dot = kernels::dot(Isa::kScalar, p.data(), q.data(), 3);
  EXPECT_NEAR(dot, double{p[0]} * q[0] + double{p[1]} * q[1] + double{p[2]} * q[2], 1e-6);
  EXPECT_EQ(m.estimate(0, 0), static_cast<double>(dot));
}

TEST(SvdTest, PerParameterRatesAreUsed) {
  const Dataset d = random_dataset(15, 12, 0.5, 7);
  const auto all = all_rating_indices(d);
  // Zero learning rate for the biases and the item factors: only p_u moves.
  const FactorModel m = fit_factor(
      "svd",
      svd_params(
          {{"n_factors", "2"}, {"n_epochs", "3"}, {"lr_bu", "0"}, {"lr_bi", "0"}, {"lr_qi", "0"}}),
      d, all, {0.5, 5}, 5);
  for (float b : m.user_bias) EXPECT_EQ(b, 0.0f);
  for (float b : m.item_bias) EXPECT_EQ(b, 0.0f);
  Rng rng(5, rng_stream::kFactorInit);
  for (size_t x = 0; x < m.user_factors.size(); ++x) rng.normal(0, 0.1);
  for (float q : m.item_factors) EXPECT_EQ(q, static_cast<float>(rng.normal(0, 0.1)));
  const FactorModel init =
      fit_factor("svd", svd_params({{"n_factors", "2"}, {"n_epochs", "1"}, {"lr_all", "0"}}), d,
                 all, {0.5, 5}, 5);
  EXPECT_NE(m.user_factors, init.user_factors);
}

TEST(SvdTest, SameSeedSameModelDifferentSeedDifferentModel) {
  const Dataset d = random_dataset(40, 30, 0.3, 8);
  const auto all = all_rating_indices(d);
  const Params p = svd_params({{"n_factors", "10"}, {"n_epochs", "5"}});
  const FactorModel a = fit_factor("svd", p, d, all, {0.5, 5}, 123);
  const FactorModel b = fit_factor("svd", p, d, all, {0.5, 5}, 123);
  const FactorModel c = fit_factor("svd", p, d, all, {0.5, 5}, 124);
  EXPECT_EQ(a.user_factors, b.user_factors);
  EXPECT_EQ(a.item_factors, b.item_factors);
  EXPECT_EQ(a.user_bias, b.user_bias);
  EXPECT_EQ(a.item_bias, b.item_bias);
  EXPECT_NE(a.user_factors, c.user_factors);
  EXPECT_NE(a.item_factors, c.item_factors);
}

TEST(SvdTest, UnknownIdsFallBackAndPredictionsAreClipped) {
  const Dataset d = random_dataset(20, 20, 0.4, 9);
  const auto all = all_rating_indices(d);
  const FactorModel m =
      fit_factor("svd", svd_params({{"n_factors", "4"}, {"n_epochs", "5"}}), d, all, {1, 5}, 1);
  const int64_t ru = m.users.raw(3), ri = m.items.raw(2);
  const double mu = m.global_mean;
  EXPECT_DOUBLE_EQ(m.predict(-1, ri), m.clip(mu + m.item_bias[2]));
  EXPECT_DOUBLE_EQ(m.predict(ru, -1), m.clip(mu + m.user_bias[3]));
  EXPECT_DOUBLE_EQ(m.predict(-1, -2), m.clip(mu));
  EXPECT_DOUBLE_EQ(m.predict(ru, ri), m.clip(m.estimate(3, 2)));

  // A scale narrower than the estimates clips every prediction into it.
  const double mean = std::accumulate(d.rating.begin(), d.rating.end(), 0.0) / d.size();
  const RatingScale tight{static_cast<float>(mean - 0.05), static_cast<float>(mean + 0.05)};
  const FactorModel narrow =
      fit_factor("svd", svd_params({{"n_factors", "4"}, {"n_epochs", "5"}}), d, all, tight, 1);
  bool saw_clip_low = false, saw_clip_high = false;
  for (uint32_t u = 0; u < narrow.n_users(); ++u) {
    for (uint32_t i = 0; i < narrow.n_items(); ++i) {
      const double p = narrow.predict(narrow.users.raw(u), narrow.items.raw(i));
      ASSERT_GE(p, tight.min);
      ASSERT_LE(p, tight.max);
      saw_clip_low |= narrow.estimate(u, i) < tight.min && p == tight.min;
      saw_clip_high |= narrow.estimate(u, i) > tight.max && p == tight.max;
    }
  }
  EXPECT_TRUE(saw_clip_low);
  EXPECT_TRUE(saw_clip_high);
}

TEST(SvdTest, ReportsProgressEveryEpoch) {
  const Dataset d = random_dataset(10, 10, 0.5, 10);
  const auto all = all_rating_indices(d);
  std::vector<std::pair<int, int>> calls;
  fit("svd", svd_params({{"n_factors", "2"}, {"n_epochs", "4"}}), d, all, {0.5, 5}, 1,
      [&](int e, int n, double rmse) {
        calls.emplace_back(e, n);
        EXPECT_GT(rmse, 0.0);
        EXPECT_LT(rmse, 5.0);
      });
  EXPECT_EQ(calls, (std::vector<std::pair<int, int>>{{1, 4}, {2, 4}, {3, 4}, {4, 4}}));
}

TEST(SvdTest, DivergenceIsReportedNotReturned) {
  const Dataset d = random_dataset(30, 30, 0.5, 12);
  const auto all = all_rating_indices(d);
  try {
    fit("svd",
        svd_params({{"n_factors", "50"},
                    {"n_epochs", "200"},
                    {"lr_all", "1"},
                    {"reg_all", "0"},
                    {"init_std_dev", "10"}}),
        d, all, {0.5, 5}, 1);
    FAIL() << "expected divergence";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("diverged"));
  }
}

TEST(TrainTest, RejectsBadRequests) {
  const Dataset d = random_dataset(5, 5, 0.5, 13);
  const auto all = all_rating_indices(d);
  const Params svd = default_params("svd");
  auto kind_of = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kInternal;
  };
  EXPECT_EQ(kind_of([&] { fit("als", svd, d, all, {0.5, 5}, 1); }), ErrorKind::kUsage);
  EXPECT_EQ(kind_of([&] { fit("baseline", svd, d, all, {0.5, 5}, 1); }), ErrorKind::kUsage);
  EXPECT_EQ(kind_of([&] { fit("svd", svd, d, {}, {0.5, 5}, 1); }), ErrorKind::kInput);
  EXPECT_EQ(kind_of([&] { fit("svd", svd, d, all, {5, 5}, 1); }), ErrorKind::kInput);
  const std::vector<uint32_t> bad = {0, static_cast<uint32_t>(d.size())};
  EXPECT_EQ(kind_of([&] { fit("svd", svd, d, bad, {0.5, 5}, 1); }), ErrorKind::kInternal);
}

TEST(TrainTest, ModelKnowsOnlyTrainingUsersAndItems) {
  const Dataset d = dataset_of({{1, 100, 3}, {2, 200, 4}, {3, 300, 5}, {1, 200, 2}});
  const std::vector<uint32_t> train = {3, 1};  // users 1, 2; item 200 only
  const FactorModel m = fit_factor("svd", svd_params({{"n_factors", "2"}}), d, train, {1, 5}, 1);
  m.validate();
  EXPECT_EQ(m.users.raw_ids(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(m.items.raw_ids(), (std::vector<int64_t>{200}));
  EXPECT_DOUBLE_EQ(m.global_mean, 3.0);
  EXPECT_EQ(m.users.find(3), -1);
  EXPECT_EQ(m.items.find(100), -1);
}

}  // namespace
}  // namespace reco::algorithms

namespace reco::algorithms {
namespace {

TEST(SvdTest, UnbiasedUnknownPairsGetTheGlobalMeanAsInSurprise) {
  const Dataset d = reco::testing::random_dataset(20, 15, 0.5, 8);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  const auto model = fit("svd", parse_params("svd", {{"biased", "false"}, {"n_factors", "3"}}), d,
                         all, {0.5f, 5.0f}, 1);
  const FactorModel& m = as_factor_model(*model);
  ASSERT_FALSE(m.biased);
  EXPECT_EQ(m.estimate(-1, 0), m.global_mean);
  EXPECT_EQ(m.estimate(0, -1), m.global_mean);
  EXPECT_EQ(m.estimate(-1, -1), m.global_mean);
  EXPECT_NE(m.estimate(0, 0), m.global_mean);
  std::vector<float> scores(m.n_items());
  m.score_unknown_user(0, m.n_items(), scores.data());
  for (const float s : scores) EXPECT_EQ(s, static_cast<float>(m.global_mean));
}

}  // namespace
}  // namespace reco::algorithms
