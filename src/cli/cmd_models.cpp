#include <charconv>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/table_format.h"
#include "core/error.h"
#include "core/json.h"
#include "registry/model_registry.h"
#include "training/retention.h"

namespace reco::cli {

void register_models(Command& app, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  Command cmd =
      app.add_subcommand("models", "List trained models and their versions with CV metrics");
  cmd.option("name", *name, "Only this model");
  cmd.flag("--json", *json, "Print JSON instead of a table");
  cmd.footer(
      "Without a subcommand, lists the complete versions. Versions are kept by each model's "
      "policy (default: the newest 20), applied after every training; a version an endpoint "
      "serves and the newest one are never removed.");
  cmd.callback([cmd, name, json, &ctx] {
    if (cmd.subcommand_given()) return;
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

  const auto print_report = [](const training::RetentionReport& r) {
    for (const auto& v : r.removed) fmt::print("removed models:/{}/{}\n", v.name, v.number);
    for (const auto& k : r.kept_in_use) fmt::print("kept {}: in use\n", k);
    if (r.removed.empty()) fmt::print("nothing to remove\n");
  };

  auto gc_model = std::make_shared<std::string>();
  Command gc = cmd.add_subcommand(
      "gc", "Remove the versions each model's retention policy lets go (or only NAME's)");
  gc.option("name", *gc_model, "Only this model");
  gc.callback([gc_model, print_report, &ctx] {
    print_report(training::apply_retention(
        ctx.home(), gc_model->empty() ? std::nullopt : std::optional<std::string>(*gc_model)));
  });

  auto target = std::make_shared<std::string>();
  Command del = cmd.add_subcommand(
      "delete",
      "Delete a model version (NAME/VERSION) or a whole model (NAME); refused while an "
      "endpoint serves it");
  del.option("model", *target, "NAME or NAME/VERSION (VERSION: 3 or v3)").required();
  del.callback([target, print_report, &ctx] {
    std::string name = *target;
    std::optional<int> version;
    if (const auto slash = name.find('/'); slash != std::string::npos) {
      std::string v = name.substr(slash + 1);
      name.resize(slash);
      if (!v.empty() && v[0] == 'v') v.erase(0, 1);
      int n = 0;
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 1) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("'{}' is not NAME/VERSION (a positive version number)", *target));
      }
      version = n;
    }
    print_report(training::delete_versions(ctx.home(), name, version));
  });

  struct PolicyArgs {
    std::string name;
    int keep_versions = -1;  // -1: not given
    int keep_days = -1;
  };
  auto pa = std::make_shared<PolicyArgs>();
  Command pol = cmd.add_subcommand(
      "policy", "Show or set a model's retention policy (versions kept, and for how long)");
  pol.option("name", pa->name, "The model").required();
  pol.option("--keep-versions", pa->keep_versions, "Keep the newest N versions (N >= 1)");
  pol.option("--keep-days", pa->keep_days,
             "Also remove versions older than D days (0: no age limit)");
  pol.callback([pa, &ctx] {
    registry::ModelRegistry models(ctx.home().models_dir());
    registry::RetentionPolicy p = models.policy(pa->name);
    if (pa->keep_versions != -1 || pa->keep_days != -1) {
      if (pa->keep_versions != -1) p.keep_versions = pa->keep_versions;  // 0 is refused
      if (pa->keep_days == 0) p.keep_days.reset();
      if (pa->keep_days > 0 || pa->keep_days < -1) p.keep_days = pa->keep_days;
      models.set_policy(pa->name, p);
    }
    fmt::print("{}: keep the newest {} version(s){}\n", pa->name, p.keep_versions,
               p.keep_days ? fmt::format(", none older than {} day(s)", *p.keep_days) : "");
  });
}

}  // namespace reco::cli
