// Hyperparameter search specs and candidates (search.h).
#include "training/search.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <set>

#include "algorithms/algorithm.h"
#include "core/error.h"

namespace reco::training {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string usage_error(const json& j) {
  try {
    SearchSpec::from_json(j);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << j.dump();
  return "";
}

TEST(SearchSpec, GridIsTheProductWithTheLastNameFastest) {
  const auto spec = SearchSpec::from_json(
      json::parse(R"({"params": {"n_factors": [10, 20], "reg_all": [0.02, 0.05, "0.1"]}})"));
  EXPECT_EQ(spec.metric, "rmse");
  const auto c = search_candidates(spec, "svd", 1, 5);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0], (std::vector<std::pair<std::string, std::string>>{{"n_factors", "10"},
                                                                    {"reg_all", "0.02"}}));
  EXPECT_EQ(c[2][1].second, "0.1");
  EXPECT_EQ(c[3][0].second, "20");
  EXPECT_EQ(spec.to_json()["method"], "grid");
}

TEST(SearchSpec, RandomDrawsAreSeededInRangeAndTyped) {
  const auto spec = SearchSpec::from_json(json::parse(
      R"({"method": "random", "trials": 50, "params": {"lr_all": {"min": 0.001, "max": 0.1, "log": true},
          "n_epochs": {"min": 5, "max": 40}, "biased": [true, false]}})"));
  const auto a = search_candidates(spec, "svd", 7, 5);
  ASSERT_EQ(a.size(), 50u);
  EXPECT_EQ(a, search_candidates(spec, "svd", 7, 5));
  EXPECT_NE(a, search_candidates(spec, "svd", 8, 5));
  std::set<std::string> biased;
  size_t below_001 = 0;
  for (const auto& pairs : a) {
    // Names in the JSON object's (sorted) order: biased, lr_all, n_epochs.
    const std::map<std::string, std::string> setting(pairs.begin(), pairs.end());
    const double lr = std::stod(setting.at("lr_all"));
    EXPECT_GE(lr, 0.001);
    EXPECT_LE(lr, 0.1);
    if (lr < 0.01) ++below_001;  // log-uniform: about half the draws below the geometric middle
    const std::string& epochs = setting.at("n_epochs");
    EXPECT_EQ(epochs.find('.'), std::string::npos) << "integers are rounded: " << epochs;
    EXPECT_GE(std::stoi(epochs), 5);
    EXPECT_LE(std::stoi(epochs), 40);
    biased.insert(setting.at("biased"));
  }
  EXPECT_GT(below_001, 10u);
  EXPECT_LT(below_001, 40u);
  EXPECT_EQ(biased, (std::set<std::string>{"true", "false"}));
}

TEST(SearchSpec, RefusesWhatCannotBeSearched) {
  EXPECT_THAT(usage_error(json::parse(R"({"params": {}})")), HasSubstr("non-empty object"));
  EXPECT_THAT(usage_error(json::parse(R"({"method": "grid"})")), HasSubstr("params is missing"));
  EXPECT_THAT(usage_error(json::parse(R"({"params": {"n_factors": []}})")), HasSubstr("empty"));
  EXPECT_THAT(usage_error(json::parse(R"({"params": {"lr_all": {"min": 1, "max": 2}}})")),
              HasSubstr("ranges are for method random"));
  EXPECT_THAT(usage_error(json::parse(
                  R"({"method": "random", "params": {"lr_all": {"min": 2, "max": 1}}})")),
              HasSubstr("min < max"));
  EXPECT_THAT(
      usage_error(json::parse(
          R"({"method": "random", "params": {"lr_all": {"min": 0, "max": 1, "log": true}}})")),
      HasSubstr("log range needs min > 0"));
  EXPECT_THAT(usage_error(json::parse(R"({"method": "bayes", "params": {"n_factors": [1]}})")),
              HasSubstr("not grid or random"));
  EXPECT_THAT(usage_error(json::parse(R"({"trials": 0, "params": {"n_factors": [1]}})")),
              HasSubstr("trials must be"));
  EXPECT_THAT(usage_error(json::parse(R"({"colour": 1, "params": {"n_factors": [1]}})")),
              HasSubstr("unknown key 'colour'"));
  const auto unknown = SearchSpec::from_json(json::parse(R"({"params": {"n_trees": [1, 2]}})"));
  EXPECT_THAT([&] { search_candidates(unknown, "svd", 1, 5); },
              ::testing::ThrowsMessage<Error>(HasSubstr("n_trees is not a parameter of svd")));
  json big = {{"params", json::object()}};
  for (const char* name : {"n_factors", "n_epochs", "lr_all", "reg_all"}) {
    big["params"][name] = json::array({1, 2, 3, 4, 5, 6});
  }
  EXPECT_THAT([&] { search_candidates(SearchSpec::from_json(big), "svd", 1, 5); },
              ::testing::ThrowsMessage<Error>(HasSubstr("1296 settings (6480 fits with 5 folds)")));
  EXPECT_TRUE(lower_is_better("rmse"));
  EXPECT_FALSE(lower_is_better("ndcg@10"));
}

}  // namespace
}  // namespace reco::training
