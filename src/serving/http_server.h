#pragma once
// The connection layer under reco's routes: cpp-httplib (Debian's libcpp-httplib 0.11) parses
// requests, routes and writes responses, while this file owns what a production server needs
// and the library leaves open:
//  - a bounded pool: `workers` threads and at most `queue` accepted connections waiting; a
//    connection that finds the queue full goes to one "overload" thread that answers 503 with
//    Retry-After without reading a body (GET /ping, /healthz and /metrics are still answered,
//    so health checks stay green under load), and if that lane is full as well the accepting
//    thread writes a canned 503 and closes. Memory is bounded by workers x body limit plus the
//    two fixed-size queues of file descriptors;
//  - our own socket stream with a per-request deadline on top of the per-read timeout, so a
//    client trickling bytes cannot hold a worker for more than `request_timeout`;
//  - keep-alive that yields: an idle keep-alive connection is closed as soon as another
//    connection is waiting for a worker, and every response says "Connection: close" then;
//  - graceful shutdown: drain() stops accepting, lets queued and running requests finish,
//    closes idle keep-alive connections, and after the deadline shuts down the sockets still
//    open so no worker stays blocked;
//  - lingering close after a response that left a request body unread (413, 415, 401, ...),
//    so the client reads the answer instead of a connection reset.
// Handlers see per-request state through request_context() (one request per worker thread at
// a time).

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "serving/route.h"
#include "serving/server.h"

namespace reco::serving {

struct HttpLimits {
  size_t workers = 0;
  size_t queue = 0;                             // accepted connections waiting for a worker
  size_t overload_queue = 0;                    // connections waiting for the overload lane
  std::chrono::milliseconds read_timeout{};     // longest silence while reading a request
  std::chrono::milliseconds write_timeout{};    // longest stall while writing an answer
  std::chrono::milliseconds request_timeout{};  // whole request (headers + body) must arrive
  std::chrono::milliseconds keep_alive_timeout{};
  size_t keep_alive_max = 0;               // requests per connection
  int backlog = 1024;                      // kernel accept queue
  std::chrono::milliseconds linger{1000};  // draining an unread body before close
};
// The limits a server's options (ServerOptions, the only place their defaults are written) ask
// for; workers must already be resolved (not 0).
HttpLimits limits_from(const ServerOptions& options);

// State of the request a worker thread is handling.
struct RequestContext {
  std::chrono::steady_clock::time_point start;
  const RouteSpec* route = nullptr;  // null: no route answers the request
  std::vector<std::string> params;   // the {x} parts of the route's pattern
  std::string label = "other";       // the route's label, for metrics and the access log
  std::string endpoint;              // endpoint label for metrics and the access log ("" if none)
  std::string content_encoding;      // taken out of the headers: reco decompresses itself
  bool overload = false;             // this connection is handled by the overload lane
  bool routed = false;               // the request reached reco's routing (it was well-formed)
  bool close_after = false;          // the request body was not read: do not reuse the connection
  bool close_connection = false;     // answered with "Connection: close" (drain, pressure)
  size_t predictions = 0;

  void reset();
};
RequestContext& request_context();

// Counters the pool and the connections keep for metrics and admission decisions.
struct PoolStats {
  std::atomic<size_t> queued{0};
  std::atomic<size_t> busy{0};
  std::atomic<size_t> in_flight{0};            // requests being read, handled or answered
  std::atomic<size_t> connections{0};          // open connections handled by workers
  std::atomic<uint64_t> rejected_overload{0};  // answered by the overload lane
  std::atomic<uint64_t> rejected_overflow{0};  // canned 503 by the accepting thread
};

class ConnectionPool : public httplib::TaskQueue {
 public:
  // on_overdue is called once if shutdown() is still waiting at the drain deadline.
  ConnectionPool(const HttpLimits& limits, PoolStats& stats,
                 std::function<std::chrono::steady_clock::time_point()> drain_deadline,
                 std::function<void()> on_overdue);
  ~ConnectionPool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void worker_loop();
  void overload_loop();

  HttpLimits limits_;
  PoolStats& stats_;
  std::function<std::chrono::steady_clock::time_point()> drain_deadline_;
  std::function<void()> on_overdue_;
  std::mutex mutex_;
  std::condition_variable cv_;           // work for workers / shutdown
  std::condition_variable overload_cv_;  // work for the overload lane
  std::condition_variable idle_cv_;      // a task finished
  std::deque<std::function<void()>> queue_;
  std::deque<std::function<void()>> overload_queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(const HttpLimits& limits);
  ~HttpServer() override;

  // Binds host:port (port 0 picks a free one) with SO_REUSEADDR (never SO_REUSEPORT: a second
  // server on the same port must fail, not share it). Returns the bound port; throws Error(kIo).
  int bind(const std::string& host, int port);
  // Accepts connections until drain(); returns when every connection is finished.
  void run();
  // Stops accepting; in-flight and queued requests finish; idle keep-alive connections close.
  // After `deadline` the sockets still open are shut down. Safe to call from any thread.
  void drain(std::chrono::steady_clock::time_point deadline);
  bool draining() const { return draining_.load(); }
  // Whether the connection of the request being answered should close after it: the server
  // drains, or connections wait for a worker. Marks the answer "Connection: close".
  void close_if_needed(httplib::Response& res);

  const PoolStats& stats() const { return stats_; }
  const HttpLimits& limits() const { return limits_; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  void force_close_connections();

  HttpLimits limits_;
  PoolStats stats_;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> drain_deadline_ns_{0};
  std::mutex sockets_mutex_;
  std::set<int> sockets_;  // connections being served, for the forced close at the deadline
};

}  // namespace reco::serving
