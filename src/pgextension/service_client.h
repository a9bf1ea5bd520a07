#pragma once
// The half of the PostgreSQL extension that talks to `reco serve` and holds models: plain C++
// that includes no PostgreSQL header. Every function here is noexcept: it catches whatever the
// C++ code throws and reports it as a Failure, so no C++ exception reaches PostgreSQL; and the
// PostgreSQL half (reco_pg.cpp) calls ereport() only after a call has returned, so no
// PostgreSQL error (a longjmp) crosses a C++ frame with something to destroy.
//
// Strings handed back (Reply::value_json, Failure::message) point into storage of this module
// and stay valid until the next call into it. The backend is single-threaded; so is this.

#include <cstdint>

namespace reco_pg {

struct Settings {
  const char* service_url = "";  // http://host:port (a trailing slash is ignored)
  const char* token_file = "";   // "" for none; read at every call
  int connect_timeout_ms = 0;
  int request_timeout_ms = 0;
  // Polled while a transfer that may be abandoned runs (query cancel, statement_timeout):
  // true stops it with FailureKind::kCancelled. Null: never abandoned.
  bool (*interrupted)() = nullptr;
};

enum class FailureKind {
  kConfig,     // a setting is wrong (service URL, token file)
  kConnect,    // cannot reach the service
  kTimeout,    // the service did not answer in time
  kCancelled,  // interrupted() said stop
  kService,    // the service answered an HTTP error (http_status), its message in `message`
  kGarbage,    // the answer is not what the protocol says
  kInput,      // an argument can never work (checked here, before any request)
  kInternal,
};

struct Failure {
  FailureKind kind = FailureKind::kInternal;
  long http_status = 0;
  const char* message = "";
  const char* url = "";  // the URL called ("" before any)
};
const Failure& last_failure() noexcept;

// What a successful call answered: HTTP status (200, or 202 while a training batch runs),
// the value as JSON text (the external function's value, or the route's answer), and for a
// 202 the id of the first job still running ("" when not known).
struct Reply {
  long status = 0;
  const char* value_json = "null";
  const char* job = "";
};

// The external-function protocol (POST /train, GET /train, POST /deploy, POST /invoke): one
// row numbered 0. options_json may be null (no options). batch_id: the
// sf-external-function-query-batch-id, the same for the POST and its polls.
bool train_start(const Settings& s, const char* input, const char* output, const char* options_json,
                 const char* batch_id, Reply& out) noexcept;
bool train_poll(const Settings& s, const char* batch_id, Reply& out) noexcept;
bool deploy(const Settings& s, const char* endpoint, const char* model_url,
            const char* options_json, const char* batch_id, Reply& out) noexcept;
bool invoke_http(const Settings& s, const char* endpoint, int64_t user, int64_t item,
                 const char* batch_id, double& prediction, bool& is_null) noexcept;

// reco's own routes: POST /endpoints/{name}/rollback, POST /endpoints/{name}/recommend.
// version 0: the previous deployment.
bool rollback(const Settings& s, const char* endpoint, int version, Reply& out) noexcept;
// value_json: the JSON array of the k best item ids (as recommend() on SQLite).
bool recommend(const Settings& s, const char* endpoint, int64_t user, int k, Reply& out) noexcept;
// value_json: the fold-in answer object (as recommend_for() on SQLite).
bool recommend_for(const Settings& s, const char* endpoint, const char* ratings_json, int k,
                   Reply& out) noexcept;

// Models predicted with in this process. acquire_model hands out the model the endpoint serves:
// from this backend's cache when it was checked less than recheck_ms ago, else after asking
// GET /endpoints/{name}/artifact with the cached ETag (304: unchanged; 200: a new artifact,
// decoded and its checksum verified before it replaces the cached one). A handle keeps its model
// alive until released, whatever the cache does meanwhile.
struct ModelHandle;
bool acquire_model(const Settings& s, const char* endpoint, int recheck_ms,
                   ModelHandle*& out) noexcept;
double predict(const ModelHandle& model, int64_t user, int64_t item) noexcept;
void release_model(ModelHandle* model) noexcept;
// Drops the cached model of an endpoint (this backend just redeployed it).
void forget_model(const char* service_url, const char* endpoint) noexcept;

// Ids as the warehouse sends them (core/ids.h): 10, 10.0, "10", "10.0".
bool id_from_text(const char* text, int64_t& out) noexcept;
bool id_from_double(double value, int64_t& out) noexcept;

}  // namespace reco_pg
