// serving::Server: lifecycle (start, background refresh, graceful stop) and the request
// plumbing every route shares: access control, overload answers, method / content-type /
// size checks, body decoding, error mapping, metrics and the access log.
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/fs.h"
#include "core/json.h"
#include "registry/model_registry.h"
#include "serving/auth.h"
#include "serving/server_impl.h"

namespace reco::serving {

using Clock = std::chrono::steady_clock;

// --- responses ---------------------------------------------------------------------------------

int http_status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
    case ErrorKind::kInput:
      return 400;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kConflict:
    case ErrorKind::kCancelled:
      return 409;
    case ErrorKind::kIo:
      return 503;
    case ErrorKind::kCorrupt:
    case ErrorKind::kInternal:
      break;
  }
  return 500;
}

void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(json_text_lenient(body) + "\n", "application/json");
}

void send_error(Response& res, int status, const std::string& message, const json& extra) {
  json body = {{"error", message}, {"status", status}};
  for (const auto& [k, v] : extra.items()) body[k] = v;
  if (status == 503 || status == 429) {
    if (!res.has_header("Retry-After")) res.set_header("Retry-After", "1");
  }
  send_json(res, status, body);
}

void send_error(Response& res, const Error& e) {
  send_error(res, http_status_for(e.kind()), e.what(), {{"kind", error_kind_name(e.kind())}});
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Paths in the access log: printable ASCII only, bounded, so a request cannot forge lines.
std::string loggable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\')
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  if (text.size() > 200) out += "...";
  return out;
}

size_t default_threads() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(4, size_t{2} * cores);
}

template <typename F>
void guarded(Response& res, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    send_error(res, e);
  } catch (const std::bad_alloc&) {
    send_error(res, 503, "out of memory while handling the request; retry with a smaller body");
  } catch (const std::exception& e) {
    send_error(res, 500, std::string("internal error: ") + e.what());
  } catch (...) {
    send_error(res, 500, "internal error");
  }
}

}  // namespace

std::vector<RouteSpec> reco_routes() {
  std::vector<RouteSpec> routes = inference_routes();
  for (auto* more : {deployment_routes, external_function_routes, admin_routes, registry_routes,
                     warehouse_routes, console_routes, task_routes}) {
    for (auto& r : more()) routes.push_back(std::move(r));
  }
  return routes;
}

// --- construction and lifecycle ----------------------------------------------------------------

Server::Impl::Impl(ServerOptions o)
    : options(std::move(o)), store(options.home), live(store, options.refresh_interval * 2) {}

namespace {

// Every connection is a descriptor: raise the soft limit toward the hard one so max_connections
// (plus the reserve for health checks, plus files) fits; if it cannot, say what will happen.
void raise_descriptor_limit(const ServerOptions& o, Server::Impl& s) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t needed = static_cast<rlim_t>(o.max_connections) + 256;
  if (lim.rlim_cur >= needed) return;
  rlimit raised = lim;
  raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? needed : std::min(needed, lim.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  if (lim.rlim_cur < needed) {
    s.log_line(fmt::format(
        "{} warning: the process may open {} files, fewer than --max-connections "
        "{} needs; connections beyond that are refused by the kernel's accept",
        utc_timestamp(), static_cast<unsigned long long>(lim.rlim_cur), o.max_connections));
  }
}

std::string read_token_file(const std::string& path) {
  std::string text = read_file(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.empty()) throw Error(ErrorKind::kUsage, fmt::format("--token-file {} is empty", path));
  return text;
}

}  // namespace

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  if (impl_) stop();
}

void Server::start() {
  Impl& s = *impl_;
  ServerOptions& o = s.options;
  if (o.host.empty()) throw Error(ErrorKind::kUsage, "--host is empty");
  if (o.port < 0 || o.port > 65535)
    throw Error(ErrorKind::kUsage, fmt::format("--port {} is not a TCP port (0..65535)", o.port));
  if (!o.token_file.empty()) {
    if (!o.token.empty())
      throw Error(ErrorKind::kUsage, "--token-file and --token/RECO_TOKEN are exclusive");
    o.token = read_token_file(o.token_file);
  }
  if (!o.token.empty()) validate_token(o.token);
  if (o.token.empty() && !is_loopback_host(o.host))
    throw Error(ErrorKind::kUsage,
                fmt::format("--host {} accepts connections from other machines, so the server "
                            "needs a bearer token: pass --token-file FILE, --token or set "
                            "RECO_TOKEN (or listen on 127.0.0.1)",
                            o.host));
  if (o.max_body_bytes == 0) throw Error(ErrorKind::kUsage, "--max-body must be positive");
  if (o.queue == 0) throw Error(ErrorKind::kUsage, "--queue must be at least 1");
  if (o.default_endpoint) deployment::EndpointStore::validate_name(*o.default_endpoint);
  if (o.threads == 0) o.threads = default_threads();
  if (o.db_location.empty()) o.db_location = o.home.warehouse_path().string();
  o.home.create();
  prune_train_batches(o.home, std::chrono::hours(24));

  s.jobs = std::make_unique<training::JobRunner>(o.home, o.db_location, o.training_jobs);
  // The endpoints as recorded (nothing loaded yet), so the first requests already know which
  // exist: /ping says "loading" rather than "none deployed" until the refresh thread loads.
  try {
    s.snapshot = std::make_shared<const std::vector<deployment::EndpointStatus>>(s.live.status());
  } catch (const std::exception& e) {
    s.log_line(fmt::format("{} cannot read the endpoints: {}", utc_timestamp(), e.what()));
  }

  raise_descriptor_limit(o, s);
  s.http = std::make_unique<HttpServer>(limits_from(o), s.handlers());
  s.started_at = std::chrono::system_clock::now();
  std::vector<RouteSpec> routes = reco_routes();
  routes.insert(routes.end(), o.extra_routes.begin(), o.extra_routes.end());
  s.router = std::make_unique<Router>(std::move(routes));
  s.context.reset(new RouteContext{s.options, s.store, s.live, *s.jobs, s.metrics, *s.http,
                                   s.started_at, [&s] { return s.current_snapshot(); },
                                   [&s] { s.refresh_snapshot(); },
                                   [&s] {
                                     const std::lock_guard lock(s.container_mutex);
                                     return s.container;
                                   },
                                   [&s](const std::string& line) { s.log_line(line); }});
  s.port = s.http->bind(o.host, o.port);

  s.listen_thread = std::thread([&s] {
    s.http->run();
    const std::lock_guard lock(s.lifecycle_mutex);
    s.accepting = false;  // normally because of stop(); otherwise accept() failed for good
    s.lifecycle_cv.notify_all();
  });
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (!s.http->is_running() && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    const std::lock_guard lock(s.lifecycle_mutex);
    s.started = true;
  }
  if (o.model_uri) {
    s.model_thread = std::thread([&s] { s.load_container_model(); });
  }
  s.refresh_thread = std::thread([&s] { s.refresh_loop(); });
}

int Server::port() const {
  return impl_->port;
}

std::string Server::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = h.find(':') != std::string::npos && h.front() != '[';
  return fmt::format("http://{}:{}", v6 ? "[" + h + "]" : h, impl_->port);
}

bool Server::running() const {
  const std::lock_guard lock(impl_->lifecycle_mutex);
  return impl_->started && !impl_->stopped && impl_->accepting;
}

bool Server::stop() {
  Impl& s = *impl_;
  {
    std::unique_lock lock(s.lifecycle_mutex);
    if (!s.started || s.stopped) return s.stop_result;
    if (s.stopping) {
      s.lifecycle_cv.wait(lock, [&s] { return s.stopped; });
      return s.stop_result;
    }
    s.stopping = true;
    s.lifecycle_cv.notify_all();  // wakes the refresh loop
  }
  const auto deadline = Clock::now() + s.options.drain_timeout;
  s.http->drain(deadline);
  if (s.listen_thread.joinable()) s.listen_thread.join();
  if (s.refresh_thread.joinable()) s.refresh_thread.join();
  if (s.model_thread.joinable()) s.model_thread.join();
  bool clean = true;
  if (s.jobs) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (s.jobs->stop(std::max(left, std::chrono::milliseconds(0)))) {
      s.jobs.reset();
    } else {
      // A training job cannot be interrupted. Its threads are left to the process exit; the
      // record reads Failed once this process is gone (JobStore checks the owner's pid).
      clean = false;
      (void)s.jobs.release();
    }
  }
  const std::lock_guard lock(s.lifecycle_mutex);
  s.stopped = true;
  s.stop_result = clean;
  s.lifecycle_cv.notify_all();
  return clean;
}

void Server::wait() {
  std::unique_lock lock(impl_->lifecycle_mutex);
  impl_->lifecycle_cv.wait(lock, [this] { return impl_->stopped; });
}

bool Server::model_ready() const {
  const std::lock_guard lock(impl_->container_mutex);
  return impl_->container.artifact != nullptr;
}

std::optional<Error> Server::model_error() const {
  const std::lock_guard lock(impl_->container_mutex);
  if (impl_->container.error.empty()) return std::nullopt;
  return Error(impl_->container.error_kind, impl_->container.error);
}

void Server::Impl::load_container_model() {
  try {
    const registry::ModelRegistry registry(options.home.models_dir());
    const auto path = registry::path_from_uri(*options.model_uri, registry);
    auto artifact = deployment::load_for_serving(path);
    const std::lock_guard lock(container_mutex);
    container.artifact = std::move(artifact);
    container.artifact_uri = registry::artifact_uri(path);
  } catch (const Error& e) {
    const std::lock_guard lock(container_mutex);
    container.error = e.what();
    container.error_kind = e.kind();
  } catch (const std::exception& e) {
    const std::lock_guard lock(container_mutex);
    container.error = e.what();
  }
}

void Server::Impl::refresh_loop() {
  for (;;) {
    refresh_snapshot();
    std::unique_lock lock(lifecycle_mutex);
    if (lifecycle_cv.wait_for(lock, options.refresh_interval, [this] { return stopping; })) return;
  }
}

void Server::Impl::refresh_snapshot() {
  try {
    live.refresh_all();
    auto fresh = std::make_shared<const std::vector<deployment::EndpointStatus>>(live.status());
    const std::lock_guard lock(snapshot_mutex);
    snapshot = std::move(fresh);
  } catch (const std::exception& e) {
    // An unreadable endpoints folder is reported by the routes that need it; keep the last
    // snapshot and try again on the next tick.
    log_line(fmt::format("{} refresh of the endpoints failed: {}", utc_timestamp(), e.what()));
  }
}

std::shared_ptr<const std::vector<deployment::EndpointStatus>> Server::Impl::current_snapshot()
    const {
  const std::lock_guard lock(snapshot_mutex);
  if (snapshot) return snapshot;
  return std::make_shared<const std::vector<deployment::EndpointStatus>>();
}

void Server::Impl::log_line(const std::string& line) {
  const std::string text = line + "\n";  // one write per line: lines never interleave
  const std::lock_guard lock(log_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

// --- request plumbing --------------------------------------------------------------------------

HttpServer::Handlers Server::Impl::handlers() {
  HttpServer::Handlers h;
  h.on_headers = [this](Request& req, RequestContext& ctx, Response& res, size_t&) {
    return pre_routing(req, ctx, res);
  };
  h.inline_route = [](const RequestContext& ctx) {
    return ctx.route != nullptr && ctx.route->answered_when_overloaded;
  };
  h.handle = [this](Request& req, RequestContext& ctx, Response& res) { dispatch(req, ctx, res); };
  // Metrics and the access log are written before the answer is sent, so a client that reads
  // /metrics right after an answer always finds it counted.
  h.after = [this](const Request& req, const RequestContext& ctx, const Response& res) {
    after_response(req, ctx, res);
  };
  h.error = [](Response& res, int status, const std::string& message) {
    send_error(res, status, message);
  };
  return h;
}

bool Server::Impl::pre_routing(Request& req, RequestContext& ctx, Response& res) {
  RouteMatch m = router->match(req.method, req.path);
  ctx.route = m.route;
  ctx.params = std::move(m.params);
  ctx.label = m.label;

  // The parser has checked the framing: Content-Length is digits, never with chunked.
  uint64_t content_length = 0;
  if (req.has_header("Content-Length")) {
    const std::string v = req.get_header_value("Content-Length");
    std::from_chars(v.data(), v.data() + v.size(), content_length);
  }
  const bool chunked = req.has_header("Transfer-Encoding");
  const bool has_body = content_length > 0 || chunked;
  const auto answered = [] { return true; };  // the front closes the connection after it

  // Without the token, nothing is revealed but the public routes (and the methods they allow).
  const bool needs_token =
      m.route
          ? m.route->access == Access::kToken
          : std::none_of(router->routes().begin(), router->routes().end(), [&](const RouteSpec& r) {
              return r.access == Access::kPublic && match_pattern(r.pattern, req.path);
            });
  if (!options.token.empty() && needs_token) {
    const std::string authorization = req.get_header_value("Authorization");
    const auto given = bearer_token(authorization);  // a view into `authorization`
    if (!given || !tokens_equal(options.token, *given)) {
      res.set_header("WWW-Authenticate", given ? R"(Bearer realm="reco", error="invalid_token")"
                                               : R"(Bearer realm="reco")");
      send_error(res, 401,
                 given ? "the bearer token is not valid"
                       : "this server requires a bearer token: send the header "
                         "\"Authorization: Bearer <token>\"");
      return answered();
    }
  }
  if (!m.path_known) {
    send_error(res, 404,
               fmt::format("no route for {} {}; routes: {}", loggable(req.method),
                           loggable(req.path), router->summary()));
    return answered();
  }
  if (!m.route) {
    res.set_header("Allow", m.allowed);
    send_error(res, 405,
               fmt::format("{} is not allowed on {}; allowed: {}", loggable(req.method), m.label,
                           m.allowed));
    return answered();
  }
  const BodyKind kind = m.route->body;
  if (kind == BodyKind::kNone) return false;

  // A request without Content-Length or chunked encoding has no body (RFC 9112 §6.3).
  if (!has_body && kind == BodyKind::kOptional) return false;
  if (!has_body) {
    send_error(
        res, 400,
        kind == BodyKind::kPayload ? "empty body: expected user_id,item_id lines (text/csv) or "
                                     "{\"instances\": [[user_id, item_id], ...]} (application/json)"
        : kind == BodyKind::kBatch ? "empty body: expected {\"data\": [[row_number, args...], ...]}"
                                   : "empty body");
    return answered();
  }
  if (content_length > options.max_body_bytes) {
    send_error(res, 413,
               fmt::format("the request body ({} bytes) is larger than the limit of {} bytes",
                           content_length, options.max_body_bytes),
               {{"limit_bytes", options.max_body_bytes}});
    return answered();
  }

  const std::string content_type = req.get_header_value("Content-Type");
  const MediaType mt = parse_media_type(content_type);
  if (kind == BodyKind::kPayload) {
    if (mt.type != "text/csv" && mt.type != "application/json") {
      send_error(res, 415,
                 mt.type.empty() ? std::string("the Content-Type header is missing: send text/csv "
                                               "(user_id,item_id lines) or application/json")
                                 : fmt::format("Content-Type {} is not supported: send text/csv "
                                               "(user_id,item_id lines) or application/json",
                                               loggable(mt.type)));
      return answered();
    }
    const auto format =
        negotiate_accept(req.get_header_value("Accept"),
                         mt.type == "text/csv" ? BodyFormat::kCsv : BodyFormat::kJson);
    if (!format) {
      send_error(res, 406,
                 fmt::format("cannot answer in any type the Accept header lists ({}): reco "
                             "answers text/csv or application/json",
                             loggable(req.get_header_value("Accept"))));
      return answered();
    }
  } else if (kind == BodyKind::kBatch && !mt.type.empty() && mt.type != "application/json") {
    send_error(res, 415,
               fmt::format("Content-Type {} is not supported: external functions send "
                           "application/json",
                           loggable(mt.type)));
    return answered();
  }
  if (const auto charset = mt.param("charset"); charset && !is_ascii_compatible_charset(*charset)) {
    send_error(
        res, 415,
        fmt::format("charset {} is not supported: send UTF-8 (or ASCII)", loggable(*charset)));
    return answered();
  }

  const std::string encoding = lower(trimmed(req.get_header_value("Content-Encoding")));
  if (!encoding.empty() && encoding != "identity") {
    if (encoding != "gzip" && encoding != "x-gzip" && encoding != "deflate") {
      send_error(res, 415,
                 fmt::format("Content-Encoding {} is not supported: send gzip, deflate or "
                             "an uncompressed body",
                             loggable(encoding)));
      return answered();
    }
    ctx.content_encoding = encoding == "deflate" ? "deflate" : "gzip";
  }
  return false;
}

std::optional<std::string> Server::Impl::decode_body(Request& req, const RequestContext& ctx,
                                                     Response& res) {
  if (ctx.content_encoding.empty()) return std::move(req.body);
  const size_t limit = options.max_body_bytes;
  bool too_large = false;
  try {
    std::string plain = inflate_body(req.body, ctx.content_encoding == "gzip", limit, &too_large);
    if (too_large) {
      send_error(res, 413,
                 fmt::format("the decompressed request body is larger than the limit of {} "
                             "bytes",
                             limit),
                 {{"limit_bytes", limit}});
      return std::nullopt;
    }
    return plain;
  } catch (const Error& e) {
    send_error(res, e);
    return std::nullopt;
  }
}

void Server::Impl::dispatch(Request& req, RequestContext& ctx, Response& res) {
  if (ctx.route == nullptr) {  // pre_routing answers these; a request it did not see
    send_error(res, 404,
               fmt::format("no route for {} {}", loggable(req.method), loggable(req.path)));
    return;
  }
  RouteCall call{req, ctx.params, {}, {}, 0};
  guarded(res, [&] {
    if (ctx.route->body != BodyKind::kNone) {
      auto body = decode_body(req, ctx, res);
      if (!body) return;
      call.body = std::move(*body);
    }
    ctx.route->handler(*context, call, res);
  });
  ctx.endpoint = std::move(call.endpoint);
  ctx.predictions = call.predictions;
}

void Server::Impl::after_response(const Request& req, const RequestContext& ctx,
                                  const Response& res) {
  const double seconds = std::chrono::duration<double>(Clock::now() - ctx.start).count();
  metrics.observe_request(ctx.label, ctx.endpoint, req.method, res.status, seconds);
  if (!ctx.endpoint.empty() && ctx.predictions > 0)
    metrics.add_predictions(ctx.endpoint, ctx.predictions);
  if (!options.access_log) return;
  std::string line = fmt::format("{} {} \"{} {}\" {} {}B {:.2f}ms", utc_timestamp(),
                                 req.remote_addr.empty() ? "-" : req.remote_addr,
                                 req.method.empty() ? "-" : loggable(req.method),
                                 req.path.empty() ? "-" : loggable(req.path), res.status,
                                 res.body.size(), seconds * 1000);
  if (!ctx.endpoint.empty()) line += " endpoint=" + loggable(ctx.endpoint);
  if (ctx.predictions > 0) line += fmt::format(" predictions={}", ctx.predictions);
  log_line(line);
}

}  // namespace reco::serving
