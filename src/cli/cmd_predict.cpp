// reco predict: predicted ratings for one pair or for a payload file (the guide's
// `predict.sh payload.csv`), in-process or over HTTP from a running `reco serve`.
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/model_loading.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/json.h"
#include "deployment/endpoints.h"
#include "serving/payloads.h"

namespace reco::cli {
namespace {

struct Options {
  std::vector<std::string> args;  // FILE, or USER ITEM
  std::string model;
  std::optional<int> version;
  std::string endpoint;
  std::string url;
  std::string token;
  double timeout = 60;
  bool json = false;
};

// One prediction as JSON: the clipped rating (what the text output and invoke_model give), the
// unclipped estimate, and whether the model knows the user and the item (else a fallback).
nlohmann::json prediction_json(const algorithms::Model& model, int64_t user, int64_t item) {
  const int64_t u = model.users.find(user);
  const int64_t i = model.items.find(item);
  const double estimate = model.estimate(u, i);
  return {{"user", user},         {"item", item},         {"prediction", model.clip(estimate)},
          {"estimate", estimate}, {"known_user", u >= 0}, {"known_item", i >= 0}};
}

std::string read_payload(const std::string& file) {
  if (file != "-") return read_file(file);
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

int64_t parse_id_arg(const std::string& text, const char* what) {
  if (auto id = id_from_text(text)) return *id;
  throw Error(ErrorKind::kUsage, fmt::format("{} '{}' is not an integer id", what, text));
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// POSTs the CSV payload to a running server and prints its answer (one prediction per line).
void predict_over_http(const Options& o, const std::string& body, Context& ctx) {
  std::string url = o.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!url.ends_with("/invocations"))
    url += o.endpoint.empty() ? "/invocations" : "/endpoints/" + o.endpoint + "/invocations";
  CURL* curl = curl_easy_init();
  if (!curl) throw Error(ErrorKind::kInternal, "cannot initialise libcurl");
  std::string response;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: text/csv");
  headers = curl_slist_append(headers, "Accept: text/csv");
  std::string auth;
  if (!o.token.empty()) {
    auth = "Authorization: Bearer " + o.token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout * 1000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    throw Error(ErrorKind::kIo, fmt::format("POST {}: {}", url, curl_easy_strerror(rc)));
  if (status != 200) {
    std::string message = response;
    const auto j = try_parse_json(response);
    if (j && j->is_object() && j->contains("error")) {
      const auto& e = (*j)["error"];
      message =
          e.is_object() && e.contains("message") ? e["message"].get<std::string>() : json_text(e);
    }
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw Error(status == 404                    ? ErrorKind::kNotFound
                : status >= 500 || status == 429 ? ErrorKind::kIo
                                                 : ErrorKind::kInput,
                fmt::format("POST {}: HTTP {}: {}", url, status, message));
  }
  (void)ctx;
  std::fwrite(response.data(), 1, response.size(), stdout);
  if (!response.empty() && response.back() != '\n') std::fputc('\n', stdout);
}

}  // namespace

void register_predict(Command& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  Command cmd = app.add_subcommand(
      "predict", "Predict ratings: one USER ITEM pair, or every user,item line of a FILE");
  cmd.option("args", o->args,
             "USER ITEM, or FILE with one user_id,item_id per line ('-' for stdin)")
      .required()
      .expected(1, 2);
  cmd.option("-m,--model", o->model,
             "Model name, models:/NAME[/VERSION], file:// URI or artifact path");
  cmd.option("--version", o->version, "Model version with --model (default: latest)");
  cmd.option("-e,--endpoint", o->endpoint,
             "Deployed endpoint to ask (in-process, or on the server given by --url)");
  cmd.option("--url", o->url,
             "Send FILE to a running `reco serve` at this URL (e.g. http://127.0.0.1:8080) "
             "and print its answer");
  cmd.option("--token", o->token, "Bearer token for --url (default: $RECO_TOKEN)");
  cmd.option("--timeout", o->timeout, "Seconds to wait for --url (default 60)").positive();
  cmd.flag("--json", o->json,
           "Print JSON: an object for USER ITEM, an array for a FILE; each with user, item, "
           "prediction (clipped to the rating scale; for the ranking models ials, bpr and ease the "
           "score as it is), estimate (unclipped), known_user, "
           "known_item (in-process only)");
  cmd.footer(
      "Examples:\n"
      "  reco predict --model ratings 1 308\n"
      "  reco predict --model ratings 1 308 --json\n"
      "  reco predict payload.csv --endpoint movielens-model-v1\n"
      "  reco predict payload.csv --url http://127.0.0.1:8080   # like the guide's predict.sh");
  cmd.callback([o, &ctx] {
    if (o->token.empty()) {
      if (const char* t = std::getenv("RECO_TOKEN")) o->token = t;
    }
    if (!o->url.empty()) {
      if (o->args.size() != 1)
        throw Error(ErrorKind::kUsage, "--url sends a FILE: give one file argument, not USER ITEM");
      if (!o->model.empty())
        throw Error(ErrorKind::kUsage, "--url asks a server; --model is for in-process prediction");
      if (o->json)
        throw Error(ErrorKind::kUsage,
                    "--json is for in-process predictions (--model, --endpoint); a server "
                    "answers JSON itself to POST /invocations with application/json");
      predict_over_http(*o, read_payload(o->args[0]), ctx);
      return;
    }
    if (o->model.empty() == o->endpoint.empty())
      throw Error(ErrorKind::kUsage,
                  "give exactly one of --model NAME, --endpoint NAME, or --url URL");
    std::shared_ptr<const registry::Artifact> artifact;
    if (!o->endpoint.empty()) {
      deployment::EndpointStore store(ctx.home());
      artifact = deployment::load_for_serving(store.get(o->endpoint).artifact_path);
    } else {
      artifact = std::make_shared<registry::Artifact>(load_model(ctx, o->model, o->version));
    }
    const algorithms::Model& model = *artifact->model;
    if (o->args.size() == 2) {
      const int64_t user = parse_id_arg(o->args[0], "USER");
      const int64_t item = parse_id_arg(o->args[1], "ITEM");
      if (o->json) {
        fmt::print("{}\n", json_text(prediction_json(model, user, item)));
      } else {
        fmt::print("{}\n", model.predict(user, item));
      }
      return;
    }
    const std::string source = o->args[0] == "-" ? "<stdin>" : o->args[0];
    std::vector<serving::IdPair> pairs;
    try {
      pairs = serving::parse_csv_pairs(read_payload(o->args[0]));  // the server's own rules
    } catch (const Error& e) {
      throw Error(e.kind(), source + ": " + e.what());
    }
    std::string out;
    if (o->json) {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& [user, item] : pairs) all.push_back(prediction_json(model, user, item));
      out = json_text(all) + "\n";
    } else {
      out.reserve(pairs.size() * 8);
      for (const auto& [user, item] : pairs)
        fmt::format_to(std::back_inserter(out), "{}\n", model.predict(user, item));
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
}

}  // namespace reco::cli
