// The PostgreSQL half of the extension `reco` (CREATE EXTENSION reco): the SQL functions of the
// guide, answered by `reco serve` (service_client.h does the HTTP and holds models).
//
// Rules this file keeps, so that neither error mechanism crosses the other:
//  - it calls into service_client only through noexcept functions, which report failures as
//    values; no C++ exception reaches PostgreSQL;
//  - every object of this file with a destructor lives inside service_client; the functions
//    below hold only plain values and palloc'd memory, so an ereport(ERROR) (a longjmp) never
//    skips a destructor;
//  - a model handle held across rows is released by a memory-context callback, which runs when
//    the statement ends, normally or by an error.

extern "C" {
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void _PG_init(void);
PG_FUNCTION_INFO_V1(reco_train_and_get_recommendations);
PG_FUNCTION_INFO_V1(reco_deploy_model);
PG_FUNCTION_INFO_V1(reco_rollback_model);
PG_FUNCTION_INFO_V1(reco_invoke_model);
PG_FUNCTION_INFO_V1(reco_recommend);
PG_FUNCTION_INFO_V1(reco_recommend_for);
}

#include "pgextension/service_client.h"

namespace {

// --- settings (GUCs) -------------------------------------------------------------------------

enum InvokeMode { kInvokeBackend, kInvokeHttp };

const struct config_enum_entry kInvokeModes[] = {
    {"backend", kInvokeBackend, false}, {"http", kInvokeHttp, false}, {nullptr, 0, false}};

char* g_service_url = nullptr;
char* g_token_file = nullptr;
int g_connect_timeout_ms = 2000;
int g_request_timeout_ms = 60000;
int g_train_timeout_s = 600;
int g_invoke_mode = kInvokeBackend;
int g_model_recheck_ms = 1000;

bool interrupted() {
  return QueryCancelPending || ProcDiePending;
}

reco_pg::Settings settings() {
  reco_pg::Settings s;
  s.service_url = g_service_url ? g_service_url : "";
  s.token_file = g_token_file ? g_token_file : "";
  s.connect_timeout_ms = g_connect_timeout_ms;
  s.request_timeout_ms = g_request_timeout_ms;
  s.interrupted = interrupted;
  return s;
}

// --- errors ------------------------------------------------------------------------------------

int sqlstate_for(const reco_pg::Failure& f) {
  switch (f.kind) {
    case reco_pg::FailureKind::kConfig:
    case reco_pg::FailureKind::kInput:
      return ERRCODE_INVALID_PARAMETER_VALUE;
    case reco_pg::FailureKind::kConnect:
      return ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
    case reco_pg::FailureKind::kTimeout:
      return ERRCODE_CONNECTION_FAILURE;
    case reco_pg::FailureKind::kCancelled:
      return ERRCODE_QUERY_CANCELED;
    case reco_pg::FailureKind::kGarbage:
      return ERRCODE_PROTOCOL_VIOLATION;
    case reco_pg::FailureKind::kInternal:
      return ERRCODE_INTERNAL_ERROR;
    case reco_pg::FailureKind::kService:
      break;
  }
  switch (f.http_status) {
    case 400:
    case 415:
    case 422:
      return ERRCODE_INVALID_PARAMETER_VALUE;
    case 401:
    case 403:
      return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
    case 404:
      return ERRCODE_UNDEFINED_OBJECT;
    case 409:
      return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
    case 413:
      return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
    case 429:
    case 503:
      return ERRCODE_INSUFFICIENT_RESOURCES;
    default:
      return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
  }
}

// Raises the last failure of service_client as an ERROR of `function`. A transfer stopped by a
// cancel or statement_timeout raises PostgreSQL's own error (CHECK_FOR_INTERRUPTS).
pg_attribute_noreturn() void report_failure(const char* function) {
  const reco_pg::Failure& f = reco_pg::last_failure();
  if (f.kind == reco_pg::FailureKind::kCancelled) CHECK_FOR_INTERRUPTS();
  if (f.kind == reco_pg::FailureKind::kService)
    ereport(ERROR, (errcode(sqlstate_for(f)), errmsg("%s: %s", function, f.message),
                    errdetail("reco serve at %s answered HTTP %ld.", f.url, f.http_status)));
  ereport(ERROR, (errcode(sqlstate_for(f)), errmsg("%s: %s", function, f.message)));
  pg_unreachable();
}

// --- arguments and results ---------------------------------------------------------------------

char* text_arg(FunctionCallInfo fcinfo, int k) {
  return text_to_cstring(PG_GETARG_TEXT_PP(k));
}

// The text of a jsonb argument, or null when absent or NULL.
char* optional_jsonb_arg(FunctionCallInfo fcinfo, int k) {
  if (PG_NARGS() <= k || PG_ARGISNULL(k)) return nullptr;
  Jsonb* j = PG_GETARG_JSONB_P(k);
  return JsonbToCString(nullptr, &j->root, VARSIZE(j));
}

Datum jsonb_result(const char* text) {
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

// A user or item id of any type, as the warehouse sends them: integers as they are; floats,
// numerics and text when they hold an integral value (10, 10.0, '10', '10.0').
int64 id_arg(FunctionCallInfo fcinfo, int k, Oid type, const char* function,
             const char* parameter) {
  const Datum d = PG_GETARG_DATUM(k);
  int64_t id = 0;
  bool ok = false;
  const char* shown = nullptr;
  switch (type) {
    case INT2OID:
      return DatumGetInt16(d);
    case INT4OID:
      return DatumGetInt32(d);
    case INT8OID:
      return DatumGetInt64(d);
    case FLOAT4OID:
    case FLOAT8OID: {
      const double v = type == FLOAT4OID ? DatumGetFloat4(d) : DatumGetFloat8(d);
      ok = reco_pg::id_from_double(v, id);
      if (!ok) shown = DatumGetCString(DirectFunctionCall1(float8out, Float8GetDatum(v)));
      break;
    }
    default: {
      Oid out = InvalidOid;
      bool varlena = false;
      getTypeOutputInfo(type, &out, &varlena);
      shown = OidOutputFunctionCall(out, d);
      ok = reco_pg::id_from_text(shown, id);
    }
  }
  if (!ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s: %s must be an integer id (10, 10.0, '10' or '10.0'), got '%.100s'",
                           function, parameter, shown)));
  return id;
}

constexpr int kMaxK = 10000;

int k_arg(FunctionCallInfo fcinfo, int k, const char* function) {
  if (PG_NARGS() <= k) return 10;
  const int32 v = PG_GETARG_INT32(k);
  if (v < 1 || v > kMaxK)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s: k must be between 1 and %d, got %d", function, kMaxK, v)));
  return v;
}

// One id per call, so that retries of the same call are recognised as such by the service.
void new_batch_id(char* out, size_t size) {
  static uint32 counter = 0;
  snprintf(out, size, "pg-" UINT64_FORMAT "-%d-" INT64_FORMAT "-%u", GetSystemIdentifier(),
           MyProcPid, static_cast<int64>(GetCurrentTimestamp()), ++counter);
}

// --- train_and_get_recommendations: POST /train, then GET /train until the job is done --------

struct TrainWait {
  bool waiting = false;  // in the poll loop: an error now stops waiting, not the job
  char job[128] = "";
  char url[512] = "";
};

void train_wait_context(void* arg) {
  const auto* w = static_cast<const TrainWait*>(arg);
  if (!w->waiting) return;
  if (w->job[0])
    errcontext(
        "train_and_get_recommendations stopped waiting; training job %s goes on in reco serve "
        "at %s: follow it with `reco jobs` or GET /jobs/%s",
        w->job, w->url, w->job);
  else
    errcontext(
        "train_and_get_recommendations stopped waiting; its training job goes on in reco serve "
        "at %s: follow it with `reco jobs` or GET /jobs",
        w->url);
}

}  // namespace

extern "C" {

void _PG_init(void) {
  DefineCustomStringVariable(
      "reco.service_url", "URL of reco serve, which the reco functions call.",
      "Only superusers may change it (ALTER SYSTEM, ALTER DATABASE ... SET): the functions send "
      "the token of reco.token_file there.",
      &g_service_url, "http://127.0.0.1:8080", PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable(
      "reco.token_file",
      "File holding the bearer token of reco serve (read at every call; empty: no token).",
      "It must be readable by the server's OS user. The token itself is never a setting, so it "
      "appears in no view or log. Only superusers may change it.",
      &g_token_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("reco.connect_timeout", "Time allowed to connect to reco serve.", nullptr,
                          &g_connect_timeout_ms, 2000, 1, 600000, PGC_USERSET, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("reco.request_timeout", "Time allowed for one request to reco serve.",
                          nullptr, &g_request_timeout_ms, 60000, 1, 3600000, PGC_USERSET,
                          GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "reco.train_timeout", "How long train_and_get_recommendations waits for its training job.",
      "When it gives up the job goes on; statement_timeout and a cancel also stop the waiting.",
      &g_train_timeout_s, 600, 1, 86400 * 7, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomEnumVariable(
      "reco.invoke_mode", "How invoke_model predicts: backend or http.",
      "backend: the endpoint's model is fetched from reco serve (checksummed) and predicts in "
      "this process; http: every row is one call of the external function /invoke.",
      &g_invoke_mode, kInvokeBackend, kInvokeModes, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "reco.model_recheck_interval",
      "How often invoke_model asks reco serve whether an endpoint was redeployed.", nullptr,
      &g_model_recheck_ms, 1000, 0, 3600000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("reco");
}

// train_and_get_recommendations(input text, output text [, options jsonb]) returns jsonb
Datum reco_train_and_get_recommendations(PG_FUNCTION_ARGS) {
  constexpr const char* kName = "train_and_get_recommendations";
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  const char* input = text_arg(fcinfo, 0);
  const char* output = text_arg(fcinfo, 1);
  const char* options = optional_jsonb_arg(fcinfo, 2);
  char batch[160];
  new_batch_id(batch, sizeof batch);
  const reco_pg::Settings s = settings();
  reco_pg::Reply reply;
  TrainWait wait;
  ErrorContextCallback context;
  context.callback = train_wait_context;
  context.arg = &wait;
  context.previous = error_context_stack;
  error_context_stack = &context;

  bool ok = reco_pg::train_start(s, input, output, options, batch, reply);
  const TimestampTz started = GetCurrentTimestamp();
  long interval_ms = 10;
  while (true) {
    if (!ok) {
      if (reco_pg::last_failure().kind == reco_pg::FailureKind::kCancelled) {
        // A cancel or statement_timeout: PostgreSQL raises it (with the context above). Another
        // interrupt stopped the transfer: ask again (the batch id makes that safe).
        wait.waiting = true;
        CHECK_FOR_INTERRUPTS();
        if (interrupted()) report_failure(kName);  // held off: stop rather than spin
        wait.waiting = false;
        ok = reco_pg::train_poll(s, batch, reply);
        continue;
      }
      report_failure(kName);
    }
    if (reply.status != 202) break;
    if (reply.job[0]) strlcpy(wait.job, reply.job, sizeof wait.job);
    strlcpy(wait.url, s.service_url, sizeof wait.url);
    wait.waiting = true;
    if (TimestampDifferenceExceeds(started, GetCurrentTimestamp(), g_train_timeout_s * 1000))
      ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED),
                      errmsg("%s: gave up waiting for the training job after %d s "
                             "(reco.train_timeout)",
                             kName, g_train_timeout_s)));
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, interval_ms,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    wait.waiting = false;
    interval_ms = interval_ms * 3 / 2 > 50 ? 50 : interval_ms * 3 / 2;
    ok = reco_pg::train_poll(s, batch, reply);
  }
  error_context_stack = context.previous;
  if (strcmp(reply.value_json, "null") == 0) PG_RETURN_NULL();
  PG_RETURN_DATUM(jsonb_result(reply.value_json));
}

// deploy_model(endpoint text, model_url text [, options jsonb]) returns jsonb
Datum reco_deploy_model(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  const char* endpoint = text_arg(fcinfo, 0);
  const char* url = text_arg(fcinfo, 1);
  const char* options = optional_jsonb_arg(fcinfo, 2);
  char batch[160];
  new_batch_id(batch, sizeof batch);
  reco_pg::Settings s = settings();
  s.interrupted = nullptr;  // a deployment is not abandoned half-way: it answers within timeout
  reco_pg::Reply reply;
  if (!reco_pg::deploy(s, endpoint, url, options, batch, reply)) report_failure("deploy_model");
  if (strcmp(reply.value_json, "null") == 0) PG_RETURN_NULL();
  PG_RETURN_DATUM(jsonb_result(reply.value_json));
}

// rollback_model(endpoint text [, version int]) returns jsonb
Datum reco_rollback_model(PG_FUNCTION_ARGS) {
  constexpr const char* kName = "rollback_model";
  const char* endpoint = text_arg(fcinfo, 0);
  int version = 0;
  if (PG_NARGS() > 1) {
    version = PG_GETARG_INT32(1);
    if (version < 1)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("%s: version must be a positive integer, got %d", kName, version)));
  }
  reco_pg::Settings s = settings();
  s.interrupted = nullptr;
  reco_pg::Reply reply;
  if (!reco_pg::rollback(s, endpoint, version, reply)) report_failure(kName);
  PG_RETURN_DATUM(jsonb_result(reply.value_json));
}

// recommend(endpoint text, user_id anyelement [, k int]) returns jsonb: the k best item ids
Datum reco_recommend(PG_FUNCTION_ARGS) {
  constexpr const char* kName = "recommend";
  const char* endpoint = text_arg(fcinfo, 0);
  const int64 user = id_arg(fcinfo, 1, get_fn_expr_argtype(fcinfo->flinfo, 1), kName, "user_id");
  const int k = k_arg(fcinfo, 2, kName);
  reco_pg::Reply reply;
  if (!reco_pg::recommend(settings(), endpoint, user, k, reply)) report_failure(kName);
  PG_RETURN_DATUM(jsonb_result(reply.value_json));
}

// recommend_for(endpoint text, ratings jsonb [, k int]) returns jsonb: a new user's top-k
Datum reco_recommend_for(PG_FUNCTION_ARGS) {
  constexpr const char* kName = "recommend_for";
  const char* endpoint = text_arg(fcinfo, 0);
  const char* ratings = optional_jsonb_arg(fcinfo, 1);
  const int k = k_arg(fcinfo, 2, kName);
  reco_pg::Reply reply;
  if (!reco_pg::recommend_for(settings(), endpoint, ratings, k, reply)) report_failure(kName);
  PG_RETURN_DATUM(jsonb_result(reply.value_json));
}

}  // extern "C"

namespace {

// What one call site of invoke_model keeps for the statement (in fn_extra): the endpoint and,
// in backend mode, its model, so every row of the statement uses the same model.
struct InvokeState {
  char* endpoint;
  reco_pg::ModelHandle* model;
  bool http;
  Oid user_type;
  Oid item_type;
  MemoryContextCallback release;
};

void release_invoke_state(void* arg) {
  auto* st = static_cast<InvokeState*>(arg);
  reco_pg::release_model(st->model);
  st->model = nullptr;
}

InvokeState* invoke_state(FunctionCallInfo fcinfo) {
  auto* st = static_cast<InvokeState*>(fcinfo->flinfo->fn_extra);
  if (st) return st;
  st = static_cast<InvokeState*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof *st));
  st->http = g_invoke_mode == kInvokeHttp;
  st->user_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
  st->item_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
  st->release.func = release_invoke_state;
  st->release.arg = st;
  MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, &st->release);
  fcinfo->flinfo->fn_extra = st;
  return st;
}

}  // namespace

extern "C" {

// invoke_model(endpoint text, user_id anycompatible, item_id anycompatible) returns float8
Datum reco_invoke_model(PG_FUNCTION_ARGS) {
  constexpr const char* kName = "invoke_model";
  InvokeState* st = invoke_state(fcinfo);
  const text* name = PG_GETARG_TEXT_PP(0);
  const int64 user = id_arg(fcinfo, 1, st->user_type, kName, "user_id");
  const int64 item = id_arg(fcinfo, 2, st->item_type, kName, "item_id");
  const size_t len = VARSIZE_ANY_EXHDR(name);
  const bool same = st->endpoint && strlen(st->endpoint) == len &&
                    memcmp(st->endpoint, VARDATA_ANY(name), len) == 0;
  if (!same) {
    char* endpoint = text_to_cstring(name);
    char* kept = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, endpoint);
    if (st->endpoint) pfree(st->endpoint);
    st->endpoint = kept;
    reco_pg::release_model(st->model);
    st->model = nullptr;
  }
  if (st->http) {
    double prediction = 0;
    bool is_null = false;
    if (!reco_pg::invoke_http(settings(), st->endpoint, user, item, nullptr, prediction, is_null))
      report_failure(kName);
    if (is_null) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(prediction);
  }
  if (!st->model) {
    reco_pg::ModelHandle* model = nullptr;
    if (!reco_pg::acquire_model(settings(), st->endpoint, g_model_recheck_ms, model))
      report_failure(kName);
    st->model = model;
  }
  PG_RETURN_FLOAT8(reco_pg::predict(*st->model, user, item));
}

}  // extern "C"
