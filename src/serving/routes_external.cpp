// The warehouse's external-function protocol (docs/PROTOCOLS.md) for the guide's three functions:
//   POST /invoke   invoke(model_name, user_id, item_id)              -> predicted rating
//   POST /deploy   deploy(model_name, model_url [, options_json])    -> endpoint object (options:
//                  a promotion policy, {"promote_if": {"metric": "rmse", "margin": 0.001}})
//   POST /train    train(input_table, output_table [, options_json]) -> job result (async)
//   GET  /train    polls a /train batch by its sf-external-function-query-batch-id
//   POST /evaluate evaluate(input_table [, options_json]) -> cross-validation report (async;
//                  publishes nothing); GET /evaluate polls like GET /train
//
// Row semantics, the same for all three:
//  - one output row per input row, same row numbers, same order; rows are independent (each
//    names its own model, table or endpoint; a row repeated in a batch is answered twice);
//  - a NULL argument (a required one) gives a null value for that row, like a SQL function;
//  - a value that can never work (10.5 as an id, a number where a name is expected, an unknown
//    endpoint, a missing artifact) fails the whole batch with a 4xx JSON error naming the row
//    (row number and data[] index) and the argument: the warehouse fails the query and shows
//    the message, as SQL does for a bad cast, instead of silently returning nulls that look
//    like "no prediction". Transient trouble answers 5xx/429 so the warehouse retries.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/identifiers.h"
#include "core/json.h"
#include "core/process.h"
#include "serving/routes.h"

namespace reco::serving {

namespace fs = std::filesystem;

namespace {

const FunctionSignature kInvoke{"invoke", {"model_name", "user_id", "item_id"}, 3};
const FunctionSignature kDeploy{"deploy", {"model_name", "model_url", "options_json"}, 2};
const FunctionSignature kTrain{"train", {"input_table", "output_table", "options_json"}, 2};
const FunctionSignature kEvaluate{"evaluate", {"input_table", "options_json"}, 1};

constexpr const char* kBatchHeader = "sf-external-function-query-batch-id";

bool any_null(const BatchRow& row, size_t required) {
  for (size_t i = 0; i < required; ++i)
    if (!row.has_arg(i)) return true;
  return false;
}

// Prefixes an error with the row it belongs to, keeping its kind (and so its status).
[[noreturn]] void rethrow_for_row(const Error& e, const std::string& where, ErrorKind kind) {
  throw Error(kind, where + ": " + e.what());
}

// --- /train batches, persisted so a poll finds its jobs after a server restart ------------------

// A batch file is created with O_EXCL before any of its jobs starts (the claim: pid and the
// payload's hash, no rows yet), then replaced (rename) by the complete record. So of two servers
// on one home that receive the same batch id, exactly one starts jobs; the other answers from
// the record, and a batch id reused for another payload gets 409.
struct TrainBatch {
  std::string batch_id;
  std::string created_at;
  std::string payload;                                // hash of the request body
  int64_t pid = 0;                                    // of the claiming server while pending
  bool pending = false;                               // claimed, jobs not yet recorded
  std::vector<std::pair<int64_t, std::string>> rows;  // row number, job id ("" for a null row)
};

fs::path batches_dir(const Home& home) {
  return home.root() / "serve" / "train-batches";
}

fs::path batch_path(const Home& home, const std::string& batch_id) {
  bool plain = !batch_id.empty() && batch_id.size() <= 100 && batch_id.front() != '.';
  for (char c : batch_id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      plain = false;
  if (plain) return batches_dir(home) / (batch_id + ".json");
  Fnv1a64 h;
  h.update(batch_id.data(), batch_id.size());
  return batches_dir(home) / ("h-" + hex64(h.digest()) + ".json");
}

std::string payload_hash(std::string_view body) {
  Fnv1a64 h;
  h.update(body.data(), body.size());
  return hex64(h.digest());
}

json batch_json(const TrainBatch& b) {
  json out = {{"batch_id", b.batch_id}, {"created_at", b.created_at}, {"payload", b.payload}};
  if (b.pending) {
    out["pid"] = b.pid;
    return out;
  }
  json rows = json::array();
  for (const auto& [row, job] : b.rows)
    rows.push_back({{"row", row}, {"job", job.empty() ? json(nullptr) : json(job)}});
  out["rows"] = std::move(rows);
  return out;
}

std::optional<TrainBatch> load_batch(const Home& home, const std::string& batch_id) {
  const auto read = read_file_if_exists(batch_path(home, batch_id));
  if (!read) return std::nullopt;
  const std::string& text = *read;
  // A claim is written in one write() of a few dozen bytes; an empty file is a claim caught
  // between its creation and that write.
  const auto j = try_parse_json(text);
  if (!j) {
    TrainBatch b;
    b.batch_id = batch_id;
    b.pending = true;
    return b;
  }
  if (j->value("batch_id", "") != batch_id) return std::nullopt;  // hash collision
  TrainBatch b;
  b.batch_id = batch_id;
  b.created_at = j->value("created_at", "");
  b.payload = j->value("payload", "");
  if (!j->contains("rows")) {
    b.pending = true;
    b.pid = j->value("pid", int64_t{0});
    return b;
  }
  for (const auto& r : j->at("rows"))
    b.rows.emplace_back(r.at("row").get<int64_t>(),
                        r.at("job").is_null() ? std::string() : r.at("job").get<std::string>());
  return b;
}

// Creates the claim; false when the batch file exists already.
bool claim_batch(const Home& home, const TrainBatch& claim) {
  ensure_directory(batches_dir(home));
  const fs::path path = batch_path(home, claim.batch_id);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw write_error("cannot create " + path.string(), errno);
  }
  const std::string text = json_text(batch_json(claim)) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw Error(ErrorKind::kIo, fmt::format("cannot write {}", path.string()));
  }
  return true;
}

void drop_claim(const Home& home, const std::string& batch_id) {
  std::error_code ec;
  fs::remove(batch_path(home, batch_id), ec);
}

void save_batch(const Home& home, const TrainBatch& b) {
  write_file_atomic(batch_path(home, b.batch_id), json_text(batch_json(b), 2) + "\n");
}

}  // namespace

void prune_train_batches(const Home& home, std::chrono::hours keep) {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(batches_dir(home), ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    const auto t = fs::last_write_time(it->path(), ec2);
    if (!ec2 && now - t > keep) fs::remove(it->path(), ec2);
  }
}

namespace {

// --- /invoke -----------------------------------------------------------------------------------

void invoke(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::vector<BatchRow> rows = parse_batch(call.body, kInvoke);
  std::map<std::string, std::shared_ptr<const deployment::LiveModel>> models;
  std::map<std::string, uint64_t> served;
  std::vector<std::pair<int64_t, json>> out;
  out.reserve(rows.size());
  for (const BatchRow& row : rows) {
    if (any_null(row, 3)) {
      out.emplace_back(row.row_number, nullptr);
      continue;
    }
    const std::string name = string_arg(row, kInvoke, 0);
    const int64_t user = id_arg(row, kInvoke, 1);
    const int64_t item = id_arg(row, kInvoke, 2);
    auto& model = models[name];
    if (!model) {
      try {
        model = ctx.live.get(name);
      } catch (const Error& e) {
        rethrow_for_row(e, row.where(kInvoke, 0), e.kind());
      }
    }
    out.emplace_back(row.row_number, model->model().predict(user, item));
    ++served[name];
  }
  size_t total = 0;
  for (const auto& [name, n] : served) {
    ctx.metrics.add_predictions(name, n);
    total += n;
  }
  call.predictions = total;
  res.status = 200;
  res.set_content(format_batch(out), "application/json");
}

// --- /deploy -----------------------------------------------------------------------------------

void deploy(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::vector<BatchRow> rows = parse_batch(call.body, kDeploy);
  // Check every row's arguments before deploying anything, so a malformed batch changes
  // nothing.
  std::vector<std::optional<deployment::PromotionPolicy>> policies(rows.size());
  for (const BatchRow& row : rows) {
    if (any_null(row, 2)) continue;
    const std::string name = string_arg(row, kDeploy, 0);
    (void)string_arg(row, kDeploy, 1);
    try {
      deployment::EndpointStore::validate_name(name);
    } catch (const Error& e) {
      rethrow_for_row(e, row.where(kDeploy, 0), ErrorKind::kInput);
    }
    if (!row.has_arg(2)) continue;
    try {
      const json& o = row.args[2];
      if (o.is_string()) {
        policies[row.index] = deployment::parse_promotion_options(o.get<std::string>());
      } else {
        policies[row.index] = deployment::promotion_from_json(o);
      }
    } catch (const Error& e) {
      rethrow_for_row(e, row.where(kDeploy, 2), ErrorKind::kInput);
    }
  }
  std::vector<std::pair<int64_t, json>> out;
  out.reserve(rows.size());
  size_t deployed = 0;
  for (const BatchRow& row : rows) {
    if (any_null(row, 2)) {
      out.emplace_back(row.row_number, nullptr);
      continue;
    }
    const std::string name = string_arg(row, kDeploy, 0);
    const std::string url = string_arg(row, kDeploy, 1);
    try {
      deployment::DeployRequest request;
      request.name = name;
      request.model_uri = url;
      request.cause = "http";
      request.promote_if = policies[row.index];
      const deployment::DeployOutcome d = ctx.endpoints.deploy(request);
      if (d.applied) {
        ctx.live.install(d.deployed);
        ++deployed;
      }
      out.emplace_back(row.row_number, deployment::deploy_result(d));
    } catch (const Error& e) {
      // A damaged artifact is as permanent as a missing one: the URL is the problem.
      const ErrorKind kind = e.kind() == ErrorKind::kCorrupt ? ErrorKind::kInput : e.kind();
      const std::string note =
          deployed > 0 ? fmt::format(" ({} earlier row(s) of this batch were deployed)", deployed)
                       : std::string();
      throw Error(kind, fmt::format("{}: cannot deploy endpoint {} from {}: {}{}", row.where(),
                                    name, url, e.what(), note));
    }
  }
  if (deployed > 0) ctx.refresh();
  res.status = 200;
  res.set_content(format_batch(out), "application/json");
}

// --- /train ------------------------------------------------------------------------------------

// The answer for a batch as its jobs stand now: 200 with every row's result, 202 while a job
// runs, 4xx naming the row when a job failed.
void answer_train_batch(training::JobStore& jobs, const TrainBatch& batch, Response& res) {
  std::vector<std::pair<int64_t, json>> out;
  json pending = json::array();
  for (size_t i = 0; i < batch.rows.size(); ++i) {
    const auto& [row, job] = batch.rows[i];
    if (job.empty()) {
      out.emplace_back(row, nullptr);
      continue;
    }
    const auto rec = jobs.find(job);
    if (!rec)
      throw Error(
          ErrorKind::kInternal,
          fmt::format("row {} (data[{}]): the record of training job {} is missing", row, i, job));
    switch (rec->state) {
      case training::JobState::kCompleted:
        out.emplace_back(row, rec->result.empty() ? json(nullptr) : parse_json(rec->result));
        break;
      case training::JobState::kInProgress:
        pending.push_back({{"row", row}, {"job", job}, {"state", "InProgress"}});
        break;
      case training::JobState::kFailed:
      case training::JobState::kCancelled:
        return send_error(
            res, 400,
            fmt::format("row {} (data[{}]): training job {} {}: {}", row, i, job,
                        rec->state == training::JobState::kFailed ? "failed" : "was cancelled",
                        rec->failure),
            {{"job", job}, {"row", row}});
    }
  }
  if (!pending.empty()) {
    json body = {{"state", "InProgress"}, {"jobs", pending}};
    if (!batch.batch_id.empty()) body["batch_id"] = batch.batch_id;
    if (batch.batch_id.empty() && pending.size() == 1)
      res.set_header("Location", "/jobs/" + pending[0]["job"].get<std::string>());
    return send_json(res, 202, body);
  }
  res.status = 200;
  res.set_content(format_batch(out), "application/json");
}

// POST /train and POST /evaluate: one job per row, started asynchronously.
void start_jobs(RouteContext& ctx, RouteCall& call, Response& res, bool evaluate) {
  const FunctionSignature& sig = evaluate ? kEvaluate : kTrain;
  const std::vector<BatchRow> rows = parse_batch(call.body, sig);
  const std::string batch_id = call.http.get_header_value(kBatchHeader);
  const std::string payload = payload_hash(call.body);

  // A retried batch never starts a second job: answer from what the first attempt started.
  // Returns true when it answered.
  auto answer_existing = [&]() -> bool {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (true) {
      auto existing = load_batch(ctx.options.home, batch_id);
      if (!existing) return false;
      if (!existing->payload.empty() && existing->payload != payload) {
        send_error(
            res, 409,
            fmt::format("batch id {} was already used for a different request (started {}); "
                        "a batch id names one request: send a new one",
                        batch_id, existing->created_at.empty() ? "earlier" : existing->created_at));
        return true;
      }
      if (!existing->pending) {
        answer_train_batch(ctx.jobs.store(), *existing, res);
        return true;
      }
      if (existing->pid != 0 && !process_alive(existing->pid)) {
        drop_claim(ctx.options.home, batch_id);  // its server died before starting any job
        return false;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        res.set_header("Retry-After", "5");
        send_error(res, 503,
                   fmt::format("batch {} is being started by another server on this home; retry",
                               batch_id));
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  if (!batch_id.empty() && answer_existing()) return;

  // Check every row before starting any job.
  struct Planned {
    int64_t row;
    std::optional<training::TrainRequest> request;
    json request_json;
  };
  std::vector<Planned> planned;
  size_t new_jobs = 0;
  const size_t options_arg = evaluate ? 1 : 2;
  for (const BatchRow& row : rows) {
    Planned p{row.row_number, std::nullopt, json()};
    if (!any_null(row, sig.required)) {
      const std::string input = string_arg(row, sig, 0);
      const std::string output = evaluate ? std::string() : string_arg(row, sig, 1);
      try {
        (void)parse_table_name(input, "input table");
      } catch (const Error& e) {
        rethrow_for_row(e, row.where(sig, 0), ErrorKind::kInput);
      }
      if (!evaluate) {
        try {
          (void)parse_table_name(output, "output table");
        } catch (const Error& e) {
          rethrow_for_row(e, row.where(sig, 1), ErrorKind::kInput);
        }
      }
      training::TrainRequest tr;
      tr.evaluate_only = evaluate;
      try {
        if (!row.has_arg(options_arg)) {
          tr.spec = training::job_spec_from_json(input, output, json::object());
        } else if (const json& o = row.args[options_arg]; o.is_string()) {
          tr.spec = training::parse_job_options(input, output, o.get<std::string>());
        } else if (o.is_object()) {
          tr.spec = training::job_spec_from_json(input, output, o);
        } else {
          throw Error(ErrorKind::kInput, fmt::format("expected a JSON object or its text, got {}",
                                                     json_preview(o, 60)));
        }
        if (evaluate && tr.spec.folds < 2) {
          throw Error(ErrorKind::kInput,
                      fmt::format("evaluation is cross-validation: folds must be 2..100, got {}",
                                  tr.spec.folds));
        }
      } catch (const Error& e) {
        rethrow_for_row(e, row.where(sig, options_arg), ErrorKind::kInput);
      }
      p.request_json = training::job_request_json(tr.spec, "http");
      p.request_json["source"] = {{"protocol", "external-function"},
                                  {"batch_id", batch_id.empty() ? json(nullptr) : json(batch_id)},
                                  {"row", row.row_number}};
      p.request = std::move(tr);
      ++new_jobs;
    }
    planned.push_back(std::move(p));
  }

  if (new_jobs > 0) {
    size_t unfinished = 0;
    for (const auto& r : ctx.jobs.store().list())
      if (r.state == training::JobState::kInProgress && r.pid == ::getpid()) ++unfinished;
    if (unfinished + new_jobs > ctx.options.max_queued_jobs) {  // before the claim: retryable
      res.set_header("Retry-After", "30");
      return send_error(res, 429,
                        fmt::format("{} training jobs are already queued or running (limit {}); "
                                    "retry later",
                                    unfinished, ctx.options.max_queued_jobs));
    }
  }

  TrainBatch batch;
  batch.batch_id = batch_id;
  batch.created_at = utc_timestamp();
  batch.payload = payload;
  if (!batch_id.empty()) {
    TrainBatch claim = batch;
    claim.pending = true;
    claim.pid = ::getpid();
    while (!claim_batch(ctx.options.home, claim)) {
      if (answer_existing()) return;  // another request claimed it first
    }
  }
  try {
    for (size_t i = 0; i < planned.size(); ++i) {
      Planned& p = planned[i];
      std::string job_id;
      if (p.request) {
        const std::string key = batch_id.empty() ? "" : fmt::format("{}#{}", batch_id, i);
        job_id = ctx.jobs.submit(*p.request, p.request_json, key).first.id;
      }
      batch.rows.emplace_back(p.row, job_id);
    }
  } catch (...) {
    // A job could not be recorded (the home's disk): a retry may start the batch again.
    if (!batch_id.empty()) drop_claim(ctx.options.home, batch_id);
    throw;
  }
  if (!batch_id.empty()) save_batch(ctx.options.home, batch);
  answer_train_batch(ctx.jobs.store(), batch, res);
}

void train_start(RouteContext& ctx, RouteCall& call, Response& res) {
  start_jobs(ctx, call, res, false);
}

void evaluate_start(RouteContext& ctx, RouteCall& call, Response& res) {
  start_jobs(ctx, call, res, true);
}

void train_poll(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string batch_id = call.http.get_header_value(kBatchHeader);
  if (batch_id.empty())
    return send_error(res, 400,
                      fmt::format("GET /train polls a training batch: send the {} header of the "
                                  "POST that started it (or GET /jobs/{{id}})",
                                  kBatchHeader));
  const auto batch = load_batch(ctx.options.home, batch_id);
  if (!batch)
    return send_error(res, 404,
                      fmt::format("no training batch {} was started on this server's home "
                                  "(batches are kept for 24 hours)",
                                  batch_id));
  if (batch->pending) return send_json(res, 202, {{"state", "Starting"}, {"batch_id", batch_id}});
  answer_train_batch(ctx.jobs.store(), *batch, res);
}

}  // namespace

std::vector<RouteSpec> external_function_routes() {
  return {
      {"POST", "/train", Access::kToken, BodyKind::kBatch, false, "", train_start},
      {"GET", "/train", Access::kToken, BodyKind::kNone, false, "", train_poll},
      {"POST", "/evaluate", Access::kToken, BodyKind::kBatch, false, "", evaluate_start},
      {"GET", "/evaluate", Access::kToken, BodyKind::kNone, false, "", train_poll},
      {"POST", "/deploy", Access::kToken, BodyKind::kBatch, false, "", deploy},
      {"POST", "/invoke", Access::kToken, BodyKind::kBatch, false, "", invoke},
  };
}

}  // namespace reco::serving
