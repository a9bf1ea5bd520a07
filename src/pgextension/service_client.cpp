// reco serve's client inside a PostgreSQL backend (service_client.h): libcurl with one easy
// handle kept for the backend's life, so consecutive requests reuse one keep-alive connection.
#include "pgextension/service_client.h"

#include <curl/curl.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "registry/artifact.h"

namespace reco_pg {

using nlohmann::json;

namespace {

// A failure being reported: thrown inside this file only, caught by guard().
struct Failed {
  FailureKind kind;
  long status;
  std::string message;
};

[[noreturn]] void fail(FailureKind kind, std::string message, long status = 0) {
  throw Failed{kind, status, std::move(message)};
}

struct State {
  CURL* curl = nullptr;
  std::string url;  // of the current request
  std::string body;
  std::string etag;
  std::string value;  // Reply::value_json
  std::string job;    // Reply::job
  std::string failure_message;
  Failure failure;
};

State& state() {
  static State s;
  return s;
}

// Runs f; turns whatever it throws into last_failure() and false.
template <typename F>
bool guard(F&& f) noexcept {
  State& st = state();
  try {
    f();
    return true;
  } catch (const Failed& e) {
    st.failure_message = e.message;
    st.failure.kind = e.kind;
    st.failure.http_status = e.status;
  } catch (const std::bad_alloc&) {
    st.failure_message = "out of memory";
    st.failure.kind = FailureKind::kInternal;
    st.failure.http_status = 0;
  } catch (const std::exception& e) {
    try {
      st.failure_message = e.what();
    } catch (...) {
      st.failure_message = "internal error";
    }
    st.failure.kind = FailureKind::kInternal;
    st.failure.http_status = 0;
  } catch (...) {
    st.failure_message = "internal error (unknown exception)";
    st.failure.kind = FailureKind::kInternal;
    st.failure.http_status = 0;
  }
  st.failure.message = st.failure_message.c_str();
  st.failure.url = st.url.c_str();
  return false;
}

std::string base_url(const Settings& s) {
  std::string url = s.service_url ? s.service_url : "";
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    fail(FailureKind::kConfig,
         fmt::format("reco.service_url must be an http:// or https:// URL of reco serve, got '{}'",
                     url.substr(0, 200)));
  while (url.size() > 8 && url.back() == '/') url.pop_back();
  return url;
}

// The bearer token, read from reco.token_file now ("" without a file). Never echoed.
std::string read_token(const Settings& s) {
  const std::string path = s.token_file ? s.token_file : "";
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(FailureKind::kConfig,
         fmt::format("reco.token_file: cannot read {}: {} (it must be readable by the PostgreSQL "
                     "server's OS user)",
                     path, std::strerror(errno)));
  std::string token(4097, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  token.resize(static_cast<size_t>(in.gcount()));
  if (token.size() > 4096) fail(FailureKind::kConfig, "reco.token_file: " + path + " is too long");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty()) fail(FailureKind::kConfig, "reco.token_file: " + path + " is empty");
  for (const char c : token)
    if (c <= ' ' || c > '~')
      fail(FailureKind::kConfig,
           "reco.token_file: " + path + " must hold one token of printable ASCII without spaces");
  return token;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  const std::string_view line(data, size * n);
  constexpr std::string_view kEtag = "etag:";
  if (line.size() > kEtag.size() && strncasecmp(line.data(), kEtag.data(), kEtag.size()) == 0) {
    std::string_view v = line.substr(kEtag.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
      v.remove_suffix(1);
    *static_cast<std::string*>(user) = std::string(v);
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* s = static_cast<const Settings*>(user);
  return s->interrupted && s->interrupted() ? 1 : 0;
}

struct Request {
  const char* method = "GET";
  std::string path;                // from the service URL on, with a leading '/'
  std::string body;                // sent as application/json when method is POST
  const char* function = nullptr;  // an external function's name: its protocol headers
  const char* batch_id = nullptr;
  std::string if_none_match;
  bool abandonable = false;  // may be stopped by Settings::interrupted
};

struct Slist {
  curl_slist* list = nullptr;
  void add(const std::string& h) {
    curl_slist* next = curl_slist_append(list, h.c_str());
    if (!next) throw std::bad_alloc();
    list = next;
  }
  ~Slist() { curl_slist_free_all(list); }
};

// Sends one request; the status, body and ETag land in state(). Connection trouble and
// timeouts fail here; HTTP statuses are the caller's to judge.
long perform(const Settings& s, const Request& r) {
  State& st = state();
  st.url = base_url(s) + r.path;
  const std::string token = read_token(s);
  if (!st.curl) {
    static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!initialized) fail(FailureKind::kInternal, "libcurl could not be initialized");
    st.curl = curl_easy_init();
    if (!st.curl) fail(FailureKind::kInternal, "libcurl could not be initialized");
  }
  CURL* c = st.curl;
  curl_easy_reset(c);  // keeps the connection cache: the next request reuses the connection
  st.body.clear();
  st.etag.clear();
  Slist headers;
  headers.add("Accept: application/json");
  if (!token.empty()) headers.add("Authorization: Bearer " + token);
  if (r.function) {
    headers.add("sf-external-function-format: json");
    headers.add("sf-external-function-format-version: 1.0");
    headers.add(std::string("sf-external-function-name: ") + r.function);
    headers.add("sf-external-function-current-query-id: " +
                std::string(r.batch_id ? r.batch_id : ""));
  }
  if (r.batch_id && *r.batch_id)
    headers.add(std::string("sf-external-function-query-batch-id: ") + r.batch_id);
  if (!r.if_none_match.empty()) headers.add("If-None-Match: " + r.if_none_match);
  if (std::strcmp(r.method, "POST") == 0) {
    headers.add("Content-Type: application/json");
    headers.add("Expect:");  // no 100-continue round trip
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_URL, st.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // PostgreSQL owns the signals
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(s.request_timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &st.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &st.etag);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (r.abandonable && s.interrupted) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
  }
  const CURLcode rc = curl_easy_perform(c);
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      fail(FailureKind::kCancelled, "interrupted while waiting for reco serve at " + st.url);
    case CURLE_OPERATION_TIMEDOUT:
      fail(FailureKind::kTimeout,
           fmt::format("reco serve at {} did not answer within {} ms (reco.request_timeout, "
                       "reco.connect_timeout)",
                       st.url, s.request_timeout_ms));
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      fail(FailureKind::kConnect,
           fmt::format("cannot connect to reco serve at {}: {} (is `reco serve` running there? "
                       "reco.service_url says where it is)",
                       st.url, curl_easy_strerror(rc)));
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      fail(FailureKind::kConfig,
           fmt::format("reco.service_url: cannot call {}: {}", st.url, curl_easy_strerror(rc)));
    default:
      fail(FailureKind::kConnect, fmt::format("the request to reco serve at {} failed: {}", st.url,
                                              curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

// The first bytes of a body, printable, for a message about it.
std::string preview(const std::string& body) {
  std::string out;
  for (const char c : body.substr(0, 120)) out += (c >= ' ' && c <= '~') ? c : '?';
  if (body.size() > 120) out += "...";
  return out.empty() ? "(an empty body)" : "'" + out + "'";
}

// A status the caller does not accept: the service's own message when it sent one.
[[noreturn]] void fail_status(long status) {
  const State& st = state();
  const json j = json::parse(st.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    fail(FailureKind::kService, j["error"].get<std::string>(), status);
  fail(status >= 200 && status < 300 ? FailureKind::kGarbage : FailureKind::kService,
       fmt::format("reco serve at {} answered HTTP {}: {}", st.url, status, preview(st.body)),
       status);
}

json parse_body(long status) {
  const State& st = state();
  json j = json::parse(st.body, nullptr, false);
  if (j.is_discarded())
    fail(FailureKind::kGarbage, fmt::format("reco serve at {} answered HTTP {} with a body that is "
                                            "not JSON: {}",
                                            st.url, status, preview(st.body)));
  return j;
}

// The value of row 0 of an external function's 200 answer {"data": [[0, value]]}.
json batch_value(long status) {
  const json j = parse_body(status);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].size() != 1 ||
      !j["data"][0].is_array() || j["data"][0].size() != 2 || j["data"][0][0] != 0)
    fail(
        FailureKind::kGarbage,
        fmt::format("reco serve at {} answered HTTP {} with JSON that is not the external-function "
                    "protocol's {{\"data\": [[0, value]]}}: {}",
                    state().url, status, preview(state().body)));
  return j["data"][0][1];
}

void set_reply(Reply& out, long status, const json& value) {
  State& st = state();
  st.value = value.dump();
  st.job.clear();
  out.status = status;
  out.value_json = st.value.c_str();
  out.job = st.job.c_str();
}

// POST /train's or GET /train's answer: 200 with the value, 202 with the first running job.
void train_answer(long status, Reply& out) {
  if (status == 200) return set_reply(out, status, batch_value(status));
  if (status != 202) fail_status(status);
  const json j = parse_body(status);
  set_reply(out, status, nullptr);
  State& st = state();
  if (j.is_object() && j.contains("jobs") && j["jobs"].is_array() && !j["jobs"].empty() &&
      j["jobs"][0].is_object() && j["jobs"][0].contains("job") && j["jobs"][0]["job"].is_string())
    st.job = j["jobs"][0]["job"].get<std::string>();
  out.job = st.job.c_str();
}

json options_value(const char* options_json) {
  if (!options_json) return nullptr;
  json o = json::parse(options_json, nullptr, false);
  if (o.is_discarded()) fail(FailureKind::kInput, "options is not valid JSON");
  return o;
}

std::string escape_segment(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  if (!e) throw std::bad_alloc();
  std::string out(e);
  curl_free(e);
  return out;
}

json external_call(const Settings& s, const char* path, const char* function, const json& row,
                   const char* batch_id) {
  Request r;
  r.method = "POST";
  r.path = path;
  r.body = json{{"data", json::array({row})}}.dump();
  r.function = function;
  r.batch_id = batch_id;
  const long status = perform(s, r);
  if (status != 200) fail_status(status);
  return batch_value(status);
}

// --- in-process models ---------------------------------------------------------------------

struct CachedModel {
  std::string etag;
  std::shared_ptr<const reco::registry::Artifact> artifact;
  std::chrono::steady_clock::time_point checked;
};

std::map<std::string, CachedModel>& model_cache() {
  static std::map<std::string, CachedModel> cache;
  return cache;
}

std::string cache_key(const std::string& base, const std::string& endpoint) {
  return base + "\n" + endpoint;
}

}  // namespace

struct ModelHandle {
  std::shared_ptr<const reco::registry::Artifact> artifact;
};

const Failure& last_failure() noexcept {
  return state().failure;
}

bool train_start(const Settings& s, const char* input, const char* output, const char* options_json,
                 const char* batch_id, Reply& out) noexcept {
  return guard([&] {
    json row = json::array({0, input, output});
    if (options_json) row.push_back(options_value(options_json));
    Request r;
    r.method = "POST";
    r.path = "/train";
    r.body = json{{"data", json::array({row})}}.dump();
    r.function = "train_and_get_recommendations";
    r.batch_id = batch_id;
    r.abandonable = true;  // a retried POST with the same batch id starts nothing new
    train_answer(perform(s, r), out);
  });
}

bool train_poll(const Settings& s, const char* batch_id, Reply& out) noexcept {
  return guard([&] {
    Request r;
    r.path = "/train";
    r.function = "train_and_get_recommendations";
    r.batch_id = batch_id;
    r.abandonable = true;
    train_answer(perform(s, r), out);
  });
}

bool deploy(const Settings& s, const char* endpoint, const char* model_url,
            const char* options_json, const char* batch_id, Reply& out) noexcept {
  return guard([&] {
    json row = json::array({0, endpoint, model_url});
    if (options_json) row.push_back(options_value(options_json));
    set_reply(out, 200, external_call(s, "/deploy", "deploy_model", row, batch_id));
    forget_model(s.service_url, endpoint);
  });
}

bool invoke_http(const Settings& s, const char* endpoint, int64_t user, int64_t item,
                 const char* batch_id, double& prediction, bool& is_null) noexcept {
  return guard([&] {
    const json v = external_call(s, "/invoke", "invoke_model",
                                 json::array({0, endpoint, user, item}), batch_id);
    is_null = v.is_null();
    if (!is_null && !v.is_number())
      fail(FailureKind::kGarbage,
           fmt::format("reco serve at {} answered a prediction that is not a number: {}",
                       state().url, preview(v.dump())));
    prediction = is_null ? 0.0 : v.get<double>();
  });
}

bool rollback(const Settings& s, const char* endpoint, int version, Reply& out) noexcept {
  return guard([&] {
    Request r;
    r.method = "POST";
    r.path = "/endpoints/" + escape_segment(endpoint) + "/rollback";
    r.body = version > 0 ? json{{"version", version}}.dump() : "{}";
    const long status = perform(s, r);
    if (status != 200) fail_status(status);
    const json j = parse_body(status);
    if (!j.is_object()) fail_status(status);
    set_reply(out, status, j);
    forget_model(s.service_url, endpoint);
  });
}

namespace {

json recommend_request(const Settings& s, const char* endpoint, const json& body) {
  Request r;
  r.method = "POST";
  r.path = "/endpoints/" + escape_segment(endpoint) + "/recommend";
  r.body = body.dump();
  const long status = perform(s, r);
  if (status != 200) fail_status(status);
  json j = parse_body(status);
  if (!j.is_object()) fail_status(status);
  return j;
}

}  // namespace

bool recommend(const Settings& s, const char* endpoint, int64_t user, int k, Reply& out) noexcept {
  return guard([&] {
    const json j = recommend_request(s, endpoint, {{"user", user}, {"k", k}});
    json ids = json::array();
    if (!j.contains("recommendations") || !j["recommendations"].is_array())
      fail(FailureKind::kGarbage,
           fmt::format("reco serve at {} answered without recommendations: {}", state().url,
                       preview(state().body)));
    for (const json& r : j["recommendations"]) {
      if (!r.is_object() || !r.contains("item"))
        fail(FailureKind::kGarbage, fmt::format("reco serve at {} answered a recommendation "
                                                "without an item: {}",
                                                state().url, preview(r.dump())));
      ids.push_back(r["item"]);
    }
    set_reply(out, 200, ids);
  });
}

bool recommend_for(const Settings& s, const char* endpoint, const char* ratings_json, int k,
                   Reply& out) noexcept {
  return guard([&] {
    json ratings = json::parse(ratings_json, nullptr, false);
    if (ratings.is_discarded()) fail(FailureKind::kInput, "ratings is not valid JSON");
    set_reply(out, 200, recommend_request(s, endpoint, {{"ratings", ratings}, {"k", k}}));
  });
}

bool acquire_model(const Settings& s, const char* endpoint, int recheck_ms,
                   ModelHandle*& out) noexcept {
  return guard([&] {
    const std::string base = base_url(s);
    const std::string key = cache_key(base, endpoint);
    auto& cache = model_cache();
    const auto now = std::chrono::steady_clock::now();
    auto it = cache.find(key);
    if (it == cache.end() || now - it->second.checked >= std::chrono::milliseconds(recheck_ms)) {
      Request r;
      r.path = "/endpoints/" + escape_segment(endpoint) + "/artifact";
      if (it != cache.end()) r.if_none_match = it->second.etag;
      r.abandonable = true;
      const long status = perform(s, r);
      State& st = state();
      if (status == 304 && it != cache.end()) {
        it->second.checked = now;
      } else if (status == 200) {
        if (st.etag.empty())
          fail(FailureKind::kGarbage,
               fmt::format("reco serve at {} answered an artifact without an ETag", st.url));
        auto artifact = std::make_shared<const reco::registry::Artifact>([&] {
          try {
            return reco::registry::decode_artifact(
                st.body,
                fmt::format("the artifact of endpoint {} from reco serve at {}", endpoint, st.url));
          } catch (const std::exception& e) {
            fail(FailureKind::kGarbage, e.what());
          }
        }());
        CachedModel m{st.etag, std::move(artifact), now};
        it = cache.insert_or_assign(key, std::move(m)).first;
      } else {
        cache.erase(key);
        fail_status(status);
      }
    }
    out = new ModelHandle{it->second.artifact};
  });
}

double predict(const ModelHandle& model, int64_t user, int64_t item) noexcept {
  return model.artifact->model->predict(user, item);
}

void release_model(ModelHandle* model) noexcept {
  delete model;
}

void forget_model(const char* service_url, const char* endpoint) noexcept {
  (void)guard([&] {
    Settings s;
    s.service_url = service_url;
    model_cache().erase(cache_key(base_url(s), endpoint));
  });
}

bool id_from_text(const char* text, int64_t& out) noexcept {
  const auto id = reco::id_from_text(text);
  if (id) out = *id;
  return id.has_value();
}

bool id_from_double(double value, int64_t& out) noexcept {
  const auto id = reco::id_from_double(value);
  if (id) out = *id;
  return id.has_value();
}

}  // namespace reco_pg
