// Deployment history, rollback and promotion by metric (deployment/history.h, promotion.h,
// EndpointStore::deploy/rollback/history).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/error.h"
#include "core/fs.h"
#include "deployment/endpoints.h"
#include "deployment/live_models.h"
#include "deployment_test_support.h"

namespace reco::deployment {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::TempDir;

// Publishes the next version of `name` whose metadata reports these CV means (or none when
// rmse < 0) on data with this fingerprint.
std::filesystem::path publish_with_cv(const Home& home, const std::string& name, uint64_t seed,
                                      double rmse, double mae,
                                      const std::string& fingerprint = "f00d", int folds = 5) {
  registry::ModelRegistry models(home.models_dir());
  const auto version = models.reserve_version(name);
  const auto model = registry::testing::random_model(seed, {20, 30, 4});
  json metadata = {{"seed", 42}, {"data", {{"table", "ratings"}, {"fingerprint", fingerprint}}}};
  metadata["cv"] =
      rmse < 0 ? json(nullptr) : json{{"folds", folds}, {"mean", {{"rmse", rmse}, {"mae", mae}}}};
  return models.publish(version, model, metadata, {{"job", "test"}});
}

ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::kInternal;
}

struct HistoryTest : ::testing::Test {
  TempDir dir;
  Home home{dir.path()};
  EndpointStore store{home};

  std::vector<json> events(const std::string& name) { return store.history(name).events; }
  // The message of the error a deployment with `policy` throws, checking its kind.
  std::string deploy_error(const std::string& name, const std::string& uri,
                           const PromotionPolicy& policy, ErrorKind kind) {
    std::string message;
    EXPECT_EQ(kind_of([&] { deploy(name, uri, policy); }, &message), kind);
    return message;
  }
  DeployOutcome deploy(const std::string& name, const std::string& uri,
                       std::optional<PromotionPolicy> policy = std::nullopt,
                       const std::string& cause = "cli") {
    DeployRequest r;
    r.name = name;
    r.model_uri = uri;
    r.cause = cause;
    r.promote_if = policy;
    return store.deploy(r);
  }
};

TEST_F(HistoryTest, LogSkipsATornLineAndTheNextAppendStartsAfreshLine) {
  HistoryLog log(dir.path() / "h");
  log.append("ep", {{"seq", 1}, {"event", "deploy"}});
  {
    std::ofstream f(log.path("ep"), std::ios::app);
    f << R"({"seq": 2, "event": "dep)";  // a crash in the middle of a write
  }
  auto read = log.read("ep");
  ASSERT_EQ(read.events.size(), 1u);
  EXPECT_EQ(read.skipped_lines, 1u);
  log.append("ep", {{"seq", 3}, {"event", "rollback"}});
  read = log.read("ep");
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.events[1]["event"], "rollback");
  EXPECT_EQ(read.skipped_lines, 1u);  // the torn line stays on its own
  EXPECT_TRUE(log.read("never").events.empty());
}

TEST_F(HistoryTest, EveryChangeIsRecordedWithCauseVersionsAndMetrics) {
  publish_with_cv(home, "m", 1, 0.90, 0.70);
  publish_with_cv(home, "m", 2, 0.85, 0.66);
  deploy("ep", "models:/m/1", std::nullopt, "sql");
  deploy("ep", "models:/m", std::nullopt, "http");  // resolves to (and pins) version 2
  const auto e = events("ep");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0]["seq"], 1);
  EXPECT_EQ(e[0]["event"], "deploy");
  EXPECT_EQ(e[0]["cause"], "sql");
  EXPECT_TRUE(e[0]["old"].is_null());
  EXPECT_EQ(e[0]["new"]["version"], 1);
  EXPECT_EQ(e[0]["new"]["cv_rmse"], 0.90);
  EXPECT_EQ(e[1]["cause"], "http");
  EXPECT_EQ(e[1]["generation"], 2);
  EXPECT_EQ(e[1]["old"]["version"], 1);
  EXPECT_EQ(e[1]["old"]["cv_mae"], 0.70);
  EXPECT_EQ(e[1]["new"]["version"], 2);
  EXPECT_EQ(e[1]["new"]["model_uri"], "models:/m/2");
  EXPECT_EQ(e[1]["new"]["cv_rmse"], 0.85);
  EXPECT_FALSE(e[1]["time"].get<std::string>().empty());
}

TEST_F(HistoryTest, RollbackWalksBackThroughTheHistoryThenRefuses) {
  for (int v = 1; v <= 3; ++v) testing::publish_random(home, "m", v);
  for (int v = 1; v <= 3; ++v) deploy("ep", "models:/m/" + std::to_string(v));
  EXPECT_EQ(store.rollback_target("ep")->value("version", 0), 2);
  auto o = store.rollback("ep", std::nullopt, "sql");
  EXPECT_EQ(o.event, "rollback");
  EXPECT_EQ(o.deployed.endpoint.model_version, 2);
  EXPECT_EQ(o.deployed.endpoint.generation, 4u);
  EXPECT_EQ(o.deployed.artifact->model->n_users(), 20u);  // loaded and validated
  EXPECT_EQ(o.previous["version"], 3);
  EXPECT_EQ(store.rollback("ep", std::nullopt, "cli").deployed.endpoint.model_version, 1);
  EXPECT_FALSE(store.rollback_target("ep"));
  std::string message;
  EXPECT_EQ(kind_of([&] { store.rollback("ep", std::nullopt, "cli"); }, &message),
            ErrorKind::kConflict);
  EXPECT_THAT(message, HasSubstr("no previous version"));
  EXPECT_EQ(store.get("ep").model_version, 1);

  // A named version, then "previous" is the one before it.
  EXPECT_EQ(store.rollback("ep", 3, "http").deployed.endpoint.model_version, 3);
  EXPECT_EQ(store.rollback("ep", std::nullopt, "http").deployed.endpoint.model_version, 1);
  const auto e = events("ep");
  ASSERT_EQ(e.size(), 7u);
  EXPECT_EQ(e[3]["event"], "rollback");
  EXPECT_EQ(e[3]["to_previous"], true);
  EXPECT_EQ(e[5]["to_previous"], false);
  EXPECT_EQ(e[6]["cause"], "http");
}

TEST_F(HistoryTest, RollbackErrorsNameTheProblemAndChangeNothing) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  std::string message;
  EXPECT_EQ(kind_of([&] { store.rollback("nope", std::nullopt, "cli"); }, &message),
            ErrorKind::kNotFound);
  EXPECT_THAT(message, HasSubstr("no endpoint named 'nope'"));
  deploy("ep", "models:/m/1");
  EXPECT_EQ(kind_of([&] { store.rollback("ep", std::nullopt, "cli"); }, &message),
            ErrorKind::kConflict);
  EXPECT_EQ(kind_of([&] { store.rollback("ep", 9, "cli"); }, &message), ErrorKind::kNotFound);
  EXPECT_THAT(message, HasSubstr("version 9"));
  EXPECT_EQ(kind_of([&] { store.rollback("ep", 1, "cli"); }, &message), ErrorKind::kConflict);
  EXPECT_THAT(message, HasSubstr("already serves version 1"));
  EXPECT_EQ(kind_of([&] { store.rollback("../x", std::nullopt, "cli"); }), ErrorKind::kUsage);
  EXPECT_EQ(store.get("ep").generation, 1u);
  EXPECT_EQ(events("ep").size(), 1u);
}

TEST_F(HistoryTest, RollbackToADamagedVersionIsRecordedAndLeavesTheEndpoint) {
  testing::publish_random(home, "m", 1);
  const auto v2 = testing::publish_random(home, "m", 2);
  deploy("ep", "models:/m/2");
  deploy("ep", "models:/m/1");
  testing::corrupt_file(v2);
  EXPECT_EQ(kind_of([&] { store.rollback("ep", std::nullopt, "cli"); }), ErrorKind::kCorrupt);
  EXPECT_EQ(store.get("ep").model_version, 1);
  const auto e = events("ep");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[2]["event"], "load_failed");
  EXPECT_THAT(e[2]["reason"].get<std::string>(), HasSubstr("checksum"));
}

TEST_F(HistoryTest, AChangeWhoseHistoryWasLostIsReconstructedFromTheRecord) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  testing::publish_random(home, "m", 3);
  deploy("ep", "models:/m/1");
  deploy("ep", "models:/m/2");
  // The process died after writing the record of generation 3, before its history line.
  const auto log_path = store.dir() / "history" / "ep.jsonl";
  const std::string before = read_file(log_path);
  deploy("ep", "models:/m/3");
  write_file_atomic(log_path, before);
  const auto e = events("ep");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[2]["reconstructed"], true);
  EXPECT_EQ(e[2]["generation"], 3);
  EXPECT_EQ(e[2]["old"]["version"], 2);
  EXPECT_EQ(e[2]["new"]["version"], 3);
  EXPECT_EQ(store.rollback("ep", std::nullopt, "cli").deployed.endpoint.model_version, 2);
  EXPECT_EQ(events("ep").size(), 4u);  // reconstructed once, not again
}

TEST_F(HistoryTest, AnEndpointOlderThanItsHistoryKeepsWhatItServedForRollback) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  deploy("ep", "models:/m/1");
  std::filesystem::remove(store.dir() / "history" / "ep.jsonl");  // as before histories
  deploy("ep", "models:/m/2");
  EXPECT_EQ(store.rollback("ep", std::nullopt, "cli").deployed.endpoint.model_version, 1);
  const auto e = events("ep");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0]["reconstructed"], true);
  EXPECT_THAT(e[0]["reason"].get<std::string>(), HasSubstr("before reco kept its history"));
}

TEST_F(HistoryTest, DeleteIsRecordedAndARecreatedEndpointStartsOver) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  deploy("ep", "models:/m/1");
  deploy("ep", "models:/m/2");
  EXPECT_TRUE(store.remove("ep", "cli"));
  EXPECT_EQ(events("ep").back()["event"], "delete");  // the history outlives the endpoint
  deploy("ep", "models:/m/2");
  EXPECT_EQ(kind_of([&] { store.rollback("ep", std::nullopt, "cli"); }), ErrorKind::kConflict);
  EXPECT_EQ(events("ep").size(), 4u);
  EXPECT_EQ(kind_of([&] { store.history("never-deployed"); }), ErrorKind::kNotFound);
}

TEST_F(HistoryTest, AServerThatCannotLoadADeploymentRecordsItOnce) {
  testing::publish_random(home, "m", 1);
  const auto v2 = testing::publish_random(home, "m", 2);
  deploy("ep", "models:/m/1");
  LiveModels live(store, std::chrono::milliseconds(0));
  EXPECT_EQ(live.get("ep")->endpoint.model_version, 1);
  deploy("ep", "models:/m/2");
  testing::corrupt_file(v2);  // damaged after it was deployed
  for (int i = 0; i < 3; ++i) {
    live.refresh_all();
    EXPECT_EQ(live.get("ep")->endpoint.model_version, 1);  // the old model keeps serving
  }
  LiveModels another_server(store, std::chrono::milliseconds(0));
  EXPECT_EQ(kind_of([&] { another_server.get("ep"); }), ErrorKind::kCorrupt);
  const auto e = events("ep");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[2]["event"], "load_failed");
  EXPECT_EQ(e[2]["generation"], 2);
  EXPECT_EQ(e[2]["old"]["version"], 1);
  EXPECT_EQ(e[2]["new"]["version"], 2);
  EXPECT_THAT(e[2]["detected_by"].get<std::string>(), HasSubstr("reco process"));
  // ... and the way out is a rollback.
  EXPECT_EQ(store.rollback("ep", std::nullopt, "cli").deployed.endpoint.model_version, 1);
}

TEST_F(HistoryTest, PromotionDeploysOnlyAVersionThatBeatsTheServingOneByTheMargin) {
  publish_with_cv(home, "m", 1, 0.900, 0.700);
  publish_with_cv(home, "m", 2, 0.899, 0.690);  // better by 0.001 only
  publish_with_cv(home, "m", 3, 0.850, 0.720);  // better rmse, worse mae
  const PromotionPolicy by_rmse{"rmse", 0.005, false};
  // A new endpoint has nothing to beat.
  auto o = deploy("ep", "models:/m/1", by_rmse);
  EXPECT_TRUE(o.applied);
  EXPECT_TRUE(o.created);
  EXPECT_THAT(o.reason, HasSubstr("no serving version"));

  o = deploy("ep", "models:/m/2", by_rmse);
  EXPECT_FALSE(o.applied);
  EXPECT_EQ(o.event, "promotion_refused");
  EXPECT_THAT(o.reason, HasSubstr("does not beat the margin 0.005"));
  EXPECT_NEAR(o.promotion["improvement"].get<double>(), 0.001, 1e-12);
  EXPECT_EQ(o.promotion["comparable"], true);
  EXPECT_EQ(o.deployed.endpoint.model_version, 1);
  EXPECT_EQ(store.get("ep").model_version, 1);
  EXPECT_EQ(store.get("ep").generation, 1u);
  const json result = deploy_result(o);
  EXPECT_EQ(result["status"], "PromotionRefused");
  EXPECT_EQ(result["promoted"], false);
  EXPECT_EQ(result["candidate"]["version"], 2);

  o = deploy("ep", "models:/m/3", PromotionPolicy{"mae", 0, false});
  EXPECT_FALSE(o.applied);  // mae got worse
  o = deploy("ep", "models:/m/3", by_rmse);
  EXPECT_TRUE(o.applied);
  EXPECT_EQ(store.get("ep").model_version, 3);
  EXPECT_EQ(deploy_result(o)["promoted"], true);

  // A tie never beats, even with margin 0.
  EXPECT_FALSE(deploy("ep", "models:/m/3", PromotionPolicy{"rmse", 0, false}).applied);

  const auto e = events("ep");
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[1]["event"], "promotion_refused");
  EXPECT_EQ(e[1]["generation"], 1);
  EXPECT_EQ(e[1]["promotion"]["metric"], "rmse");
  EXPECT_EQ(e[3]["event"], "deploy");
  EXPECT_EQ(e[3]["promotion"]["promoted"], true);
  // Refusals do not count as deployments for rollback.
  EXPECT_EQ(store.rollback("ep", std::nullopt, "cli").deployed.endpoint.model_version, 1);
}

TEST_F(HistoryTest, PromotionAcrossDataSetsSaysSoAndCanBeRequiredToMatch) {
  publish_with_cv(home, "m", 1, 0.90, 0.70, "aaaa");
  publish_with_cv(home, "m", 2, 0.80, 0.60, "bbbb");
  publish_with_cv(home, "m", 3, 0.70, 0.50, "aaaa", 3);
  deploy("ep", "models:/m/1");
  auto o = deploy("ep", "models:/m/2", PromotionPolicy{"rmse", 0, true});
  EXPECT_FALSE(o.applied);
  EXPECT_THAT(o.reason, HasSubstr("require_same_data"));
  EXPECT_THAT(o.reason, HasSubstr("different data"));
  EXPECT_EQ(kind_of([&] {
              deploy("nope", "models:/m/2", PromotionPolicy{"rmse", -1, false});
            }),
            ErrorKind::kUsage);
  o = deploy("ep", "models:/m/3", PromotionPolicy{"rmse", 0, true});
  EXPECT_FALSE(o.applied);  // same data, other folds
  EXPECT_THAT(o.reason, HasSubstr("different cross-validation splits"));
  o = deploy("ep", "models:/m/2", PromotionPolicy{"rmse", 0, false});
  EXPECT_TRUE(o.applied);
  EXPECT_EQ(o.promotion["same_data"], false);
  EXPECT_EQ(o.promotion["comparable"], false);
  EXPECT_THAT(o.promotion["note"].get<std::string>(), HasSubstr("fingerprint aaaa"));
}

TEST_F(HistoryTest, AMetricTheModelDoesNotReportIsAClearError) {
  publish_with_cv(home, "m", 1, 0.90, 0.70);
  publish_with_cv(home, "m", 2, -1, -1);  // trained with folds = 0
  deploy("ep", "models:/m/1");
  EXPECT_THAT(
      deploy_error("ep", "models:/m/2", PromotionPolicy{"rmse", 0, false}, ErrorKind::kInput),
      HasSubstr("candidate models:/m/2 reports no cross-validated rmse"));
  EXPECT_THAT(
      deploy_error("ep", "models:/m/1", PromotionPolicy{"ndcg", 0, false}, ErrorKind::kUsage),
      HasSubstr("unknown metric 'ndcg'"));
  // The serving version lacking it is as clear.
  deploy("ep2", "models:/m/2");
  EXPECT_THAT(
      deploy_error("ep2", "models:/m/1", PromotionPolicy{"mae", 0, false}, ErrorKind::kInput),
      HasSubstr("serving version models:/m/2 reports no cross-validated mae"));
  EXPECT_EQ(store.get("ep").generation, 1u);
}

TEST_F(HistoryTest, RankingMetricsAreHigherIsBetterAndTheirCutOffMustMatch) {
  registry::ModelRegistry models(home.models_dir());
  auto publish = [&](uint64_t seed, double ndcg) {
    const auto version = models.reserve_version("m");
    json metadata = {{"seed", 42}, {"data", {{"table", "ratings"}, {"fingerprint", "f"}}}};
    metadata["cv"] = {{"folds", 5},
                      {"mean", {{"rmse", 0.9}, {"mae", 0.7}, {"ndcg@10", ndcg}, {"obscurity", 3}}}};
    models.publish(version, registry::testing::random_model(seed, {20, 30, 4}), metadata, {});
  };
  publish(1, 0.20);
  publish(2, 0.25);
  publish(3, 0.24);
  deploy("ep", "models:/m/1");
  auto o = deploy("ep", "models:/m/2", PromotionPolicy{"NDCG@10", 0.01, false});
  EXPECT_TRUE(o.applied) << o.reason;
  EXPECT_EQ(o.promotion["direction"], "higher is better");
  EXPECT_NEAR(o.promotion["improvement"].get<double>(), 0.05, 1e-12);
  EXPECT_FALSE(deploy("ep", "models:/m/3", PromotionPolicy{"ndcg@10", 0, false}).applied);
  EXPECT_THAT(
      deploy_error("ep", "models:/m/3", PromotionPolicy{"ndcg@20", 0, false}, ErrorKind::kInput),
      HasSubstr("reports no cross-validated ndcg@20; it reports mae, ndcg@10"));
  EXPECT_THAT(
      deploy_error("ep", "models:/m/3", PromotionPolicy{"obscurity", 0, false}, ErrorKind::kUsage),
      HasSubstr("ndcg@K"));
  // The history keeps every mean of each side.
  EXPECT_EQ(events("ep")[1]["new"]["cv_mean"]["ndcg@10"], 0.25);
}

TEST(PromotionOptions, ParseAndNameEveryMistake) {
  EXPECT_FALSE(parse_promotion_options(""));
  EXPECT_FALSE(parse_promotion_options("{}"));
  auto p = parse_promotion_options(R"({"promote_if": {"metric": "mae", "margin": "0.01"}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->metric, "mae");
  EXPECT_DOUBLE_EQ(p->margin, 0.01);
  EXPECT_FALSE(p->require_same_data);
  p = parse_promotion_options(R"({"promote_if": "rmse"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->metric, "rmse");
  EXPECT_DOUBLE_EQ(p->margin, 0);
  auto error = [](const char* text) {
    try {
      parse_promotion_options(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(error("[1]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error(R"({"promote": 1})"), HasSubstr("unknown deploy option 'promote'"));
  EXPECT_THAT(error(R"({"promote_if": {"metric": "auc"}})"), HasSubstr("unknown metric 'auc'"));
  EXPECT_THAT(error(R"({"promote_if": {"margin": -0.1}})"), HasSubstr("margin must be"));
  EXPECT_THAT(error(R"({"promote_if": {"margin": "x"}})"), HasSubstr("margin must be a number"));
  EXPECT_THAT(error(R"({"promote_if": {"metrc": "rmse"}})"), HasSubstr("unknown promote_if key"));
  EXPECT_THAT(error(R"({"promote_if": 3})"), HasSubstr("promote_if must be"));
  EXPECT_THAT(error(R"({"promote_if": {"require_same_data": 1}})"),
              HasSubstr("require_same_data must be"));
}

}  // namespace
}  // namespace reco::deployment
