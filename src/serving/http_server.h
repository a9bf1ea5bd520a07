#pragma once
// reco's HTTP/1.1 front: one event-driven thread (epoll) owns every connection and a bounded pool
// of workers runs the route handlers, so an idle or slow connection costs a few kilobytes of
// memory and never a worker:
//  - the reactor accepts, reads and parses requests with the strict parser (http_parser.h:
//    request smuggling, oversized headers and bad framing get 400/413/414/431 and the connection
//    closes), and enforces per-connection deadlines: `read_timeout` of silence, `request_timeout`
//    for a whole request, `write_timeout` for a stalled answer, `keep_alive_timeout` when idle;
//  - at most `max_connections` are open for ordinary requests; 64 more are accepted to answer
//    health checks and metrics only (503 for anything else), and beyond those a connection gets
//    a canned 503 and is closed;
//  - after the headers, the server's check (Handlers::on_headers) may answer at once (401, 413,
//    415, ...) before the body is read; the body is then drained for `linger` so the client
//    reads the answer, and the connection closes;
//  - a complete request goes to the workers (at most `queue` waiting; beyond that 503 with
//    Retry-After), except routes marked for it (health checks and metrics), which the reactor
//    answers itself: overload never sheds them;
//  - graceful drain: stop accepting, close idle connections, let requests in progress finish,
//    and close whatever is left at the deadline.
// Requests on a keep-alive connection are answered in order, one at a time (pipelined requests
// wait in the connection's buffer).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serving/http_message.h"
#include "serving/route.h"
#include "serving/server.h"

namespace reco::serving {

struct HttpLimits {
  size_t workers = 0;
  size_t queue = 0;            // complete requests waiting for a worker
  size_t max_connections = 0;  // open connections; beyond them a canned 503
  size_t max_header_bytes = 64 * 1024;
  size_t max_body = 0;
  std::chrono::milliseconds read_timeout{};     // longest silence while reading a request
  std::chrono::milliseconds write_timeout{};    // longest stall while writing an answer
  std::chrono::milliseconds request_timeout{};  // whole request (headers + body) must arrive
  std::chrono::milliseconds keep_alive_timeout{};
  size_t keep_alive_max = 0;               // requests per connection
  int backlog = 4096;                      // kernel accept queue
  std::chrono::milliseconds linger{1000};  // draining an unread body before close
};
// The limits a server's options (ServerOptions, the only place their defaults are written) ask
// for; workers must already be resolved (not 0).
HttpLimits limits_from(const ServerOptions& options);

// What the server knows of one request, from its headers to its answer.
struct RequestContext {
  std::chrono::steady_clock::time_point start;
  const RouteSpec* route = nullptr;  // null: no route answers the request
  std::vector<std::string> params;   // the {x} parts of the route's pattern
  std::string label = "other";       // the route's label, for metrics and the access log
  std::string endpoint;              // endpoint label for metrics and the access log ("" if none)
  std::string content_encoding;      // "gzip" / "deflate": reco inflates the body itself
  size_t predictions = 0;
  bool overload = false;  // answered because the workers' queue was full
};

// Counters for metrics.
struct PoolStats {
  std::atomic<size_t> queued{0};               // requests waiting for a worker
  std::atomic<size_t> busy{0};                 // workers running a handler
  std::atomic<size_t> in_flight{0};            // requests being read, handled or answered
  std::atomic<size_t> connections{0};          // open connections
  std::atomic<uint64_t> rejected_overload{0};  // 503: the workers' queue was full
  std::atomic<uint64_t> rejected_overflow{0};  // canned 503: too many connections
  std::atomic<uint64_t> protocol_errors{0};    // malformed or oversized requests, timeouts
};

class HttpServer {
 public:
  struct Handlers {
    // After the headers, on the reactor: fills `ctx` (route) and may answer at once (returns
    // true), before any body is read. May lower the body limit it returns through `body_limit`.
    std::function<bool(Request&, RequestContext&, Response&, size_t& body_limit)> on_headers;
    // Whether the reactor answers this request itself (cheap routes that overload never sheds).
    std::function<bool(const RequestContext&)> inline_route;
    // The whole request: on a worker, or on the reactor for inline routes. Must not throw.
    std::function<void(Request&, RequestContext&, Response&)> handle;
    // Every answer, just before it is written (metrics, access log); also for the parser's and
    // the server's own answers (then ctx.route is null).
    std::function<void(const Request&, const RequestContext&, const Response&)> after;
    // The JSON body of the server's own error answers (400, 408, 413, 431, 503, ...).
    std::function<void(Response&, int status, const std::string& message)> error;
  };

  HttpServer(const HttpLimits& limits, Handlers handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free one) with SO_REUSEADDR (never SO_REUSEPORT: a second
  // server on the same port must fail, not share it). Returns the bound port; throws Error(kIo).
  int bind(const std::string& host, int port);
  // Serves until drain() has finished; returns when every connection is closed.
  void run();
  bool is_running() const { return running_.load(); }
  // Stops accepting; requests in progress finish; idle connections close. After `deadline` the
  // connections still open are closed. Safe to call from any thread.
  void drain(std::chrono::steady_clock::time_point deadline);
  bool draining() const { return draining_.load(); }

  const PoolStats& stats() const { return stats_; }
  const HttpLimits& limits() const { return limits_; }

 private:
  class Impl;
  HttpLimits limits_;
  PoolStats stats_;
  std::atomic<bool> running_{false};
  std::atomic<bool> draining_{false};
  std::unique_ptr<Impl> impl_;  // last: it refers to the members above
};

}  // namespace reco::serving
