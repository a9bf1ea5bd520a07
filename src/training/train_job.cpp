#include "training/train_job.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "algorithms/params.h"
#include "algorithms/train.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/identifiers.h"
#include "core/stopwatch.h"
#include "evaluation/cross_validate.h"
#include "recommendation/top_n.h"
#include "registry/artifact.h"
#include "registry/model_registry.h"

namespace reco::training {
namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& job_option_names() {
  static const std::vector<std::string> names = {"rating_min",  "rating_max",    "user_column",
                                                 "item_column", "rating_column", "top_k"};
  return names;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double parse_number(const std::string& name, const std::string& text) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    throw Error(ErrorKind::kUsage, fmt::format("parameter {}: '{}' is not a number", name, text));
  }
  return v;
}

struct JobOptions {
  std::optional<float> rating_min, rating_max;
  std::optional<std::string> user_column, item_column, rating_column;
  size_t top_k = 10;
};

// Splits settings into job options and algorithm hyperparameters.
JobOptions split_settings(const std::vector<std::pair<std::string, std::string>>& settings,
                          std::vector<std::pair<std::string, std::string>>& hyper) {
  JobOptions o;
  for (const auto& [name, value] : settings) {
    if (name == "rating_min") {
      o.rating_min = static_cast<float>(parse_number(name, value));
    } else if (name == "rating_max") {
      o.rating_max = static_cast<float>(parse_number(name, value));
    } else if (name == "user_column") {
      o.user_column = value;
    } else if (name == "item_column") {
      o.item_column = value;
    } else if (name == "rating_column") {
      o.rating_column = value;
    } else if (name == "top_k") {
      const double k = parse_number(name, value);
      if (k < 1 || k > 1000 || k != std::floor(k)) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("parameter top_k: {} is out of range [1, 1000]", value));
      }
      o.top_k = static_cast<size_t>(k);
    } else {
      hyper.emplace_back(name, value);
    }
  }
  return o;
}

std::string find_column(const std::vector<storage::ColumnInfo>& columns, const TableRef& table,
                        const std::optional<std::string>& wanted,
                        std::initializer_list<const char*> candidates, const char* role) {
  auto names = [&] {
    std::string s;
    for (const auto& c : columns) s += (s.empty() ? "" : ", ") + c.name;
    return s;
  };
  if (wanted) {
    for (const auto& c : columns) {
      if (lower(c.name) == lower(*wanted)) return c.name;
    }
    throw Error(ErrorKind::kNotFound, fmt::format("input table '{}' has no column {} (columns: {})",
                                                  table.display(), *wanted, names()));
  }
  for (const char* candidate : candidates) {
    for (const auto& c : columns) {
      if (lower(c.name) == candidate) return c.name;
    }
  }
  std::string expected;
  for (const char* candidate : candidates)
    expected += (expected.empty() ? "" : ", ") + lower(candidate);
  throw Error(
      ErrorKind::kNotFound,
      fmt::format("input table '{}' has no {} column: expected one of {} (case-insensitive) "
                  "among its columns ({}), or name it with {}_column=NAME",
                  table.display(), role, expected, names(), role));
}

std::string make_job_id(const std::string& model, int version) {
  return fmt::format("train-{}-v{}-{}", model, version, utc_now("%Y%m%d-%H%M%S"));
}

std::string default_model_name(const TableRef& input) {
  std::string name;
  for (char c : input.table) {
    const auto uc = static_cast<unsigned char>(c);
    name += (std::isalnum(uc) || c == '-' || c == '_' || c == '.')
                ? static_cast<char>(std::tolower(uc))
                : '_';
  }
  return name;
}

// Checks the output table's shape before any work is done, so a mistake costs nothing.
void check_output_table(storage::Warehouse& wh, const TableRef& out, const TableRef& in,
                        const std::string& recs_column) {
  if (lower(out.table) == lower(in.table) && out.schema == in.schema) {
    throw Error(ErrorKind::kUsage,
                fmt::format("output table '{}' is the input table", out.display()));
  }
  if (!wh.table_exists(out)) return;
  const auto cols = wh.table_columns(out);
  const bool ok = cols.size() == 2 && lower(cols[0].name) == "userid" &&
                  lower(cols[1].name) == lower(recs_column);
  if (!ok) {
    std::string names;
    for (const auto& c : cols) names += (names.empty() ? "" : ", ") + c.name;
    throw Error(
        ErrorKind::kConflict,
        fmt::format("output table '{}' exists with columns ({}); expected (USERID, {}): drop it, "
                    "or name another output table",
                    out.display(), names, recs_column));
  }
}

}  // namespace

TrainResult run_training(storage::Warehouse& wh, const Home& home, const TrainRequest& req,
                         const LogSink& log) {
  auto emit = [&](const std::string& line, LogKind kind = LogKind::kProgress) {
    if (log) log(kind, line);
  };
  Stopwatch total;
  json timings = json::object();

  // 1. Validate everything that can be validated before reading data.
  const TableRef input = parse_table_name(req.input_table, "input table");
  std::optional<TableRef> output;
  if (!req.output_table.empty()) output = parse_table_name(req.output_table, "output table");
  std::vector<std::pair<std::string, std::string>> hyper;
  const JobOptions opts = split_settings(req.settings, hyper);
  const algorithms::Params params = algorithms::parse_params(req.algorithm, hyper);
  if (req.folds < 0 || req.folds == 1 || req.folds > 100) {
    throw Error(ErrorKind::kUsage,
                fmt::format("folds: {} is out of range (0 to skip, or 2..100)", req.folds));
  }
  const std::string model_name =
      req.model_name.empty() ? default_model_name(input) : req.model_name;
  registry::ModelRegistry models(home.models_dir());
  registry::ModelRegistry::validate_name(model_name);
  const std::string recs_column = fmt::format("TOP_{}_RECOMMENDATIONS", opts.top_k);
  if (output) check_output_table(wh, *output, input, recs_column);
  const int threads = req.threads;  // 0: all cores, resolved by each parallel step

  // 2. Read the ratings.
  Stopwatch step;
  if (!wh.table_exists(input)) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("input table '{}' does not exist", input.display()));
  }
  const auto columns = wh.table_columns(input);
  storage::RatingColumns cols;
  cols.user = find_column(columns, input, opts.user_column, {"userid", "user_id", "user"}, "user");
  cols.item = find_column(columns, input, opts.item_column,
                          {"movieid", "movie_id", "itemid", "item_id", "item"}, "item");
  cols.rating = find_column(columns, input, opts.rating_column, {"rating"}, "rating");
  const RawRatings raw = wh.read_ratings(input, cols);
  if (raw.size() == 0)
    throw Error(ErrorKind::kInput, fmt::format("input table '{}' has no rows", input.display()));
  const Dataset data = Dataset::from_raw(raw);
  RatingScale scale = data.observed_scale();
  if (opts.rating_min) scale.min = *opts.rating_min;
  if (opts.rating_max) scale.max = *opts.rating_max;
  if (!(scale.min < scale.max)) {
    throw Error(ErrorKind::kInput,
                fmt::format("rating scale [{}, {}] is empty: set rating_min and rating_max",
                            scale.min, scale.max));
  }
  if (opts.rating_min || opts.rating_max) {
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw.ratings[k] < scale.min || raw.ratings[k] > scale.max) {
        throw Error(
            ErrorKind::kInput,
            fmt::format("table '{}', row {}: rating {} is outside the rating scale [{}, {}]",
                        input.display(), k + 1, raw.ratings[k], scale.min, scale.max));
      }
    }
  }
  if (req.folds > 0 && data.size() < static_cast<size_t>(req.folds)) {
    throw Error(ErrorKind::kInput,
                fmt::format("input table '{}' has {} ratings, fewer than the {} folds",
                            input.display(), data.size(), req.folds));
  }
  timings["read_s"] = step.seconds();
  emit(fmt::format("read {} ratings ({} users, {} items) from {} in {:.2f} s", data.size(),
                   data.n_users(), data.n_items(), input.display(), step.seconds()));

  // 3. Cross-validation.
  json cv_json = nullptr;
  json cv_timings = nullptr;
  std::string cv_table;
  if (req.folds > 0) {
    step.restart();
    const auto report = evaluation::cross_validate(data, req.algorithm, params, scale, req.folds,
                                                   req.seed, threads, nullptr);
    cv_table = report.format_table();
    // Only the deterministic part goes into the artifact; timings go to run.json.
    json rmse = json::array(), mae = json::array();
    for (const auto& f : report.folds) {
      rmse.push_back(f.rmse);
      mae.push_back(f.mae);
    }
    cv_json = {{"folds", req.folds},
               {"rmse", rmse},
               {"mae", mae},
               {"mean", {{"rmse", report.rmse().mean}, {"mae", report.mae().mean}}},
               {"std", {{"rmse", report.rmse().std}, {"mae", report.mae().std}}}};
    cv_timings = {{"fit_s", json::array()}, {"test_s", json::array()}};
    for (const auto& f : report.folds) {
      cv_timings["fit_s"].push_back(f.fit_seconds);
      cv_timings["test_s"].push_back(f.test_seconds);
    }
    timings["cv_s"] = step.seconds();
    emit(fmt::format("Evaluating RMSE, MAE of algorithm {} on {} split(s).\n", req.algorithm,
                     req.folds),
         LogKind::kReport);
    emit(cv_table, LogKind::kReport);
  }

  // 4. Refit on every rating.
  step.restart();
  std::vector<uint32_t> all(data.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = static_cast<uint32_t>(k);
  const algorithms::FactorModel model =
      algorithms::fit(req.algorithm, params, data, all, scale, req.seed);
  timings["fit_s"] = step.seconds();
  emit(fmt::format("fit {} on all {} ratings in {:.2f} s", req.algorithm, data.size(),
                   step.seconds()));

  // 5. Top-k for every user.
  step.restart();
  std::vector<std::vector<recommendation::Scored>> top;
  if (output) top = recommendation::top_n_all_users(model, opts.top_k, threads);
  timings["top_n_s"] = step.seconds();

  // 6. The artifact: a new version, written atomically.
  json metadata = {
      {"format", "reco-factor-model"},
      {"algorithm", req.algorithm},
      {"hyperparameters", algorithms::params_to_json(params)},
      {"seed", req.seed},
      {"rating_scale", {{"min", scale.min}, {"max", scale.max}}},
      {"data",
       {{"table", input.display()},
        {"fingerprint", hex64(data.fingerprint())},
        {"n_ratings", data.size()},
        {"n_users", data.n_users()},
        {"n_items", data.n_items()}}},
      {"cv", cv_json},
      {"created_at", registry::artifact_timestamp()},
      {"reco_version", "0.1.0"},
  };
  step.restart();
  const registry::Version version = models.reserve_version(model_name);
  const std::string job_id =
      req.job_id.empty() ? make_job_id(model_name, version.number) : req.job_id;
  json run = {{"job", job_id}, {"input_table", input.display()}, {"state", "InProgress"}};
  try {
    const fs::path artifact_path = models.publish(version, model, metadata, run);

    // 7. The output table, replaced in one transaction.
    size_t rows = 0;
    if (output) {
      auto tx = wh.begin();
      if (!wh.table_exists(*output)) {
        wh.create_table(
            *output,
            {{"USERID", storage::ColumnType::kInteger}, {recs_column, storage::ColumnType::kJson}},
            false);
      } else {
        wh.delete_all_rows(*output);
      }
      const auto out_cols = wh.table_columns(*output);
      auto ins = wh.inserter(*output, {out_cols[0].name, out_cols[1].name});
      std::vector<storage::Value> row(2);
      for (uint32_t u = 0; u < model.n_users(); ++u) {
        std::string arr = "[";
        for (size_t k = 0; k < top[u].size(); ++k) {
          if (k) arr += ',';
          arr += std::to_string(model.items.raw(top[u][k].item));
        }
        arr += ']';
        row[0] = model.users.raw(u);
        row[1] = std::move(arr);
        ins->insert(row);
        ++rows;
      }
      ins.reset();
      tx->commit();
      emit(fmt::format("Top {} predictions for all users saved to table named: {}", opts.top_k,
                       output->display()),
           LogKind::kReport);
    }
    timings["write_s"] = step.seconds();
    timings["total_s"] = total.seconds();

    TrainResult result;
    result.job_id = job_id;
    result.model_name = model_name;
    result.version = version.number;
    result.artifact_path = artifact_path.string();
    result.artifact_uri = registry::artifact_uri(artifact_path);
    result.cv_table = cv_table;
    json summary = {
        {"job", job_id},
        {"model", model_name},
        {"version", version.number},
        {"artifact_uri", result.artifact_uri},
        {"algorithm", req.algorithm},
        {"input_table", input.display()},
        {"output_table", output ? json(output->display()) : json(nullptr)},
        {"output_rows", rows},
        {"ratings", data.size()},
        {"users", data.n_users()},
        {"items", data.n_items()},
        {"seed", req.seed},
        {"folds", req.folds},
        {"top_k", opts.top_k},
        {"rmse", cv_json.is_null() ? json(nullptr) : cv_json["mean"]["rmse"]},
        {"mae", cv_json.is_null() ? json(nullptr) : cv_json["mean"]["mae"]},
        {"timings", timings},
    };
    result.summary = summary;
    run = summary;
    run["state"] = "Completed";
    run["cv"] = cv_json;
    run["cv_timings"] = cv_timings;
    run["finished_at"] = utc_now("%Y-%m-%dT%H:%M:%SZ");
    models.write_run_info(version, run);
    emit("Training complete.", LogKind::kReport);
    return result;
  } catch (...) {
    std::error_code ec;
    fs::remove_all(version.dir,
                   ec);  // the version number is not reused, but nothing half-made stays
    throw;
  }
}

void apply_json_options(const std::string& text, TrainRequest& req) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(ErrorKind::kUsage, fmt::format("options: not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) throw Error(ErrorKind::kUsage, "options: expected a JSON object");
  auto as_text = [](const std::string& key, const json& v) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number() || v.is_boolean()) return v.dump();
    throw Error(ErrorKind::kUsage,
                fmt::format("options: {} must be a string, number or boolean", key));
  };
  for (const auto& [key, value] : j.items()) {
    if (key == "algorithm" || key == "algo") {
      req.algorithm = as_text(key, value);
    } else if (key == "folds") {
      if (!value.is_number_integer())
        throw Error(ErrorKind::kUsage, "options: folds must be an integer");
      req.folds = value.get<int>();
    } else if (key == "seed") {
      if (!value.is_number_unsigned())
        throw Error(ErrorKind::kUsage, "options: seed must be a non-negative integer");
      req.seed = value.get<uint64_t>();
    } else if (key == "model") {
      req.model_name = as_text(key, value);
    } else if (key == "params") {
      if (!value.is_object())
        throw Error(ErrorKind::kUsage, "options: params must be a JSON object");
      for (const auto& [name, v] : value.items()) req.settings.emplace_back(name, as_text(name, v));
    } else {
      const auto& jo = job_option_names();
      if (std::find(jo.begin(), jo.end(), key) == jo.end()) {
        throw Error(
            ErrorKind::kUsage,
            fmt::format(
                "options: unknown key '{}' (expected algorithm, folds, seed, model, params, "
                "rating_min, rating_max, user_column, item_column, rating_column, top_k)",
                key));
      }
      req.settings.emplace_back(key, as_text(key, value));
    }
  }
}

}  // namespace reco::training
