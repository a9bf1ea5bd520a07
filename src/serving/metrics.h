#pragma once
// The server's metrics in the Prometheus text exposition format 0.0.4, kept by hand (a few
// maps under one mutex) rather than with a client library, which Debian 12 does not package
// for C++. Label values are bounded: routes are route labels, never raw paths, and endpoints
// are names that exist (the server passes "" for anything else).

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace reco::serving {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A family whose samples are read when /metrics is scraped (in-flight requests, queue depth,
// loaded model versions, counters kept elsewhere as atomics, ...).
struct SampledFamily {
  std::string name;
  std::string help;
  std::string type = "gauge";  // "gauge" or "counter"
  std::vector<std::pair<Labels, double>> samples;
};

// Escapes a label value: backslash, double quote and line feed (format 0.0.4).
std::string escape_label_value(std::string_view value);
// A sample value: integers without a decimal point, "+Inf"/"-Inf"/"NaN" spelled as Prometheus
// expects, other numbers in their shortest round-trip form.
std::string format_sample_value(double value);

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
  static std::span<const double> latency_buckets();

  void observe_request(std::string_view route, std::string_view endpoint, std::string_view method,
                       int status, double seconds);
  void add_predictions(std::string_view endpoint, uint64_t count);

  // What one endpoint's routes have seen since the server started (the console's endpoint page).
  struct EndpointStats {
    uint64_t requests = 0;
    uint64_t errors = 0;  // 4xx and 5xx answers
    uint64_t predictions = 0;
    double latency_sum = 0;  // seconds
    // Latency quantiles estimated from the histogram buckets (linear within a bucket, as
    // Prometheus' histogram_quantile); 0 without requests.
    double p50 = 0, p95 = 0, p99 = 0;
  };
  // Counts only the routes labelled in `routes` (the prediction routes, not the status pages).
  std::map<std::string, EndpointStats> endpoint_stats(
      std::span<const std::string_view> routes) const;

  // Everything recorded here, then `sampled` in order.
  std::string render(std::span<const SampledFamily> sampled) const;

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket, not cumulative; last one is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mutex_;
  // route, endpoint, method, status code
  std::map<std::tuple<std::string, std::string, std::string, int>, uint64_t> requests_;
  // route, endpoint, class ("4xx" or "5xx")
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> errors_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;  // route, endpoint
  std::map<std::string, uint64_t> predictions_;                       // endpoint
};

}  // namespace reco::serving
