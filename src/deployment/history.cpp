#include "deployment/history.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"

namespace reco::deployment {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSuffix = ".jsonl";

std::string artifact_of(const json& side) {
  return side.is_object() ? side.value("artifact_uri", "") : "";
}

bool changes_endpoint(const std::string& event) {
  return event == "deploy" || event == "rollback" || event == "delete";
}

}  // namespace

fs::path HistoryLog::path(const std::string& endpoint) const {
  return dir_ / (endpoint + kSuffix);
}

bool HistoryLog::exists(const std::string& endpoint) const {
  std::error_code ec;
  return fs::is_regular_file(path(endpoint), ec);
}

void HistoryLog::append(const std::string& endpoint, const json& event) const {
  append_line_durable(path(endpoint), json_text(event));
}

HistoryRead HistoryLog::read(const std::string& endpoint) const {
  JsonLines lines = read_json_lines(path(endpoint));
  return {std::move(lines.objects), lines.skipped};
}

std::vector<json> deployment_stack(const std::vector<json>& events) {
  std::vector<json> stack;
  for (const json& e : events) {
    const std::string kind = e.value("event", "");
    if (!changes_endpoint(kind)) continue;
    if (kind == "delete") {
      stack.clear();
      continue;
    }
    const json& old_side = e.contains("old") ? e["old"] : json(nullptr);
    const json& new_side = e.contains("new") ? e["new"] : json(nullptr);
    if (!new_side.is_object()) continue;
    // History that starts with an endpoint already deployed remembers what it served.
    if (stack.empty() && old_side.is_object()) stack.push_back(old_side);
    if (kind == "rollback" && e.value("to_previous", false) && stack.size() >= 2 &&
        artifact_of(stack[stack.size() - 2]) == artifact_of(new_side)) {
      stack.pop_back();
      continue;
    }
    if (stack.empty() || artifact_of(stack.back()) != artifact_of(new_side))
      stack.push_back(new_side);
  }
  return stack;
}

uint64_t last_changed_generation(const std::vector<json>& events) {
  uint64_t last = 0;
  for (const json& e : events) {
    if (!changes_endpoint(e.value("event", ""))) continue;
    const auto g = e.find("generation");
    last = g != e.end() && g->is_number_unsigned() ? g->get<uint64_t>() : 0;
  }
  return last;
}

}  // namespace reco::deployment
