#include "serving/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace reco::serving {

namespace {

constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, const Labels& labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out += ',';
      fmt::format_to(std::back_inserter(out), "{}=\"{}\"", labels[i].first,
                     escape_label_value(labels[i].second));
    }
    out += '}';
  }
  out += ' ';
  out += format_sample_value(value);
  out += '\n';
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);
}

namespace {

// The q-quantile of a histogram with per-bucket counts (last bucket +Inf), interpolating
// linearly inside the bucket it falls in; the highest finite bound when it falls in +Inf.
double quantile(const std::vector<uint64_t>& counts, uint64_t total, double q) {
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  const auto bounds = Metrics::latency_buckets();
  for (size_t b = 0; b < counts.size(); ++b) {
    if (static_cast<double>(below + counts[b]) >= rank && counts[b] > 0) {
      if (b >= bounds.size()) return bounds.back();
      const double lo = b == 0 ? 0.0 : bounds[b - 1];
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(counts[b]);
      return lo + (bounds[b] - lo) * within;
    }
    below += counts[b];
  }
  return bounds.back();
}

}  // namespace

std::map<std::string, Metrics::EndpointStats> Metrics::endpoint_stats(
    std::span<const std::string_view> routes) const {
  auto counted = [&](const std::string& route) {
    return std::find(routes.begin(), routes.end(), route) != routes.end();
  };
  std::lock_guard lock(mutex_);
  std::map<std::string, EndpointStats> out;
  for (const auto& [key, n] : requests_) {
    const auto& [route, endpoint, method, status] = key;
    if (endpoint.empty() || !counted(route)) continue;
    EndpointStats& s = out[endpoint];
    s.requests += n;
    if (status >= 400) s.errors += n;
  }
  std::map<std::string, Histogram> merged;
  for (const auto& [key, h] : latency_) {
    if (key.second.empty() || !counted(key.first)) continue;
    Histogram& m = merged[key.second];
    if (m.counts.empty()) m.counts.assign(h.counts.size(), 0);
    for (size_t b = 0; b < h.counts.size() && b < m.counts.size(); ++b) m.counts[b] += h.counts[b];
    m.sum += h.sum;
    m.count += h.count;
  }
  for (const auto& [endpoint, h] : merged) {
    EndpointStats& s = out[endpoint];
    s.latency_sum = h.sum;
    s.p50 = quantile(h.counts, h.count, 0.50);
    s.p95 = quantile(h.counts, h.count, 0.95);
    s.p99 = quantile(h.counts, h.count, 0.99);
  }
  for (const auto& [endpoint, n] : predictions_) {
    if (!endpoint.empty()) out[endpoint].predictions = n;
  }
  return out;
}

std::span<const double> Metrics::latency_buckets() {
  return kBuckets;
}

void Metrics::observe_request(std::string_view route, std::string_view endpoint,
                              std::string_view method, int status, double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(endpoint), std::string(method), status}];
  if (status >= 400)
    ++errors_[{std::string(route), std::string(endpoint), status >= 500 ? "5xx" : "4xx"}];
  auto& h = latency_[{std::string(route), std::string(endpoint)}];
  if (h.counts.empty()) h.counts.assign(std::size(kBuckets) + 1, 0);
  size_t b = 0;
  while (b < std::size(kBuckets) && seconds > kBuckets[b]) ++b;
  ++h.counts[b];
  h.sum += seconds;
  ++h.count;
}

void Metrics::add_predictions(std::string_view endpoint, uint64_t count) {
  const std::lock_guard lock(mutex_);
  predictions_[std::string(endpoint)] += count;
}

std::string Metrics::render(std::span<const SampledFamily> sampled) const {
  std::string out;
  const std::lock_guard lock(mutex_);

  header(out, "reco_http_requests_total",
         "HTTP requests answered, by route, endpoint, method and status code.", "counter");
  for (const auto& [k, n] : requests_) {
    const auto& [route, endpoint, method, code] = k;
    sample(out, "reco_http_requests_total",
           {{"route", route},
            {"endpoint", endpoint},
            {"method", method},
            {"code", std::to_string(code)}},
           static_cast<double>(n));
  }

  header(out, "reco_http_errors_total",
         "HTTP requests answered with a 4xx or 5xx status, by route, endpoint and class.",
         "counter");
  for (const auto& [k, n] : errors_) {
    const auto& [route, endpoint, cls] = k;
    sample(out, "reco_http_errors_total",
           {{"route", route}, {"endpoint", endpoint}, {"class", cls}}, static_cast<double>(n));
  }

  header(out, "reco_http_request_duration_seconds",
         "Time from the first byte of a request to its answer, by route and endpoint.",
         "histogram");
  for (const auto& [k, h] : latency_) {
    const Labels base{{"route", k.first}, {"endpoint", k.second}};
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= std::size(kBuckets); ++b) {
      cumulative += h.counts[b];
      Labels l = base;
      l.emplace_back("le", b < std::size(kBuckets) ? format_sample_value(kBuckets[b]) : "+Inf");
      sample(out, "reco_http_request_duration_seconds_bucket", l, static_cast<double>(cumulative));
    }
    sample(out, "reco_http_request_duration_seconds_sum", base, h.sum);
    sample(out, "reco_http_request_duration_seconds_count", base, static_cast<double>(h.count));
  }

  header(out, "reco_predictions_total", "Predicted ratings served, by endpoint.", "counter");
  for (const auto& [endpoint, n] : predictions_)
    sample(out, "reco_predictions_total", {{"endpoint", endpoint}}, static_cast<double>(n));

  for (const auto& g : sampled) {
    header(out, g.name, g.help, g.type);
    for (const auto& [labels, value] : g.samples) sample(out, g.name, labels, value);
  }
  return out;
}

}  // namespace reco::serving
