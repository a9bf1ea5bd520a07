// HTTP load generator for scripts/bench_serve.sh: N keep-alive connections POST the same body
// to one URL path for a fixed time (bounded by --seconds and --max-requests), then print one
// JSON line: requests, failures, requests/s, items/s and latency percentiles.
// Built by bench_serve.sh with the same packaged cpp-httplib the server uses; loopback only.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Args {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string path = "/invocations";
  std::string content_type = "text/csv";
  std::string body_file;
  int connections = 1;
  double seconds = 5;
  long max_requests = 1000000;
  long items_per_request = 1;  // pairs or rows per body, for items/s
  std::string label = "run";
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "bench_serve_client: %s\nusage: bench_serve_client --port P --body-file F "
               "[--path /invocations] [--content-type text/csv] [--connections N] "
               "[--seconds S] [--max-requests N] [--items K] [--label NAME]\n",
               msg);
  std::exit(64);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + k).c_str());
    const std::string v = argv[++i];
    if (k == "--host")
      a.host = v;
    else if (k == "--port")
      a.port = std::stoi(v);
    else if (k == "--path")
      a.path = v;
    else if (k == "--content-type")
      a.content_type = v;
    else if (k == "--body-file")
      a.body_file = v;
    else if (k == "--connections")
      a.connections = std::stoi(v);
    else if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--max-requests")
      a.max_requests = std::stol(v);
    else if (k == "--items")
      a.items_per_request = std::stol(v);
    else if (k == "--label")
      a.label = v;
    else
      usage(("unknown option " + k).c_str());
  }
  if (a.body_file.empty()) usage("--body-file is required");
  if (a.host != "127.0.0.1" && a.host != "localhost" && a.host != "::1")
    usage("this load generator only targets the loopback interface");
  if (a.connections < 1 || a.connections > 256) usage("--connections must be 1..256");
  if (a.seconds <= 0 || a.seconds > 120) usage("--seconds must be in (0, 120]");
  return a;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * (sorted.size() - 1) + 0.5));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  std::ifstream in(a.body_file, std::ios::binary);
  if (!in) usage(("cannot read " + a.body_file).c_str());
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  using Clock = std::chrono::steady_clock;
  std::atomic<long> issued{0};
  std::atomic<long> failures{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::string first_failure;
  const auto start = Clock::now();
  const auto until =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));

  std::vector<std::thread> threads;
  for (int c = 0; c < a.connections; ++c) {
    threads.emplace_back([&] {
      httplib::Client client(a.host, a.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // headers and body go out in separate writes
      client.set_read_timeout(60, 0);
      std::vector<double> mine;
      mine.reserve(100000);
      while (Clock::now() < until && issued.fetch_add(1) < a.max_requests) {
        const auto t0 = Clock::now();
        auto res = client.Post(a.path.c_str(), body, a.content_type.c_str());
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!res || res->status != 200) {
          ++failures;
          const std::lock_guard lock(mutex);
          if (first_failure.empty())
            first_failure = res ? std::to_string(res->status) + " " + res->body.substr(0, 200)
                                : "connection error " + httplib::to_string(res.error());
          continue;
        }
        mine.push_back(ms);
      }
      const std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double ok = static_cast<double>(latencies_ms.size());
  std::printf(
      "{\"label\":\"%s\",\"connections\":%d,\"seconds\":%.2f,\"requests\":%.0f,"
      "\"failures\":%ld,\"requests_per_s\":%.1f,\"items_per_s\":%.0f,\"p50_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
      a.label.c_str(), a.connections, elapsed, ok, failures.load(), ok / elapsed,
      ok * static_cast<double>(a.items_per_request) / elapsed, percentile(latencies_ms, 0.50),
      percentile(latencies_ms, 0.99), latencies_ms.empty() ? 0.0 : latencies_ms.back());
  if (!first_failure.empty()) std::fprintf(stderr, "first failure: %s\n", first_failure.c_str());
  return failures.load() == 0 ? 0 : 1;
}
