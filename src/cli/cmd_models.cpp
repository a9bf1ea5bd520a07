#include <fmt/format.h>

#include "cli/context.h"
#include "cli/table_format.h"
#include "core/error.h"
#include "core/json.h"
#include "registry/model_registry.h"

namespace reco::cli {

void register_models(Command& app, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  Command cmd =
      app.add_subcommand("models", "List trained models and their versions with CV metrics");
  cmd.option("name", *name, "Only this model");
  cmd.flag("--json", *json, "Print JSON instead of a table");
  cmd.callback([name, json, &ctx] {
    registry::ModelRegistry models(ctx.home().models_dir());
    auto all = models.list();
    if (!name->empty()) {
      registry::ModelRegistry::validate_name(*name);
      std::erase_if(all, [&](const auto& m) { return m.name != *name; });
      if (all.empty()) throw Error(ErrorKind::kNotFound, fmt::format("no model named '{}'", *name));
    }
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& m : all) {
        out.push_back(
            {{"model", m.name},
             {"version", m.version},
             {"artifact_uri", registry::artifact_uri(m.artifact_path)},
             {"bytes", m.file_size},
             {"problem", m.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.problem)},
             {"metadata", parse_json(m.metadata)}});
      }
      fmt::print("{}\n", json_text(out, 2));
      return;
    }
    TextTable table({"model", "version", "algorithm", "ratings", "users", "items", "rmse", "mae",
                     "created", "artifact"});
    table.right_align({1, 3, 4, 5, 6, 7});
    for (const auto& m : all) {
      if (!m.problem.empty()) {
        table.add({m.name, std::to_string(m.version), "DAMAGED: " + m.problem, "", "", "", "", "",
                   "", m.artifact_path.string()});
        continue;
      }
      table.add({m.name, std::to_string(m.version), m.algorithm, std::to_string(m.n_ratings),
                 std::to_string(m.n_users), std::to_string(m.n_items),
                 m.cv_rmse ? fmt::format("{:.4f}", *m.cv_rmse) : "",
                 m.cv_mae ? fmt::format("{:.4f}", *m.cv_mae) : "", m.created_at,
                 m.artifact_path.string()});
    }
    fmt::print("{}", table.render());
    if (all.empty())
      fmt::print("(no models yet: train one with `reco train` or train_and_get_recommendations)\n");
  });
}

}  // namespace reco::cli
