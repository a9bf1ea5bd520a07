// The server in-process: connection handling that is hard to provoke from outside (bounded
// pool and overload lane, slow clients, drain deadline, token checks). Models and the
// protocols end to end are covered by tests/e2e/test_serve*.py with the real binary.
#include "serving/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <httplib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace reco::serving {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class TempHome {
 public:
  TempHome() {
    char tmpl[] = "/tmp/reco-serving-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempHome() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

ServerOptions options_for(const TempHome& home) {
  ServerOptions o;
  o.port = 0;
  o.home = Home(home.path());
  o.access_log = false;
  o.drain_timeout = 2s;
  return o;
}

// A raw TCP connection, for clients that misbehave on purpose.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything until the server closes the connection or `timeout` passes.
  std::string read_all(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    const auto until = Clock::now() + timeout;
    if (closed) *closed = false;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(Server, AnswersHealthRoutesAndRouteErrorsWithJson) {
  TempHome home;
  Server server(options_for(home));
  server.start();
  ASSERT_GT(server.port(), 0);
  httplib::Client c("127.0.0.1", server.port());

  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  r = c.Get("/ping");  // nothing deployed
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(r->body, HasSubstr("no endpoint is deployed yet"));
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");

  r = c.Get("/nowhere");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(r->body, HasSubstr("no route for GET /nowhere"));

  r = c.Get("/invocations");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");

  r = c.Post("/invocations", "1,2\n", "text/csv");  // no endpoint yet: transient
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());

  r = c.Get("/endpoints/none");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("reco_http_requests_total{route=\"/ping\",endpoint=\"\","
                                 "method=\"GET\",code=\"503\"} 1"));
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(server.running());
}

TEST(Server, RefusesAPublicAddressWithoutAToken) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.host = "0.0.0.0";
  Server server(o);
  try {
    server.start();
    FAIL() << "started without a token";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("needs a bearer token"));
  }
}

TEST(Server, RequiresTheTokenWhenOneIsSet) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.token = "correct-horse-battery-staple";
  Server server(o);
  server.start();
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/endpoints");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"reco\"");
  r = c.Get("/endpoints", {{"Authorization", "Bearer wrong-horse-battery-staple"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->get_header_value("WWW-Authenticate"), HasSubstr("invalid_token"));
  EXPECT_THAT(r->body, ::testing::Not(HasSubstr("horse")));
  r = c.Get("/endpoints", {{"Authorization", "Bearer correct-horse-battery-staple"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/healthz");  // health checks carry no token
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(Server, ShedsLoadWith503OnceWorkersAndQueueAreFull) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.threads = 1;
  o.queue = 1;
  // A route that holds its worker until released.
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> entered{0};
  o.extra_routes.push_back({"GET", "/block", Access::kPublic, BodyKind::kNone, false, "",
                            [&](RouteContext&, RouteCall&, Response& res) {
                              ++entered;
                              std::unique_lock lock(mutex);
                              cv.wait(lock, [&] { return release; });
                              res.set_content("done", "text/plain");
                            }});
  Server server(o);
  server.start();
  // A holds the only worker, B waits in the queue: C finds both full.
  RawClient a(server.port());
  ASSERT_TRUE(a.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (int i = 0; i < 200 && entered.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(entered.load(), 1);
  RawClient b(server.port());
  ASSERT_TRUE(b.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(200ms);
  RawClient c(server.port());
  ASSERT_TRUE(
      c.send("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
             "Content-Length: 4\r\n\r\n1,2\n"));
  const std::string answer = c.read_all(2s);
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 503"));
  EXPECT_THAT(answer, HasSubstr("Retry-After: 1"));
  EXPECT_THAT(answer, HasSubstr("the server is overloaded"));

  // Health checks and metrics are answered while every worker is busy.
  for (const char* path : {"/healthz", "/ping", "/metrics"}) {
    RawClient d(server.port());
    ASSERT_TRUE(
        d.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const std::string health = d.read_all(2s);
    EXPECT_TRUE(health.find("HTTP/1.1 200") == 0 || health.find("HTTP/1.1 503") == 0) << path;
    EXPECT_THAT(health, ::testing::Not(HasSubstr("overloaded"))) << path;
  }
  {
    const std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  EXPECT_THAT(a.read_all(2s), HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(b.read_all(2s), HasSubstr("HTTP/1.1 200"));
  EXPECT_TRUE(server.stop());
}

TEST(Server, ClosesASilentClientAfterTheReadTimeoutWhileOthersAreServed) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.threads = 2;
  o.read_timeout = 300ms;
  Server server(o);
  server.start();
  RawClient slow(server.port());
  ASSERT_TRUE(slow.send("POST /invocations HTTP/1.1\r\nHost: x\r\n"));  // headers never end
  httplib::Client c("127.0.0.1", server.port());
  const auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const auto t0 = Clock::now();
  bool closed = false;
  slow.read_all(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - t0, 3s);
}

TEST(Server, ATricklingClientIsCutOffByTheRequestDeadline) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.read_timeout = 1s;
  o.request_timeout = 600ms;
  Server server(o);
  server.start();
  RawClient slow(server.port());
  const auto t0 = Clock::now();
  std::string request = "GET /healthz HTTP/1.1\r\nX-Slow: ";
  bool cut = false;
  // One byte every 100 ms never trips the read timeout; the request deadline ends it.
  for (int i = 0; i < 60 && !cut; ++i) {
    if (!slow.send(std::string(1, request[std::min<size_t>(i, request.size() - 1)]))) cut = true;
    bool closed = false;
    slow.read_all(100ms, &closed);
    cut = cut || closed;
  }
  EXPECT_TRUE(cut);
  EXPECT_LT(Clock::now() - t0, 3s);
}

TEST(Server, StopWaitsForInFlightRequestsUpToTheDrainDeadline) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.read_timeout = 10s;
  o.request_timeout = 10s;
  o.drain_timeout = 700ms;
  Server server(o);
  server.start();
  // A request whose body never completes stays in flight until the drain deadline.
  RawClient c(server.port());
  ASSERT_TRUE(
      c.send("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
             "Content-Length: 100\r\n\r\n1,2\n"));
  std::this_thread::sleep_for(100ms);
  const auto t0 = Clock::now();
  EXPECT_TRUE(server.stop());
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 3s);
  RawClient after(server.port());
  EXPECT_FALSE(after.connected());
}

TEST(Server, DrainFinishesAKeepAliveConnectionPromptly) {
  TempHome home;
  ServerOptions o = options_for(home);
  o.keep_alive_timeout = 30s;
  o.drain_timeout = 20s;
  Server server(o);
  server.start();
  httplib::Client c("127.0.0.1", server.port());
  c.set_keep_alive(true);
  ASSERT_TRUE(c.Get("/healthz"));
  // The connection is idle in keep-alive; stop() must not wait 30 s for it.
  const auto t0 = Clock::now();
  EXPECT_TRUE(server.stop());
  EXPECT_LT(Clock::now() - t0, 2s);
}

}  // namespace
}  // namespace reco::serving
