// Operations routes: GET /jobs, GET /jobs/{id}, DELETE /jobs/{id}, GET /metrics, GET /healthz.
#include <unistd.h>

#include <fmt/format.h>

#include "serving/http_server.h"
#include "serving/routes.h"

namespace reco::serving {

namespace {

bool plausible_job_id(const std::string& id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

void list_jobs(RouteContext& ctx, RouteCall&, Response& res) {
  json list = json::array();
  for (const auto& r : ctx.jobs.store().list()) list.push_back(r.to_json(false));
  send_json(res, 200, {{"jobs", std::move(list)}});
}

void show_job(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& id = call.params[0];
  const auto rec = plausible_job_id(id) ? ctx.jobs.store().find(id) : std::nullopt;
  if (!rec) return send_error(res, 404, fmt::format("no job with id {}; GET /jobs lists them", id));
  send_json(res, 200, rec->to_json(true));
}

// DELETE /jobs/{id}: asks the job to stop (it is recorded as Cancelled and writes nothing);
// 202 with the record as it is now, 404 for an unknown id, 409 when it has already finished.
void cancel_job(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& id = call.params[0];
  if (!plausible_job_id(id) || !ctx.jobs.store().find(id)) {
    return send_error(res, 404, fmt::format("no job with id {}; GET /jobs lists them", id));
  }
  const training::JobRecord rec =
      ctx.jobs.store().request_cancel(id, "requested by DELETE /jobs/" + id);
  json body = rec.to_json(false);
  body["cancel_requested"] = true;
  send_json(res, 202, body);
}

void healthz(RouteContext& ctx, RouteCall&, Response& res) {
  send_json(res, 200, {{"status", ctx.http.draining() ? "Draining" : "Alive"}});
}

void metrics(RouteContext& ctx, RouteCall&, Response& res) {
  const PoolStats& ps = ctx.http.stats();
  const HttpLimits& lim = ctx.http.limits();
  std::vector<SampledFamily> f;
  f.push_back({"reco_http_in_flight_requests",
               "Requests being read, handled or answered.",
               "gauge",
               {{{}, static_cast<double>(ps.in_flight.load())}}});
  f.push_back({"reco_http_queue_depth",
               "Requests waiting for a worker.",
               "gauge",
               {{{}, static_cast<double>(ps.queued.load())}}});
  f.push_back({"reco_http_queue_capacity",
               "Requests that may wait for a worker.",
               "gauge",
               {{{}, static_cast<double>(lim.queue)}}});
  f.push_back({"reco_http_busy_workers",
               "Workers running a request's handler.",
               "gauge",
               {{{}, static_cast<double>(ps.busy.load())}}});
  f.push_back(
      {"reco_http_workers", "Worker threads.", "gauge", {{{}, static_cast<double>(lim.workers)}}});
  f.push_back({"reco_http_open_connections",
               "Open connections (idle, reading, waiting, answering).",
               "gauge",
               {{{}, static_cast<double>(ps.connections.load())}}});
  f.push_back({"reco_http_max_connections",
               "Connections that may be open at once.",
               "gauge",
               {{{}, static_cast<double>(lim.max_connections)}}});
  f.push_back({"reco_http_rejected_connections_total",
               "Requests refused with 503 because every worker was busy and the queue full "
               "(lane=overload; health checks and metrics are never refused), and connections "
               "refused with 503 because max_connections were open (lane=accept).",
               "counter",
               {{{{"lane", "overload"}}, static_cast<double>(ps.rejected_overload.load())},
                {{{"lane", "accept"}}, static_cast<double>(ps.rejected_overflow.load())}}});
  f.push_back({"reco_http_protocol_errors_total",
               "Requests refused by the HTTP parser (malformed, smuggling, oversized) or timed "
               "out while arriving.",
               "counter",
               {{{}, static_cast<double>(ps.protocol_errors.load())}}});

  SampledFamily versions{"reco_model_version_loaded",
                         "1 for each model version in service (label version is 0 for an "
                         "artifact outside the registry).",
                         "gauge",
                         {}};
  SampledFamily states{"reco_endpoint_state", "1 for each endpoint's current state.", "gauge", {}};
  for (const auto& st : *ctx.snapshot()) {
    states.samples.push_back({{{"endpoint", st.endpoint.name}, {"state", st.state}}, 1});
    if (st.loaded_at.empty()) continue;
    versions.samples.push_back({{{"endpoint", st.endpoint.name},
                                 {"model", st.endpoint.model_name},
                                 {"version", std::to_string(st.serving_version.value_or(0))},
                                 {"artifact_uri", st.serving_artifact_uri}},
                                1});
  }
  if (ctx.options.model_uri) {
    const ContainerModel container = ctx.container();
    if (container.artifact)
      versions.samples.push_back({{{"endpoint", "default"},
                                   {"model", *ctx.options.model_uri},
                                   {"version", "0"},
                                   {"artifact_uri", container.artifact_uri}},
                                  1});
  }
  f.push_back(std::move(versions));
  f.push_back(std::move(states));

  std::map<std::string, double> by_state{
      {"InProgress", 0}, {"Completed", 0}, {"Failed", 0}, {"Cancelled", 0}};
  for (const auto& r : ctx.jobs.store().list()) by_state[training::to_string(r.state)] += 1;
  SampledFamily job_states{
      "reco_training_jobs", "Training job records in the home, by state.", "gauge", {}};
  for (const auto& [state, n] : by_state) job_states.samples.push_back({{{"state", state}}, n});
  f.push_back(std::move(job_states));

  const double started = std::chrono::duration<double>(ctx.started_at.time_since_epoch()).count();
  f.push_back({"reco_server_start_time_seconds",
               "When the server started, in seconds since the Unix epoch.",
               "gauge",
               {{{}, started}}});

  res.status = 200;
  res.set_content(ctx.metrics.render(f), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

std::vector<RouteSpec> admin_routes() {
  return {
      {"GET", "/jobs", Access::kToken, BodyKind::kNone, false, "", list_jobs},
      {"GET", "/jobs/{id}", Access::kToken, BodyKind::kNone, false, "", show_job},
      {"DELETE", "/jobs/{id}", Access::kToken, BodyKind::kNone, false, "", cancel_job},
      {"GET", "/metrics", Access::kToken, BodyKind::kNone, true, "", metrics},
      {"GET", "/healthz", Access::kPublic, BodyKind::kNone, true, "", healthz},
  };
}

}  // namespace reco::serving
