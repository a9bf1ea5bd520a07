#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/context.h"
#include "cli/table_format.h"
#include "core/error.h"
#include "core/json.h"
#include "deployment/endpoints.h"
#include "evaluation/cross_validate.h"
#include "registry/model_registry.h"
#include "training/retention.h"

namespace reco::cli {

namespace {

// "NAME" or "NAME/VERSION" (VERSION: 3 or v3).
std::pair<std::string, std::optional<int>> parse_model_ref(const std::string& text) {
  std::string name = text;
  std::optional<int> version;
  if (const auto slash = name.find('/'); slash != std::string::npos) {
    version = registry::parse_version(std::string_view(name).substr(slash + 1));
    name.resize(slash);
    if (!version) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("'{}' is not NAME/VERSION (a positive version number)", text));
    }
  }
  registry::ModelRegistry::validate_name(name);
  return {name, version};
}

std::vector<double> numbers(const nlohmann::json& j, const char* key) {
  std::vector<double> out;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& x : *it) out.push_back(x.is_number() ? x.get<double>() : std::nan(""));
  return out;
}

// The cross-validation table in Surprise's layout, rebuilt from run.json.
std::string cv_table(const nlohmann::json& run) {
  const auto cv = run.find("cv");
  if (cv == run.end() || !cv->is_object()) return "";
  const std::vector<double> rmse = numbers(*cv, "rmse"), mae = numbers(*cv, "mae");
  const nlohmann::json timings = run.value("cv_timings", nlohmann::json::object());
  const std::vector<double> fit =
      timings.is_object() ? numbers(timings, "fit_s") : std::vector<double>{};
  const std::vector<double> test =
      timings.is_object() ? numbers(timings, "test_s") : std::vector<double>{};
  evaluation::CvReport report;
  for (size_t f = 0; f < rmse.size() && f < mae.size(); ++f) {
    evaluation::FoldResult r;
    r.rmse = rmse[f];
    r.mae = mae[f];
    r.fit_seconds = f < fit.size() ? fit[f] : 0.0;
    r.test_seconds = f < test.size() ? test[f] : 0.0;
    report.folds.push_back(r);
  }
  return report.folds.empty() ? "" : report.format_table();
}

std::string format_version(const registry::ModelSummary& m, const nlohmann::json& metadata,
                           const nlohmann::json& run, const std::vector<std::string>& serving) {
  std::string out =
      fmt::format("model {} version {} (models:/{}/{})\n", m.name, m.version, m.name, m.version);
  auto line = [&](std::string_view label, const std::string& value) {
    if (!value.empty()) out += fmt::format("  {:<11}{}\n", label, value);
  };
  line("artifact",
       fmt::format("{} ({} bytes)", registry::artifact_uri(m.artifact_path), m.file_size));
  if (!m.problem.empty()) {
    line("DAMAGED", m.problem);
    return out;
  }
  line("algorithm", m.algorithm);
  line("created", m.created_at);
  const nlohmann::json data = metadata.value("data", nlohmann::json::object());
  if (data.is_object() && data.contains("table")) {
    line("data", fmt::format("table {}: {} ratings, {} users, {} items; fingerprint {}",
                             data.value("table", ""), m.n_ratings, m.n_users, m.n_items,
                             data.value("fingerprint", "")));
  }
  if (metadata.contains("seed")) line("seed", metadata["seed"].dump());
  if (run.is_object()) line("job", run.value("job", ""));
  line("endpoints", serving.empty() ? "none" : fmt::format("{}", fmt::join(serving, ", ")));
  if (run.is_object()) {
    const std::string table = cv_table(run);
    out += table.empty() ? "\nno cross-validation (trained with folds = 0)\n"
                         : fmt::format("\nCross-validation ({} folds)\n{}",
                                       run["cv"].value("folds", 0), table);
  } else {
    out += "\nno run record (run.json) for this version\n";
  }
  const auto params = metadata.find("hyperparameters");
  if (params != metadata.end() && params->is_object()) {
    out += "\nHyperparameters\n";
    for (const auto& [k, v] : params->items()) out += fmt::format("  {:<14}{}\n", k, v.dump());
  }
  if (run.is_object() && run.contains("timings") && run["timings"].is_object()) {
    std::string t;
    for (const auto& [k, v] : run["timings"].items()) {
      if (v.is_number())
        t += fmt::format("{}{} {:.3f}", t.empty() ? "" : ", ", k.substr(0, k.size() - 2),
                         v.get<double>());
    }
    out += fmt::format("\nTimings (s): {}\n", t);
  }
  return out;
}

}  // namespace

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
    const auto [name, version] = parse_model_ref(*target);
    print_report(training::delete_versions(ctx.home(), name, version));
  });

  auto shown = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  Command show = cmd.add_subcommand(
      "show",
      "Show one model version: its cross-validation table per fold, hyperparameters, data, "
      "timings and the endpoints that serve it");
  show.option("model", *shown, "NAME (the latest version) or NAME/VERSION").required();
  show.flag("--json", *show_json, "Print JSON (the artifact's metadata and run.json) instead");
  show.callback([shown, show_json, &ctx] {
    auto [name, version] = parse_model_ref(*shown);
    registry::ModelRegistry models(ctx.home().models_dir());
    if (!version) {
      (void)models.resolve(name);  // Error(kNotFound) naming what exists
      version = models.versions(name).back();
    }
    const registry::ModelSummary m = models.summarize(name, *version);
    std::vector<std::string> serving;
    for (const auto& e : deployment::EndpointStore(ctx.home()).list()) {
      if (e.model_name == name && e.model_version == *version) serving.push_back(e.name);
    }
    const nlohmann::json run = models.run_info(name, *version);
    const nlohmann::json metadata = m.problem.empty() ? parse_json(m.metadata) : nlohmann::json();
    if (*show_json) {
      fmt::print("{}\n", json_text({{"model", name},
                                    {"version", *version},
                                    {"artifact_uri", registry::artifact_uri(m.artifact_path)},
                                    {"bytes", m.file_size},
                                    {"problem", m.problem.empty() ? nlohmann::json(nullptr)
                                                                  : nlohmann::json(m.problem)},
                                    {"endpoints", serving},
                                    {"metadata", metadata},
                                    {"run", run}},
                                   2));
      return;
    }
    fmt::print("{}", format_version(m, metadata, run, serving));
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
