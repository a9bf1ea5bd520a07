#include "serving/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "serving/http_parser.h"

namespace reco::serving {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;
constexpr auto kTick = 50ms;
// Connections accepted beyond max_connections to answer health checks and metrics only (one
// request each, a short read timeout); beyond these, the canned 503.
constexpr size_t kReserveConnections = 64;
constexpr auto kReserveReadTimeout = 1000ms;

std::string address_of(const sockaddr_storage& addr, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    port = ntohs(a->sin6_port);
  }
  return buf;
}

}  // namespace

// The event thread's bookkeeping (named, not anonymous: Impl's members use it).
namespace front {

enum class Phase {
  kReading,     // waiting for or reading a request
  kProcessing,  // a handler runs; the connection is not read (pipelined bytes wait)
  kWriting,     // the answer is being sent
  kLingering,   // answered and shut down for writing; unread request bytes are discarded
};

struct Connection {
  uint64_t id = 0;
  int fd = -1;
  std::string peer;
  int peer_port = 0;
  Phase phase = Phase::kReading;
  std::string in;  // received bytes not yet parsed start at in_off
  size_t in_off = 0;
  RequestParser parser;
  RequestContext ctx;
  bool request_started = false;
  bool in_flight_counted = false;
  Clock::time_point request_start{}, last_read{}, last_write{}, idle_since{}, linger_until{};
  size_t served = 0;
  size_t lingered = 0;
  std::string out;
  size_t out_off = 0;
  bool close_after_write = false;
  bool linger_after_write = false;
  bool head = false;
  bool reserve = false;           // beyond max_connections: health checks and metrics only
  bool peer_closed = false;       // hung up: the answer is dropped
  bool peer_half_closed = false;  // shut down its sending side: answered, then closed
  uint32_t events = 0;

  explicit Connection(ParserLimits limits) : parser(limits) {}
};

struct Task {
  uint64_t conn_id;
  Request request;
  RequestContext ctx;
  Response response;
};

}  // namespace front

using front::Connection;
using front::Phase;
using front::Task;

class HttpServer::Impl {
 public:
  Impl(HttpServer& owner, const HttpLimits& limits, Handlers handlers)
      : owner_(owner), limits_(limits), handlers_(std::move(handlers)), stats_(owner.stats_) {
    parser_limits_.max_header_bytes = limits_.max_header_bytes;
    parser_limits_.max_body = limits_.max_body;
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0)
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot set up the HTTP server: {}", std::strerror(errno)));
    add(wake_fd_, kWakeId, EPOLLIN);
  }

  ~Impl() {
    stop_workers();
    for (auto& [id, c] : conns_) ::close(c->fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  int bind(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const std::string h = host.size() > 2 && host.front() == '[' && host.back() == ']'
                              ? host.substr(1, host.size() - 2)
                              : host;
    if (const int rc = ::getaddrinfo(h.c_str(), service.c_str(), &hints, &found); rc != 0) {
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot listen on {}:{}: {}", host, port, ::gai_strerror(rc)));
    }
    int err = 0;
    for (addrinfo* a = found; a; a = a->ai_next) {
      const int fd =
          ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        err = errno;
        continue;
      }
      int yes = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, limits_.backlog) == 0) {
        listen_fd_ = fd;
        break;
      }
      err = errno;
      ::close(fd);
    }
    ::freeaddrinfo(found);
    if (listen_fd_ < 0) {
      throw Error(ErrorKind::kIo, fmt::format("cannot listen on {}:{}: {}", host, port,
                                              err ? std::strerror(err) : "no usable address"));
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    int bound = 0;
    address_of(addr, bound);
    add(listen_fd_, kListenId, EPOLLIN);
    return bound;
  }

  void run() {
    for (size_t i = 0; i < std::max<size_t>(1, limits_.workers); ++i)
      workers_.emplace_back([this] { worker_loop(); });
    owner_.running_ = true;
    std::vector<epoll_event> events(256);
    auto next_tick = Clock::now() + kTick;
    for (;;) {
      const int wait = static_cast<int>(std::max<int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now()).count()));
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), wait);
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < std::max(n, 0); ++i) {
        const uint64_t id = events[i].data.u64;
        const uint32_t ev = events[i].events;
        if (id == kListenId) {
          accept_all();
        } else if (id == kWakeId) {
          uint64_t count;
          while (::read(wake_fd_, &count, sizeof(count)) > 0) {
          }
        } else {
          on_event(id, ev);
        }
      }
      take_completions();
      const auto now = Clock::now();
      if (now >= next_tick) {
        check_deadlines(now);
        if (accept_paused_ && listen_fd_ >= 0 && !owner_.draining_.load()) {
          accept_paused_ = false;
          add(listen_fd_, kListenId, EPOLLIN);
        }
        next_tick = now + kTick;
      }
      if (owner_.draining_.load() && drain_step(now)) break;
    }
    owner_.running_ = false;
    stop_workers();
    for (auto& [id, c] : conns_) ::close(c->fd);
    conns_.clear();
    stats_.connections = 0;
  }

  void drain(Clock::time_point deadline) {
    drain_deadline_ns_ = deadline.time_since_epoch().count();
    owner_.draining_ = true;
    wake();
  }

 private:
  // --- epoll ---
  void add(int fd, uint64_t id, uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.u64 = id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &e);
  }
  void watch(Connection& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event e{};
    e.events = events;
    e.data.u64 = c.id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &e);
    c.events = events;
  }
  void wake() {
    const uint64_t one = 1;
    const ssize_t w = ::write(wake_fd_, &one, sizeof(one));
    (void)w;
  }

  // --- connections ---
  void accept_all() {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: the pending connection would make the level-triggered listen
          // socket fire without end. Stop watching it for a tick.
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          accept_paused_ = true;
        }
        return;  // EAGAIN, or paused
      }
      if (owner_.draining_.load() ||
          conns_.size() >= limits_.max_connections + kReserveConnections) {
        ++stats_.rejected_overflow;
        write_canned_503(fd);
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto c = std::make_unique<Connection>(parser_limits_);
      c->id = next_id_++;
      c->fd = fd;
      c->peer = address_of(addr, c->peer_port);
      c->reserve = conns_.size() >= limits_.max_connections;
      c->idle_since = c->last_write = Clock::now();
      c->events = EPOLLIN | EPOLLRDHUP;
      add(fd, c->id, c->events);
      conns_.emplace(c->id, std::move(c));
      stats_.connections = conns_.size();
    }
  }

  void write_canned_503(int fd) {
    Response res;
    handlers_.error(res, 503,
                    fmt::format("the server has {} connections open, its limit; retry later",
                                limits_.max_connections));
    res.set_header("Retry-After", "1");
    const std::string bytes = serialize_response(res, true, false);
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  void close_connection(Connection& c) {
    if (c.in_flight_counted) --stats_.in_flight;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    conns_.erase(c.id);  // destroys c
    stats_.connections = conns_.size();
  }

  void on_event(uint64_t id, uint32_t ev) {
    const auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Connection& c = *it->second;
    if (c.phase == Phase::kProcessing) {
      // Not reading: only a hang-up can be reported.
      if (ev & (EPOLLHUP | EPOLLERR)) c.peer_closed = true;
      if (ev & EPOLLRDHUP) c.peer_half_closed = true;
      watch(c, 0);
      return;
    }
    if (ev & EPOLLERR) return close_connection(c);
    if ((ev & EPOLLOUT) && c.phase == Phase::kWriting) {
      if (!try_write(c)) return;  // closed
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) on_readable(c);
  }

  void on_readable(Connection& c) {
    const uint64_t id = c.id;
    if (c.phase == Phase::kWriting) return;
    char buf[kReadChunk];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n > 0) {
        c.last_read = Clock::now();
        if (c.phase == Phase::kLingering) {
          c.lingered += static_cast<size_t>(n);
          if (c.lingered > kMaxLingerBytes) return close_connection(c);
          continue;
        }
        if (c.in_off == c.in.size()) {
          c.in.clear();
          c.in_off = 0;
        }
        c.in.append(buf, static_cast<size_t>(n));
        parse_buffered(c);
        if (!conns_.count(id)) return;
        if (c.phase != Phase::kReading && c.phase != Phase::kLingering) return;
        continue;
      }
      if (n == 0) return close_connection(c);  // the peer closed (mid-request or idle)
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return close_connection(c);
    }
  }

  void parse_buffered(Connection& c) {
    while (c.phase == Phase::kReading && c.in_off < c.in.size()) {
      if (!c.request_started) {
        c.request_started = true;
        c.request_start = c.last_read = Clock::now();
        c.ctx = RequestContext{};
        c.ctx.start = c.request_start;
        c.in_flight_counted = true;
        ++stats_.in_flight;
      }
      const size_t used = c.parser.feed(std::string_view(c.in).substr(c.in_off));
      c.in_off += used;
      const bool headers = c.parser.take_headers_event();
      if (headers) {
        if (!headers_done(c)) return;  // answered
        // The rest of the buffer is body; a request without one is complete already.
        c.in_off += c.parser.feed(std::string_view(c.in).substr(c.in_off));
      }
      if (c.parser.state() == RequestParser::State::kError) {
        ++stats_.protocol_errors;
        Response res;
        handlers_.error(res, c.parser.error_status(), c.parser.error_message());
        Request empty;
        return answer(c, empty, c.ctx, res, /*close=*/true, /*linger=*/true);
      }
      if (c.parser.state() == RequestParser::State::kDone) return dispatch(c);
      if (used == 0 && !headers) break;
    }
    if (c.in_off > 0 && c.in_off == c.in.size()) {
      c.in.clear();
      c.in_off = 0;
    }
  }

  // After the headers: the server's checks, 100-continue. False when it answered.
  bool headers_done(Connection& c) {
    Request& req = c.parser.request();
    req.remote_addr = c.peer;
    req.remote_port = c.peer_port;
    Response res;
    size_t limit = limits_.max_body;
    if (handlers_.on_headers(req, c.ctx, res, limit)) {
      answer(c, req, c.ctx, res, true, c.parser.has_body());
      return false;
    }
    if (c.reserve && !handlers_.inline_route(c.ctx)) {
      ++stats_.rejected_overflow;
      handlers_.error(res, 503,
                      fmt::format("the server has {} connections open, its limit; retry later",
                                  limits_.max_connections));
      res.set_header("Retry-After", "1");
      answer(c, req, c.ctx, res, true, c.parser.has_body());
      return false;
    }
    c.parser.set_body_limit(limit);
    const std::string expect = req.get_header_value("Expect");
    if (!expect.empty()) {
      if (!iequals(expect, "100-continue")) {
        handlers_.error(
            res, 417,
            fmt::format("Expect: {} is not supported (only 100-continue)", expect.substr(0, 60)));
        answer(c, req, c.ctx, res, true, c.parser.has_body());
        return false;
      }
      if (c.parser.has_body() && c.in_off == c.in.size()) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        (void)::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
    }
    return true;
  }

  void dispatch(Connection& c) {
    Task task{c.id, std::move(c.parser.request()), c.ctx, Response{}};
    task.request.remote_addr = c.peer;
    task.request.remote_port = c.peer_port;
    c.head = task.request.method == "HEAD";
    c.phase = Phase::kProcessing;
    watch(c, EPOLLRDHUP);
    if (handlers_.inline_route(task.ctx)) {
      run_handler(task);
      return finish(c, task);
    }
    std::unique_lock lock(mutex_);
    if (queue_.size() >= limits_.queue) {
      lock.unlock();
      ++stats_.rejected_overload;
      task.ctx.overload = true;
      handlers_.error(task.response, 503,
                      fmt::format("the server is overloaded: all {} workers are busy and {} "
                                  "requests are waiting; retry later",
                                  limits_.workers, limits_.queue));
      task.response.set_header("Retry-After", "1");
      return finish(c, task);
    }
    queue_.push_back(std::move(task));
    stats_.queued = queue_.size();
    lock.unlock();
    cv_.notify_one();
  }

  void run_handler(Task& t) {
    try {
      handlers_.handle(t.request, t.ctx, t.response);
    } catch (...) {
      t.response = Response{};
      handlers_.error(t.response, 500, "internal error");
    }
  }

  void worker_loop() {
    for (;;) {
      Task t;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        t = std::move(queue_.front());
        queue_.pop_front();
        stats_.queued = queue_.size();
        ++stats_.busy;
      }
      run_handler(t);
      {
        const std::lock_guard lock(mutex_);
        --stats_.busy;
        done_.push_back(std::move(t));
      }
      wake();
    }
  }

  void stop_workers() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void take_completions() {
    std::deque<Task> done;
    {
      const std::lock_guard lock(mutex_);
      done.swap(done_);
    }
    for (Task& t : done) {
      const auto it = conns_.find(t.conn_id);
      if (it == conns_.end()) continue;  // closed meanwhile (drain deadline)
      Connection& c = *it->second;
      if (c.peer_closed) {
        handlers_.after(t.request, t.ctx, t.response);
        close_connection(c);
        continue;
      }
      finish(c, t);
    }
  }

  void finish(Connection& c, Task& t) {
    const bool close = !t.request.keep_alive() || owner_.draining_.load() || c.peer_half_closed ||
                       c.reserve || c.served + 1 >= limits_.keep_alive_max ||
                       iequals(t.response.get_header_value("Connection"), "close");
    answer(c, t.request, t.ctx, t.response, close, false);
  }

  // Writes an answer; after it the connection closes (lingering over unread input when
  // `linger`) or reads the next request.
  void answer(Connection& c, const Request& req, const RequestContext& ctx, Response& res,
              bool close, bool linger) {
    handlers_.after(req, ctx, res);
    c.out = serialize_response(res, close, c.head);
    c.out_off = 0;
    c.close_after_write = close;
    c.linger_after_write = linger;
    c.phase = Phase::kWriting;
    c.last_write = Clock::now();
    ++c.served;
    if (c.in_flight_counted) {
      c.in_flight_counted = false;
      --stats_.in_flight;
    }
    try_write(c);
  }

  // False when the connection was closed.
  bool try_write(Connection& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        c.last_write = Clock::now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c, EPOLLOUT);
        return true;
      }
      close_connection(c);
      return false;
    }
    c.out.clear();
    c.out.shrink_to_fit();
    c.out_off = 0;
    if (c.close_after_write) {
      if (c.linger_after_write) {
        ::shutdown(c.fd, SHUT_WR);
        c.phase = Phase::kLingering;
        c.linger_until = Clock::now() + limits_.linger;
        watch(c, EPOLLIN | EPOLLRDHUP);
        return true;
      }
      close_connection(c);
      return false;
    }
    // The next request on this connection, perhaps already buffered.
    c.phase = Phase::kReading;
    c.parser.reset();
    c.request_started = false;
    c.head = false;
    c.idle_since = Clock::now();
    watch(c, EPOLLIN | EPOLLRDHUP);
    const uint64_t id = c.id;
    parse_buffered(c);
    return conns_.count(id) > 0;
  }

  void check_deadlines(Clock::time_point now) {
    std::vector<uint64_t> expired, slow;
    for (auto& [id, cp] : conns_) {
      Connection& c = *cp;
      switch (c.phase) {
        case Phase::kReading:
          if (!c.request_started) {
            auto limit = c.served == 0 ? limits_.read_timeout : limits_.keep_alive_timeout;
            if (c.reserve) limit = std::min<std::chrono::milliseconds>(limit, kReserveReadTimeout);
            if (now - c.idle_since > limit) expired.push_back(id);
          } else if (now - c.last_read > (c.reserve ? std::min<std::chrono::milliseconds>(
                                                          limits_.read_timeout, kReserveReadTimeout)
                                                    : limits_.read_timeout) ||
                     now - c.request_start > limits_.request_timeout) {
            slow.push_back(id);
          }
          break;
        case Phase::kWriting:
          if (now - c.last_write > limits_.write_timeout) expired.push_back(id);
          break;
        case Phase::kLingering:
          if (now > c.linger_until) expired.push_back(id);
          break;
        case Phase::kProcessing:
          break;
      }
    }
    for (uint64_t id : expired) {
      if (auto it = conns_.find(id); it != conns_.end()) close_connection(*it->second);
    }
    for (uint64_t id : slow) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Connection& c = *it->second;
      ++stats_.protocol_errors;
      Response res;
      const bool whole = now - c.request_start > limits_.request_timeout;
      handlers_.error(res, 408,
                      whole ? fmt::format("the request did not arrive within {} ms",
                                          limits_.request_timeout.count())
                            : fmt::format("the client was silent for more than {} ms in the "
                                          "middle of a request",
                                          limits_.read_timeout.count()));
      Request partial;
      answer(c, partial, c.ctx, res, true, false);
    }
  }

  // True when the drain is over.
  bool drain_step(Clock::time_point now) {
    if (listen_fd_ >= 0) {
      if (!accept_paused_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    const auto deadline = Clock::time_point(Clock::duration(drain_deadline_ns_.load()));
    std::vector<uint64_t> idle;
    for (auto& [id, c] : conns_) {
      const bool is_idle = c->phase == Phase::kReading && !c->request_started;
      if (is_idle || now >= deadline) idle.push_back(id);
    }
    for (uint64_t id : idle) {
      if (auto it = conns_.find(id); it != conns_.end()) close_connection(*it->second);
    }
    const std::lock_guard lock(mutex_);
    return conns_.empty() && (queue_.empty() || now >= deadline);
  }

  HttpServer& owner_;
  HttpLimits limits_;
  Handlers handlers_;
  PoolStats& stats_;
  ParserLimits parser_limits_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int listen_fd_ = -1;
  bool accept_paused_ = false;  // out of descriptors: the listen socket is not watched for a tick
  uint64_t next_id_ = 2;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::atomic<int64_t> drain_deadline_ns_{0};

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::deque<Task> done_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

HttpLimits limits_from(const ServerOptions& o) {
  HttpLimits l;
  l.workers = o.threads;
  l.queue = o.queue;
  l.max_connections = o.max_connections;
  l.max_body = o.max_body_bytes;
  l.read_timeout = o.read_timeout;
  l.write_timeout = o.write_timeout;
  l.request_timeout = o.request_timeout;
  l.keep_alive_timeout = o.keep_alive_timeout;
  l.keep_alive_max = o.keep_alive_max;
  return l;
}

HttpServer::HttpServer(const HttpLimits& limits, Handlers handlers)
    : limits_(limits), impl_(std::make_unique<Impl>(*this, limits, std::move(handlers))) {}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
  return impl_->bind(host, port);
}

void HttpServer::run() {
  impl_->run();
}

void HttpServer::drain(Clock::time_point deadline) {
  impl_->drain(deadline);
}

}  // namespace reco::serving
