#include "serving/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::serving {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// How the current thread handles the connection it runs: set by the pool around each task.
enum class Lane { kWorker, kOverload, kRefuse };
thread_local Lane t_lane = Lane::kWorker;
thread_local RequestContext t_context;

int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Returns >0 when ready, 0 on timeout, <0 on error.
int poll_one(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}

std::string address_of(const sockaddr_storage& addr, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    port = ntohs(a->sin6_port);
  } else {
    port = 0;
  }
  return buf;
}

// A socket stream with a read buffer (httplib reads request lines byte by byte), a per-read
// timeout and an absolute deadline for the whole request.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(int fd, const HttpLimits& limits) : fd_(fd), limits_(limits), buf_(16 * 1024) {}

  void start_request() { deadline_ = Clock::now() + limits_.request_timeout; }
  bool has_buffered() const { return off_ < len_; }

  // Waits for the first byte of the next request: true when there is one (or EOF, which the
  // request parser then reports), false on timeout or once should_stop(idle time) says so.
  // Data that has arrived always wins over stopping.
  template <typename StopFn>
  bool wait_for_request(std::chrono::milliseconds timeout, StopFn should_stop) const {
    if (has_buffered()) return true;
    const auto since = Clock::now();
    const auto until = since + timeout;
    for (;;) {
      const int wait = std::min(ms_until(until), 20);
      const int rc = poll_one(fd_, POLLIN, wait);
      if (rc > 0) return true;
      if (rc < 0 || Clock::now() >= until) return false;
      if (should_stop(Clock::now() - since)) return false;
    }
  }

  bool is_readable() const override { return wait_readable(); }

  bool is_writable() const override {
    return poll_one(fd_, POLLOUT, static_cast<int>(limits_.write_timeout.count())) > 0;
  }

  // A read that timed out or failed: the connection cannot carry another request (httplib
  // may still answer 400 to what it got, but must not wait for more on this connection).
  bool failed() const { return failed_; }

  ssize_t read(char* ptr, size_t size) override {
    if (off_ < len_) {
      const size_t n = std::min(size, len_ - off_);
      std::memcpy(ptr, buf_.data() + off_, n);
      off_ += n;
      return static_cast<ssize_t>(n);
    }
    if (!wait_readable()) {
      failed_ = true;
      return -1;
    }
    if (size >= buf_.size()) {
      const ssize_t n = recv_some(ptr, size);
      if (n <= 0) failed_ = true;
      return n;
    }
    const ssize_t n = recv_some(buf_.data(), buf_.size());
    if (n <= 0) {
      failed_ = true;
      return n;
    }
    len_ = static_cast<size_t>(n);
    off_ = std::min(size, len_);
    std::memcpy(ptr, buf_.data(), off_);
    return static_cast<ssize_t>(off_);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    for (;;) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip = address_of(addr, port);
    }
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip = address_of(addr, port);
    }
  }

  socket_t socket() const override { return fd_; }

 private:
  bool wait_readable() const {
    if (off_ < len_) return true;
    const int left = ms_until(deadline_);
    if (left <= 0) return false;
    const int wait = std::min(left, static_cast<int>(limits_.read_timeout.count()));
    return poll_one(fd_, POLLIN, wait) > 0;
  }

  ssize_t recv_some(char* ptr, size_t size) {
    for (;;) {
      const ssize_t n = ::recv(fd_, ptr, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  int fd_;
  const HttpLimits& limits_;
  std::vector<char> buf_;
  size_t off_ = 0;
  size_t len_ = 0;
  bool failed_ = false;
  Clock::time_point deadline_ = Clock::now();
};

// The answer for connections nobody can read: the accepting thread writes it without waiting.
void write_canned_503(int fd) {
  static const std::string response = [] {
    const std::string body =
        R"({"error":"the server is overloaded: every worker is busy and the queues are full; retry later","status":503})";
    return fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: "
        "1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
        body.size(), body);
  }();
  (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// After answering a request whose body was not read: stop sending, then read and discard what
// the client still sends for a bounded time, so closing does not reset the connection before
// the client has read the answer.
void linger_and_close(int fd, std::chrono::milliseconds linger) {
  ::shutdown(fd, SHUT_WR);
  const auto until = Clock::now() + linger;
  char scratch[16 * 1024];
  size_t total = 0;
  while (total < 64u * 1024 * 1024) {
    const int left = ms_until(until);
    if (left <= 0 || poll_one(fd, POLLIN, left) <= 0) break;
    const ssize_t n = ::recv(fd, scratch, sizeof(scratch), 0);
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace

HttpLimits limits_from(const ServerOptions& o) {
  HttpLimits l;
  l.workers = o.threads;
  l.queue = o.queue;
  l.overload_queue = std::max<size_t>(16, o.queue);
  l.read_timeout = o.read_timeout;
  l.write_timeout = o.write_timeout;
  l.request_timeout = o.request_timeout;
  l.keep_alive_timeout = o.keep_alive_timeout;
  l.keep_alive_max = o.keep_alive_max;
  return l;
}

void RequestContext::reset() {
  start = Clock::now();
  route = nullptr;
  params.clear();
  label = "other";
  endpoint.clear();
  content_encoding.clear();
  overload = false;
  routed = false;
  close_after = false;
  close_connection = false;
  predictions = 0;
}

RequestContext& request_context() {
  return t_context;
}

// --- ConnectionPool ----------------------------------------------------------------------------

ConnectionPool::ConnectionPool(const HttpLimits& limits, PoolStats& stats,
                               std::function<Clock::time_point()> drain_deadline,
                               std::function<void()> on_overdue)
    : limits_(limits),
      stats_(stats),
      drain_deadline_(std::move(drain_deadline)),
      on_overdue_(std::move(on_overdue)) {
  for (size_t i = 0; i < std::max<size_t>(1, limits_.workers); ++i)
    threads_.emplace_back([this] { worker_loop(); });
  threads_.emplace_back([this] { overload_loop(); });
}

ConnectionPool::~ConnectionPool() {
  shutdown();
}

void ConnectionPool::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mutex_);
  if (!stopping_) {
    if (queue_.size() < limits_.queue) {
      queue_.push_back(std::move(fn));
      stats_.queued = queue_.size();
      lock.unlock();
      cv_.notify_one();
      return;
    }
    if (overload_queue_.size() < limits_.overload_queue) {
      overload_queue_.push_back(std::move(fn));
      lock.unlock();
      overload_cv_.notify_one();
      return;
    }
  }
  lock.unlock();
  // Everything is full (or shutting down): answer on this thread without reading anything.
  // The task must still run, since it owns the socket and closes it.
  t_lane = Lane::kRefuse;
  fn();
  t_lane = Lane::kWorker;
}

void ConnectionPool::worker_loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
      stats_.queued = queue_.size();
      ++running_;
      ++stats_.busy;
    }
    t_lane = Lane::kWorker;
    try {
      fn();
    } catch (...) {
      // process_and_close_socket does not throw; a task that does must not end the worker.
    }
    {
      const std::lock_guard lock(mutex_);
      --running_;
      --stats_.busy;
    }
    idle_cv_.notify_all();
  }
}

void ConnectionPool::overload_loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mutex_);
      overload_cv_.wait(lock, [this] { return stopping_ || !overload_queue_.empty(); });
      if (overload_queue_.empty()) return;
      fn = std::move(overload_queue_.front());
      overload_queue_.pop_front();
      ++running_;
    }
    t_lane = Lane::kOverload;
    try {
      fn();
    } catch (...) {
    }
    t_lane = Lane::kWorker;
    {
      const std::lock_guard lock(mutex_);
      --running_;
    }
    idle_cv_.notify_all();
  }
}

void ConnectionPool::shutdown() {
  std::unique_lock lock(mutex_);
  if (threads_.empty()) return;
  stopping_ = true;
  cv_.notify_all();
  overload_cv_.notify_all();
  // Queued connections are still served (they were accepted); wait until all are done, and
  // shut down the sockets still open once the drain deadline has passed.
  bool overdue_called = false;
  while (!(queue_.empty() && overload_queue_.empty() && running_ == 0)) {
    const auto deadline = drain_deadline_();
    if (!overdue_called && Clock::now() >= deadline) {
      overdue_called = true;
      lock.unlock();
      on_overdue_();
      lock.lock();
      continue;
    }
    idle_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  lock.unlock();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

// --- HttpServer --------------------------------------------------------------------------------

HttpServer::HttpServer(const HttpLimits& limits) : limits_(limits) {
  set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits_.read_timeout).count() +
                   1);
  set_write_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(limits_.write_timeout).count() + 1);
  set_keep_alive_max_count(std::max<size_t>(1, limits_.keep_alive_max));
  set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(limits_.keep_alive_timeout).count()));
  set_tcp_nodelay(true);
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  new_task_queue = [this] {
    return new ConnectionPool(
        limits_, stats_,
        [this] { return Clock::time_point(std::chrono::nanoseconds(drain_deadline_ns_.load())); },
        [this] { force_close_connections(); });
  };
}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    throw Error(ErrorKind::kIo,
                fmt::format("cannot listen on {}:{}: {}", host, port,
                            errno ? std::strerror(errno) : "the address is not usable"));
  // httplib listens with a backlog of 5, which drops connections in bursts; widen it.
  ::listen(svr_sock_, limits_.backlog);
  return bound;
}

void HttpServer::run() {
  listen_after_bind();
}

void HttpServer::drain(Clock::time_point deadline) {
  drain_deadline_ns_ =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  draining_ = true;
  if (is_running()) stop();
}

void HttpServer::close_if_needed(httplib::Response& res) {
  // A request httplib refused before routing (malformed request line or headers): what follows
  // on the connection cannot be trusted to start a request.
  if (!t_context.routed) t_context.close_after = true;
  if (!draining_.load() && stats_.queued.load() == 0 && !t_context.close_after) return;
  t_context.close_connection = true;
  res.headers.erase("Keep-Alive");
  if (res.get_header_value("Connection") != "close") {
    res.headers.erase("Connection");
    res.set_header("Connection", "close");
  }
}

void HttpServer::force_close_connections() {
  const std::lock_guard lock(sockets_mutex_);
  for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  const Lane lane = t_lane;
  if (lane == Lane::kRefuse) {
    ++stats_.rejected_overflow;
    write_canned_503(sock);
    ::close(sock);
    return true;
  }
  int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  {
    const std::lock_guard lock(sockets_mutex_);
    sockets_.insert(sock);
  }
  ++stats_.connections;
  bool linger = false;
  try {
    const bool overload = lane == Lane::kOverload;
    // The overload lane answers at once; a slow client must not hold it for long.
    HttpLimits limits = limits_;
    if (overload) {
      limits.request_timeout = std::min<std::chrono::milliseconds>(limits.request_timeout, 2000ms);
      limits.read_timeout = std::min<std::chrono::milliseconds>(limits.read_timeout, 1000ms);
    }
    ConnStream strm(sock, limits);
    if (overload) ++stats_.rejected_overload;
    size_t served = 0;
    for (;;) {
      // The first request gets the read timeout to start; later ones the keep-alive timeout,
      // cut short when the server drains or another connection waits for a worker.
      const auto wait = served == 0 ? limits.read_timeout : limits.keep_alive_timeout;
      // An idle keep-alive connection gives its worker up when the server drains, or when
      // another connection waits and this one has been idle for a moment (a client in the
      // middle of a request sequence is not cut off between two requests).
      const bool ready = strm.wait_for_request(wait, [&](Clock::duration idle) {
        if (served == 0) return false;
        if (draining_.load()) return true;
        return stats_.queued.load() > 0 && idle >= std::chrono::milliseconds(100);
      });
      if (!ready) break;
      const bool close = overload || draining_.load() || served + 1 >= limits_.keep_alive_max ||
                         stats_.queued.load() > 0;
      strm.start_request();
      t_context.reset();
      t_context.overload = overload;
      bool closed = false;
      ++stats_.in_flight;
      bool ok = false;
      try {
        ok = process_request(strm, close, closed, nullptr);
      } catch (...) {
        ok = false;
      }
      --stats_.in_flight;
      ++served;
      if (t_context.close_after) {
        linger = true;
        break;
      }
      if (!ok || closed || close || strm.failed() || t_context.close_connection) break;
    }
  } catch (...) {
    // Nothing escapes a connection: the socket is closed below whatever happened.
  }
  {
    const std::lock_guard lock(sockets_mutex_);
    sockets_.erase(sock);
  }
  --stats_.connections;
  if (linger) {
    linger_and_close(sock, limits_.linger);
  } else {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
  return true;
}

}  // namespace reco::serving
