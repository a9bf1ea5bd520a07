// The model types beside "factor" (normal, coclustering, knn, slopeone): an artifact round trip
// keeps every estimate; co-clustering's formula in its simplest case.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../algorithms/test_data.h"
#include "algorithms/blend.h"
#include "algorithms/co_clustering.h"
#include "algorithms/ease.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "registry/artifact.h"

namespace reco::registry {
namespace {

void expect_round_trip(const std::string& algorithm,
                       const std::vector<std::pair<std::string, std::string>>& params) {
  const Dataset d = reco::testing::random_dataset(40, 30, 0.3, 9);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  const auto model = algorithms::fit(algorithm, algorithms::parse_params(algorithm, params), d, all,
                                     {0.5f, 5.0f}, 3);
  model->validate();
  const std::string bytes = encode_artifact(*model, nlohmann::json::object());
  const Artifact back = decode_artifact(bytes, "x.reco");
  back.model->validate();
  EXPECT_EQ(back.model->algorithm, algorithm);
  EXPECT_EQ(back.model->type().name, model->type().name);
  for (int64_t u = -1; u < 40; ++u) {
    for (int64_t i = -1; i < 30; ++i) {
      const int64_t mu = u < 0 ? -1 : back.model->users.find(model->users.raw(u));
      const int64_t mi = i < 0 ? -1 : back.model->items.find(model->items.raw(i));
      if ((u >= 0 && u >= model->n_users()) || (i >= 0 && i >= model->n_items())) continue;
      ASSERT_EQ(back.model->estimate(mu, mi), model->estimate(u, i)) << u << " " << i;
    }
  }
  EXPECT_EQ(back.model->rated_items, model->rated_items);
}

TEST(ModelTypes, NormalAndCoClusteringSurviveAnArtifact) {
  expect_round_trip("normal_predictor", {});
  expect_round_trip("co_clustering", {{"n_cltr_u", "4"}, {"n_cltr_i", "2"}});
}

TEST(ModelTypes, RankingModelsSurviveAnArtifact) {
  expect_round_trip("ease", {{"lambda", "10"}, {"min_rating", "3"}});
  expect_round_trip("ials", {{"factors", "5"}, {"iterations", "2"}});
  expect_round_trip("bpr", {{"factors", "5"}, {"iterations", "2"}});
  expect_round_trip("als", {{"rank", "4"}, {"max_iter", "2"}});
}

TEST(ModelTypes, RankingScoresAreNotClippedAfterAnArtifact) {
  const Dataset d = reco::testing::random_dataset(20, 15, 0.4, 3);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  for (const char* algorithm : {"ease", "ials", "svd"}) {
    const auto model =
        algorithms::fit(algorithm, algorithms::default_params(algorithm), d, all, {0.5f, 5.0f}, 1);
    const Artifact back =
        decode_artifact(encode_artifact(*model, nlohmann::json::object()), "x.reco");
    EXPECT_EQ(back.model->ranking_scores, std::string(algorithm) != "svd") << algorithm;
    EXPECT_EQ(back.model->clip(-3.0), std::string(algorithm) != "svd" ? -3.0 : 0.5);
  }
  // Inconsistent ease contents fail validation, naming the field.
  const auto ease =
      algorithms::fit("ease", algorithms::default_params("ease"), d, all, {0.5f, 5.0f}, 1);
  const auto& m = dynamic_cast<const algorithms::EaseModel&>(*ease);
  algorithms::EaseModel broken = m;
  broken.positive_items.push_back(0);
  EXPECT_THROW(broken.validate(), Error);
  broken = m;
  broken.weights.pop_back();
  EXPECT_THROW(broken.validate(), Error);
}

TEST(ModelTypes, ABlendAndItsNestedBasesSurviveAnArtifact) {
  expect_round_trip("blend", {{"algorithms", "baseline,svd(n_factors=3;n_epochs=4),co_clustering"},
                              {"blend_folds", "2"}});
}

TEST(ModelTypes, ACorruptNestedBaseIsNamed) {
  const Dataset d = reco::testing::random_dataset(20, 15, 0.4, 4);
  const auto all = algorithms::all_rating_indices(d);
  const auto model = algorithms::fit(
      "blend", algorithms::parse_params("blend", {{"algorithms", "baseline,normal_predictor"}}), d,
      all, {0.5f, 5.0f}, 3);
  const auto& type = model->type();
  const std::string header = type.encode_header(*model);
  const auto sizes = *type.array_sizes(header.data());
  std::vector<std::string> arrays;
  std::vector<char*> regions;
  for (const uint64_t s : sizes) arrays.emplace_back(s, '\0');
  for (auto& a : arrays) regions.push_back(a.data());
  type.encode_arrays(*model, regions);
  auto decode = [&] {
    std::vector<std::string_view> views(arrays.begin(), arrays.end());
    auto back = type.decode("blend", header.data(), views);
    back->validate();
  };
  EXPECT_NO_THROW(decode());
  arrays[6][8] = 'X';  // the second base's algorithm name: "normal_predictor" -> "Xormal..."
  try {
    decode();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("blend base 2: unknown algorithm 'Xormal_predictor'"),
              std::string::npos)
        << e.what();
  }
  arrays[6][8] = 'n';
  arrays[5].resize(20);  // the first base cut short
  EXPECT_THROW(decode(), Error);
}

TEST(ModelTypes, NeighbourhoodModelsSurviveAnArtifact) {
  expect_round_trip("knn_basic", {{"k", "5"}});
  expect_round_trip("knn_with_means", {{"similarity", "cosine"}, {"user_based", "false"}});
  expect_round_trip("knn_with_zscore", {{"similarity", "pearson"}, {"min_k", "2"}});
  expect_round_trip("knn_baseline", {{"similarity", "pearson_baseline"},
                                     {"user_based", "false"},
                                     {"max_neighbors", "50"},
                                     {"method", "sgd"}});
  expect_round_trip("slope_one", {});
}

TEST(ModelTypes, CoClusteringWithOneClusterEachIsTheMeansFormula) {
  // One cluster each: avg(C_ui) = avg(C_u) = avg(C_i) = mu, so r^ = mu_u + mu_i - mu.
  const Dataset d = reco::testing::random_dataset(20, 15, 0.5, 2);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  const auto model = algorithms::fit(
      "co_clustering",
      algorithms::parse_params("co_clustering", {{"n_cltr_u", "1"}, {"n_cltr_i", "1"}}), d, all,
      {0.5f, 5.0f}, 1);
  const auto& m = dynamic_cast<const algorithms::CoClusteringModel&>(*model);
  for (uint32_t u = 0; u < m.n_users(); ++u) {
    for (uint32_t i = 0; i < m.n_items(); ++i) {
      EXPECT_NEAR(m.estimate(u, i), m.user_mean[u] + m.item_mean[i] - m.global_mean, 1e-12);
    }
  }
  EXPECT_EQ(m.estimate(-1, 0), m.global_mean);
  EXPECT_EQ(m.estimate(0, -1), m.global_mean);
  const auto truncated = algorithms::fit(
      "co_clustering",
      algorithms::parse_params("co_clustering",
                               {{"n_cltr_u", "1"}, {"n_cltr_i", "1"}, {"integer_ratings", "true"}}),
      d, all, {0.5f, 5.0f}, 1);
  const auto& t = dynamic_cast<const algorithms::CoClusteringModel&>(*truncated);
  for (const double mean : t.user_mean) EXPECT_LE(mean, 5.0);
  double diff = 0;
  for (uint32_t u = 0; u < t.n_users(); ++u) diff += m.user_mean[u] - t.user_mean[u];
  EXPECT_GT(diff, 0.0);  // half stars cut off lower every mean
}

}  // namespace
}  // namespace reco::registry
