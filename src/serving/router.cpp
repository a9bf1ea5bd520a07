#include "serving/router.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::serving {

std::optional<std::vector<std::string>> match_pattern(std::string_view pattern,
                                                      std::string_view path) {
  std::vector<std::string> params;
  size_t p = 0, q = 0;  // positions in pattern and path
  while (p < pattern.size()) {
    if (pattern[p] == '{') {
      const size_t close = pattern.find('}', p);
      const bool rest = pattern.substr(p + 1, 1) == "*";
      size_t end = rest ? path.size() : path.find('/', q);
      if (end == std::string_view::npos) end = path.size();
      if (end == q) return std::nullopt;  // an empty segment matches nothing
      params.emplace_back(path.substr(q, end - q));
      q = end;
      p = close + 1;
      continue;
    }
    const size_t next = std::min(pattern.find('{', p), pattern.size());
    const std::string_view literal = pattern.substr(p, next - p);
    if (path.substr(q, literal.size()) != literal) return std::nullopt;
    q += literal.size();
    p = next;
  }
  if (q != path.size()) return std::nullopt;
  return params;
}

Router::Router(std::vector<RouteSpec> routes) : routes_(std::move(routes)) {
  for (const RouteSpec& r : routes_) {
    if (r.method.empty() || r.pattern.empty() || r.pattern.front() != '/' || !r.handler) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("route '{} {}' needs a method, a pattern starting with / and a "
                              "handler",
                              r.method, r.pattern));
    }
    const size_t rest = r.pattern.find("{*");
    if (rest != std::string::npos && r.pattern.find('}', rest) != r.pattern.size() - 1) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("route pattern {}: {{*x}} must end the pattern", r.pattern));
    }
  }
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  std::set<std::string> allowed;
  for (const RouteSpec& r : routes_) {
    auto params = match_pattern(r.pattern, path);
    if (!params) continue;
    if (!m.path_known) m.label = r.metrics_label();
    m.path_known = true;
    allowed.insert(r.method);
    if (r.method == "GET") allowed.insert("HEAD");
    if (m.route == nullptr && (r.method == method || (r.method == "GET" && method == "HEAD"))) {
      m.route = &r;
      m.params = std::move(*params);
      m.label = r.metrics_label();
    }
  }
  if (!m.path_known) m.label = "other";
  for (const auto& a : allowed) m.allowed += (m.allowed.empty() ? "" : ", ") + a;
  return m;
}

std::string Router::summary() const {
  std::string out;
  for (const RouteSpec& r : routes_) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", r.method, r.pattern);
  }
  return out;
}

}  // namespace reco::serving
