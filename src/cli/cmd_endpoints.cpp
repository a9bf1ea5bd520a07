// reco endpoints: list, inspect, deploy, roll back and delete named real-time endpoints, and
// show their deployment history.
#include <fmt/format.h>

#include "cli/context.h"
#include "cli/table_format.h"
#include "core/error.h"
#include "core/json.h"
#include "deployment/endpoints.h"

namespace reco::cli {
namespace {

std::string version_text(const deployment::Endpoint& e) {
  return e.model_version ? std::to_string(e.model_version) : "";
}

void print_endpoint(const deployment::Endpoint& e) {
  TextTable t({"field", "value"});
  t.add({"endpoint", e.name});
  t.add({"model", e.model_name.empty() ? "(outside the registry)" : e.model_name});
  t.add({"version", version_text(e)});
  t.add({"algorithm", e.algorithm});
  t.add({"model_uri", e.model_uri});
  t.add({"artifact", e.artifact_uri});
  t.add({"generation", std::to_string(e.generation)});
  t.add({"created", e.created_at});
  t.add({"since", e.updated_at});
  fmt::print("{}", t.render());
}

std::string side_text(const nlohmann::json& side) {
  if (!side.is_object()) return "-";
  if (side.contains("version") && side["version"].is_number())
    return fmt::format("{}/{}", side.value("model", ""), side["version"].get<int>());
  return side.value("model_uri", side.value("artifact_uri", "?"));
}

std::string metric_text(const nlohmann::json& side, const char* key) {
  if (!side.is_object() || !side.contains(key) || !side[key].is_number()) return "-";
  return fmt::format("{:.4f}", side[key].get<double>());
}

void print_history(const deployment::HistoryRead& history) {
  TextTable t({"seq", "time", "event", "cause", "gen", "old", "new", "old rmse", "new rmse",
               "old mae", "new mae", "reason"});
  t.right_align({0, 4, 7, 8, 9, 10});
  for (const auto& e : history.events) {
    const nlohmann::json old_side = e.value("old", nlohmann::json());
    const nlohmann::json new_side = e.value("new", nlohmann::json());
    std::string event = e.value("event", "?");
    if (e.value("reconstructed", false)) event += " (reconstructed)";
    t.add({std::to_string(e.value("seq", uint64_t{0})), e.value("time", ""), event,
           e.value("cause", ""), std::to_string(e.value("generation", uint64_t{0})),
           side_text(old_side), side_text(new_side), metric_text(old_side, "cv_rmse"),
           metric_text(new_side, "cv_rmse"), metric_text(old_side, "cv_mae"),
           metric_text(new_side, "cv_mae"), e.value("reason", "")});
  }
  fmt::print("{}", t.render());
  if (history.skipped_lines > 0)
    fmt::print("({} damaged or torn line(s) of the history file were skipped)\n",
               history.skipped_lines);
}

// What deploy and rollback print.
void print_outcome(const deployment::DeployOutcome& o, bool json) {
  if (json) {
    fmt::print("{}\n", json_text(deployment::deploy_result(o), 2));
    return;
  }
  if (!o.applied) {
    fmt::print("endpoint {} unchanged: {}\n", o.deployed.endpoint.name, o.reason);
    return;
  }
  const char* verb = o.event == "rollback" ? "rolled back" : o.created ? "created" : "updated";
  fmt::print("{} endpoint {} (generation {})\n", verb, o.deployed.endpoint.name,
             o.deployed.endpoint.generation);
  if (!o.reason.empty()) fmt::print("{}\n", o.reason);
  print_endpoint(o.deployed.endpoint);
}

}  // namespace

void register_endpoints(Command& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  Command cmd = app.add_subcommand(
      "endpoints",
      "List, inspect, deploy, roll back and delete real-time endpoints (served by `reco serve`), "
      "and show their deployment history");
  cmd.flag("--json", *json, "Print JSON instead of a table");
  cmd.footer(
      "Without a subcommand, lists the endpoints.\n"
      "Examples:\n"
      "  reco endpoints deploy movielens-model-v1 models:/ratings\n"
      "  reco endpoints deploy movielens-model-v1 models:/ratings --promote-if rmse --margin "
      "0.001\n"
      "  reco endpoints rollback movielens-model-v1\n"
      "  reco endpoints history movielens-model-v1\n"
      "  reco endpoints show movielens-model-v1");

  cmd.callback([cmd, json, &ctx] {
    if (cmd.subcommand_given()) return;
    deployment::EndpointStore store(ctx.home());
    const auto all = store.list();
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : all) out.push_back(e.to_json());
      fmt::print("{}\n", json_text(out, 2));
      return;
    }
    TextTable table(
        {"endpoint", "model", "version", "algorithm", "generation", "since", "artifact"});
    table.right_align({2, 4});
    for (const auto& e : all) {
      table.add({e.name, e.model_name, version_text(e), e.algorithm, std::to_string(e.generation),
                 e.updated_at, e.artifact_uri});
    }
    fmt::print("{}", table.render());
    if (all.empty())
      fmt::print(
          "(no endpoints: deploy one with `reco endpoints deploy NAME models:/MODEL` or "
          "deploy_model in SQL)\n");
  });

  auto name = std::make_shared<std::string>();
  Command show = cmd.add_subcommand("show", "Show one endpoint");
  show.option("name", *name, "Endpoint name").required();
  show.callback([name, json, &ctx] {
    deployment::EndpointStore store(ctx.home());
    const auto e = store.get(*name);
    if (*json)
      fmt::print("{}\n", json_text(e.to_json(), 2));
    else
      print_endpoint(e);
  });

  auto url = std::make_shared<std::string>();
  auto promote_if = std::make_shared<std::optional<std::string>>();
  auto margin = std::make_shared<double>(0.0);
  auto same_data = std::make_shared<bool>(false);
  Command deploy = cmd.add_subcommand(
      "deploy", "Create or update an endpoint (the artifact is validated before anything changes)");
  deploy.option("name", *name, "Endpoint name").required();
  deploy
      .option("model_url", *url, "models:/NAME[/VERSION], file:// URI or path of a model artifact")
      .required();
  deploy.option("--promote-if", *promote_if,
                "Deploy only if the new version's cross-validated METRIC beats the serving "
                "version's by --margin: " +
                    deployment::known_metrics_text());
  Option margin_option = deploy.option(
      "--margin", *margin,
      "With --promote-if: how much better, in the metric's units, the new version must be");
  margin_option.range(0, 1e300);
  Option same_data_option = deploy.flag(
      "--require-same-data", *same_data,
      "With --promote-if: refuse unless both versions were cross-validated on the same data "
      "with the same folds and seed");
  deploy.footer(
      "With --promote-if, a version that does not beat the serving one leaves the endpoint as "
      "it is (exit 0; the history records the refusal and why).");
  deploy.callback([name, url, promote_if, margin, same_data, margin_option, same_data_option, json,
                   &ctx] {
    deployment::EndpointStore store(ctx.home());
    deployment::DeployRequest request;
    request.name = *name;
    request.model_uri = *url;
    request.cause = "cli";
    if (promote_if->has_value()) {
      request.promote_if = deployment::PromotionPolicy{**promote_if, *margin, *same_data};
    } else if (margin_option.given() || same_data_option.given()) {
      throw Error(ErrorKind::kUsage, "--margin and --require-same-data need --promote-if METRIC");
    }
    print_outcome(store.deploy(request), *json);
  });

  auto to_version = std::make_shared<std::optional<int>>();
  Command rollback = cmd.add_subcommand(
      "rollback",
      "Put an endpoint back on the version it served before (or on --to VERSION of its model)");
  rollback.option("name", *name, "Endpoint name").required();
  rollback.option("--to", *to_version, "Version of the endpoint's model to go back to")
      .range(1, 2147483647);
  rollback.footer(
      "Without --to, goes to the previous deployment in the endpoint's history; rolling back "
      "again goes further back. Running servers swap models without failing a request.");
  rollback.callback([name, to_version, json, &ctx] {
    deployment::EndpointStore store(ctx.home());
    print_outcome(store.rollback(*name, *to_version, "cli"), *json);
  });

  Command history = cmd.add_subcommand(
      "history", "Show an endpoint's deployment history: every change and refused promotion");
  history.option("name", *name, "Endpoint name").required();
  history.callback([name, json, &ctx] {
    deployment::EndpointStore store(ctx.home());
    const auto h = store.history(*name);
    if (*json) {
      fmt::print(
          "{}\n",
          json_text({{"endpoint", *name}, {"events", h.events}, {"skipped_lines", h.skipped_lines}},
                    2));
      return;
    }
    print_history(h);
  });

  Command del = cmd.add_subcommand("delete", "Delete an endpoint (its model artifact stays)");
  del.option("name", *name, "Endpoint name").required();
  del.callback([name, &ctx] {
    deployment::EndpointStore store(ctx.home());
    if (!store.remove(*name, "cli"))
      store.get(*name);  // throws kNotFound naming the known endpoints
    fmt::print("deleted endpoint {}\n", *name);
  });
}

}  // namespace reco::cli
