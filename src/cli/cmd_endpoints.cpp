// reco endpoints: list, inspect, deploy and delete named real-time endpoints.
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

}  // namespace

void register_endpoints(Command& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  Command cmd = app.add_subcommand(
      "endpoints", "List, inspect, deploy and delete real-time endpoints (served by `reco serve`)");
  cmd.flag("--json", *json, "Print JSON instead of a table");
  cmd.footer(
      "Without a subcommand, lists the endpoints.\n"
      "Examples:\n"
      "  reco endpoints deploy movielens-model-v1 models:/ratings\n"
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
  Command deploy = cmd.add_subcommand(
      "deploy", "Create or update an endpoint (the artifact is validated before anything changes)");
  deploy.option("name", *name, "Endpoint name").required();
  deploy
      .option("model_url", *url, "models:/NAME[/VERSION], file:// URI or path of a model artifact")
      .required();
  deploy.callback([name, url, json, &ctx] {
    deployment::EndpointStore store(ctx.home());
    bool created = false;
    const auto d = store.deploy(*name, *url, &created);
    if (*json) {
      fmt::print("{}\n", json_text(deployment::deploy_result(d, created), 2));
      return;
    }
    fmt::print("{} endpoint {} (generation {})\n", created ? "created" : "updated", d.endpoint.name,
               d.endpoint.generation);
    print_endpoint(d.endpoint);
  });

  Command del = cmd.add_subcommand("delete", "Delete an endpoint (its model artifact stays)");
  del.option("name", *name, "Endpoint name").required();
  del.callback([name, &ctx] {
    deployment::EndpointStore store(ctx.home());
    if (!store.remove(*name)) store.get(*name);  // throws kNotFound naming the known endpoints
    fmt::print("deleted endpoint {}\n", *name);
  });
}

}  // namespace reco::cli
