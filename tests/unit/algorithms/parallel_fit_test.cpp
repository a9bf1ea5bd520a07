// The parallel SGD schedule: deterministic for any thread count and instruction set, visits
// every rating once per epoch, and converges like Surprise's sequential order.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "algorithms/block_schedule.h"
#include "algorithms/svd.h"
#include "algorithms/train.h"
#include "core/random.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

// Low-rank ratings: n_users x n_items, each pair rated with probability `density`.
Dataset low_rank_dataset(uint32_t n_users, uint32_t n_items, double density, uint64_t seed) {
  Rng rng(seed, 5);
  constexpr int kRank = 4;
  std::vector<double> uf(size_t{n_users} * kRank), itf(size_t{n_items} * kRank);
  for (auto& x : uf) x = rng.normal(0.0, 0.6);
  for (auto& x : itf) x = rng.normal(0.0, 0.6);
  RawRatings raw;
  for (uint32_t u = 0; u < n_users; ++u) {
    for (uint32_t i = 0; i < n_items; ++i) {
      if (rng.uniform() >= density) continue;
      double r = 3.4 + rng.normal(0.0, 0.4);
      for (int f = 0; f < kRank; ++f) r += uf[u * kRank + f] * itf[i * kRank + f];
      raw.push_back(u + 1, i + 1, static_cast<float>(std::clamp(std::round(r * 2) / 2, 0.5, 5.0)));
    }
  }
  // A shuffled list, as a cross-validation fold would be.
  std::vector<size_t> order(raw.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  rng.shuffle(order);
  RawRatings shuffled;
  for (const size_t k : order) shuffled.push_back(raw.users[k], raw.items[k], raw.ratings[k]);
  return Dataset::from_raw(shuffled);
}

double rmse(const FactorModel& m, const Dataset& d, std::span<const uint32_t> test) {
  double sq = 0.0;
  for (const uint32_t k : test) {
    const double e = d.rating[k] - m.clip(m.estimate(m.users.find(d.users.raw(d.user[k])),
                                                     m.items.find(d.items.raw(d.item[k]))));
    sq += e * e;
  }
  return std::sqrt(sq / static_cast<double>(test.size()));
}

TEST(BlockScheduleTest, EveryRatingOnceInItsBlockUserByUserInListOrder) {
  const Dataset d = testing::random_dataset(37, 29, 0.4, 21);
  const auto all = all_rating_indices(d);
  const TrainingSet set = make_training_set(d, all);
  const uint32_t g = 5;
  const BlockSchedule s(set, g);
  // Working rows are a permutation.
  std::set<uint32_t> urows, irows;
  for (uint32_t u = 0; u < set.n_users(); ++u) urows.insert(s.user_row(u));
  for (uint32_t i = 0; i < set.n_items(); ++i) irows.insert(s.item_row(i));
  EXPECT_EQ(urows.size(), set.n_users());
  EXPECT_EQ(*urows.rbegin(), set.n_users() - 1);
  EXPECT_EQ(irows.size(), set.n_items());
  EXPECT_EQ(*irows.rbegin(), set.n_items() - 1);
  // Expected: per (user row, item row) the rating; per (user row, column) the item rows in
  // training-list order.
  std::map<std::pair<uint32_t, uint32_t>, float> want;
  std::map<std::pair<uint32_t, uint32_t>, std::vector<uint32_t>> want_order, got_order;
  for (uint32_t u = 0; u < set.n_users(); ++u) {
    for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
      const uint32_t i = set.item[k];
      want[{s.user_row(u), s.item_row(i)}] = set.rating[k];
      want_order[{s.user_row(u), i % g}].push_back(s.item_row(i));
    }
  }
  size_t seen = 0;
  for (uint32_t r = 0; r < g; ++r) {
    for (uint32_t c = 0; c < g; ++c) {
      const kernels::SgdSegments seg = s.segments(r, c);
      size_t in_block = 0;
      for (size_t x = 0; x < seg.count; ++x) {
        if (x > 0) {
          EXPECT_GT(seg.users[x], seg.users[x - 1]);  // ascending users
        }
        EXPECT_LT(seg.offsets[x], seg.offsets[x + 1]);  // no empty segment
        for (uint64_t k = seg.offsets[x]; k < seg.offsets[x + 1]; ++k) {
          const auto it = want.find({seg.users[x], seg.item[k]});
          ASSERT_NE(it, want.end());
          EXPECT_EQ(it->second, seg.rating[k]);
          got_order[{seg.users[x], c}].push_back(seg.item[k]);
          ++seen;
          ++in_block;
        }
      }
      EXPECT_EQ(in_block, s.block_size(r, c));
    }
  }
  EXPECT_EQ(seen, set.size());
  EXPECT_EQ(got_order, want_order);
}

TEST(ParallelFitTest, SameModelForAnyThreadCountAndInstructionSet) {
  const Dataset d = low_rank_dataset(120, 90, 0.3, 3);
  const TrainingSet set = make_training_set(d, all_rating_indices(d));
  SvdOptions o = SvdOptions::defaults();
  o.n_factors = 20;
  o.n_epochs = 4;
  o.parallel = SvdOptions::Parallel::kOn;
  o.threads = 1;
  o.isa = Isa::kScalar;
  const FactorModel ref = fit_svd(o, set, {0.5f, 5.0f}, 4);
  for (const int threads : {1, 2, 3, 8}) {
    for (const Isa isa : {Isa::kScalar, best_supported_isa()}) {
      o.threads = threads;
      o.isa = isa;
      const FactorModel m = fit_svd(o, set, {0.5f, 5.0f}, 4);
      EXPECT_EQ(m.user_factors, ref.user_factors) << threads << " threads, " << isa_name(isa);
      EXPECT_EQ(m.item_factors, ref.item_factors) << threads << " threads, " << isa_name(isa);
      EXPECT_EQ(m.user_bias, ref.user_bias) << threads << " threads, " << isa_name(isa);
      EXPECT_EQ(m.item_bias, ref.item_bias) << threads << " threads, " << isa_name(isa);
    }
  }
  // A different schedule than the sequential one: not the same numbers.
  o.parallel = SvdOptions::Parallel::kOff;
  EXPECT_NE(fit_svd(o, set, {0.5f, 5.0f}, 4).user_factors, ref.user_factors);
}

TEST(ParallelFitTest, AutoKeepsTheReferenceOrderOnSmallData) {
  const Dataset d = testing::random_dataset(30, 40, 0.3, 8);
  const TrainingSet set = make_training_set(d, all_rating_indices(d));
  SvdOptions o = SvdOptions::defaults();
  o.n_factors = 5;
  o.n_epochs = 3;
  const FactorModel automatic = fit_svd(o, set, {0.5f, 5.0f}, 2);
  o.parallel = SvdOptions::Parallel::kOff;
  EXPECT_EQ(fit_svd(o, set, {0.5f, 5.0f}, 2).user_factors, automatic.user_factors);
  EXPECT_EQ(SvdOptions::from_params(parse_params("svd", {{"parallel", "on"}})).parallel,
            SvdOptions::Parallel::kOn);
  EXPECT_EQ(SvdOptions::from_params(parse_params("svd", {})).parallel, SvdOptions::Parallel::kAuto);
}

// The convergence check: held-out RMSE of the block schedule is within 0.01 of the sequential
// reference order (BENCHMARKS.md has the same check on MovieLens and on 1M generated ratings).
TEST(ParallelFitTest, ConvergesLikeTheSequentialOrder) {
  const Dataset d = low_rank_dataset(400, 300, 0.25, 17);
  const auto all = all_rating_indices(d);
  const size_t n_train = all.size() * 4 / 5;
  const std::span<const uint32_t> train(all.data(), n_train),
      test(all.data() + n_train, all.size() - n_train);
  for (const char* nf : {"10", "50"}) {
    const FactorModel seq =
        fit_factor("svd", parse_params("svd", {{"n_factors", nf}, {"parallel", "off"}}), d, train,
                   {0.5f, 5.0f}, 42);
    const FactorModel par =
        fit_factor("svd", parse_params("svd", {{"n_factors", nf}, {"parallel", "on"}}), d, train,
                   {0.5f, 5.0f}, 42);
    const double rs = rmse(seq, d, test), rp = rmse(par, d, test);
    std::cout << "n_factors " << nf << ": held-out RMSE sequential " << rs << ", parallel " << rp
              << "\n";
    EXPECT_NEAR(rp, rs, 0.01);
    EXPECT_LT(rp, 0.9);  // and it learned something (the noise floor is 0.4)
  }
}

}  // namespace
}  // namespace reco::algorithms
