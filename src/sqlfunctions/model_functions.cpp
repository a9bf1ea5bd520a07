// deploy_model, invoke_model and recommend: the real-time half of the guide, answered
// in-process from the endpoints recorded in the reco home.

#include <fmt/format.h>

#include "core/error.h"
#include "core/json.h"
#include "deployment/live_models.h"
#include "recommendation/fold_in.h"
#include "recommendation/top_n.h"
#include "sqlfunctions/function_support.h"

namespace reco::sqlfunctions {
using nlohmann::json;

namespace {

constexpr int64_t kMaxK = 10000;

struct CachedModel {
  std::shared_ptr<const deployment::LiveModel> live;
};

std::string required_text(sqlite3_value** argv, int k, const char* function,
                          const char* parameter) {
  auto text = text_arg(argv, k);
  if (text && !text->empty()) return *text;
  throw Error(ErrorKind::kUsage, std::string(function) + ": " + parameter + " is empty");
}

// The optional third argument k of recommend and recommend_for: 10 when absent, nullopt for NULL.
std::optional<int64_t> k_arg(int argc, sqlite3_value** argv, const char* function) {
  if (argc <= 2) return 10;
  const auto k = id_arg(argv, 2, function, "k");
  if (k && (*k < 1 || *k > kMaxK)) {
    throw Error(ErrorKind::kUsage, "k must be between 1 and " + std::to_string(kMaxK) +
                                       ", got " + std::to_string(*k));
  }
  return k;
}

}  // namespace

// deploy_model(endpoint_name, model_url [, options_json]): create or update the endpoint; the
// artifact is loaded and validated before anything is recorded. Options: a promotion policy
// (deployment/promotion.h); NULL options are no options.
void deploy_model(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "deploy_model";
  const auto& env = environment(ctx);
  try {
    if (!text_arg(argv, 0) || !text_arg(argv, 1)) return sqlite3_result_null(ctx);
    deployment::DeployRequest request;
    request.name = required_text(argv, 0, kName, "model_name");
    request.model_uri = required_text(argv, 1, kName, "model_url");
    request.cause = env.cause;
    if (argc > 2) {
      if (const auto options = text_arg(argv, 2))
        request.promote_if = deployment::parse_promotion_options(*options);
    }
    const auto outcome = env.endpoints->deploy(request);
    if (outcome.applied) env.live_models->install(outcome.deployed);
    result_json(ctx, json_text(deployment::deploy_result(outcome)));
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

// rollback_model(endpoint_name [, version]): back to the previous deployment, or to version N
// of the model the endpoint serves; NULL in any argument gives NULL.
void rollback_model(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "rollback_model";
  const auto& env = environment(ctx);
  try {
    if (!text_arg(argv, 0)) return sqlite3_result_null(ctx);
    const std::string name = required_text(argv, 0, kName, "endpoint_name");
    std::optional<int> version;
    if (argc > 1) {
      const auto v = id_arg(argv, 1, kName, "version");
      if (!v) return sqlite3_result_null(ctx);
      if (*v < 1 || *v > INT32_MAX)
        throw Error(ErrorKind::kUsage,
                    fmt::format("{}: version must be a positive integer, got {}", kName, *v));
      version = static_cast<int>(*v);
    }
    const auto outcome = env.endpoints->rollback(name, version, env.cause);
    env.live_models->install(outcome.deployed);
    result_json(ctx, json_text(deployment::deploy_result(outcome)));
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

// invoke_model(endpoint_name, user_id, item_id): the clipped predicted rating. Unknown users or
// items get the fallback estimate (docs/ALGORITHMS.md), as the original service did.
void invoke_model(sqlite3_context* ctx, int, sqlite3_value** argv) {
  constexpr const char* kName = "invoke_model";
  const auto& env = environment(ctx);
  try {
    const auto user = id_arg(argv, 1, kName, "user_id");
    const auto item = id_arg(argv, 2, kName, "item_id");
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || !user || !item)
      return sqlite3_result_null(ctx);
    // One statement uses one model throughout: when the endpoint name is a constant, SQLite
    // keeps the model found for the first row (auxdata) for the rest of the statement, which
    // also skips the per-row lookup. The next statement sees a redeployment.
    std::shared_ptr<const deployment::LiveModel> live;
    if (auto* cached = static_cast<CachedModel*>(sqlite3_get_auxdata(ctx, 0))) {
      live = cached->live;
    } else {
      live = env.live_models->get(*text_arg(argv, 0));
      sqlite3_set_auxdata(ctx, 0, new CachedModel{live},
                          [](void* p) { delete static_cast<CachedModel*>(p); });
    }
    sqlite3_result_double(ctx, live->model().predict(*user, *item));
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

// recommend(endpoint_name, user_id [, k = 10]): JSON array of the k best items the user has not
// rated, best first; an unknown user gets the items with the highest baseline estimate.
void recommend(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "recommend";
  const auto& env = environment(ctx);
  try {
    const auto name = text_arg(argv, 0);
    const auto user = id_arg(argv, 1, kName, "user_id");
    const std::optional<int64_t> k = k_arg(argc, argv, kName);
    if (!k) return sqlite3_result_null(ctx);
    if (!name || !user) return sqlite3_result_null(ctx);
    const auto live = env.live_models->get(*name);
    const auto& model = live->model();
    const auto top = recommendation::top_n_for_user(model, *user, static_cast<size_t>(*k));
    json ids = json::array();
    for (const auto& s : top) ids.push_back(model.items.raw(s.item));
    result_json(ctx, json_text(ids));
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

// recommend_for(endpoint_name, ratings_json [, k = 10]): a new user's top-k from their ratings,
// the endpoint's model unchanged (recommendation/fold_in.h).
void recommend_for(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "recommend_for";
  const auto& env = environment(ctx);
  try {
    const auto name = text_arg(argv, 0);
    const auto ratings = text_arg(argv, 1);
    const std::optional<int64_t> k = k_arg(argc, argv, kName);
    if (!k) return sqlite3_result_null(ctx);
    if (!name || !ratings) return sqlite3_result_null(ctx);
    const std::optional<json> parsed = try_parse_json(*ratings);
    if (!parsed) throw Error(ErrorKind::kUsage, "ratings_json is not valid JSON");
    const auto live = env.live_models->get(*name);
    const json metadata = reco::parse_json(live->artifact->metadata);
    const auto reg = recommendation::FoldInRegularization::from_hyperparameters(
        live->model().algorithm, metadata.value("hyperparameters", json::object()));
    const auto result = recommendation::fold_in(
        live->model(), reg, recommendation::ratings_from_json(*parsed), static_cast<size_t>(*k));
    result_json(ctx, json_text(recommendation::fold_in_json(live->model(), result)));
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

}  // namespace reco::sqlfunctions
