#pragma once
// The deployment history of each endpoint: every change (deploy, rollback, delete) and every
// attempt that left it as it was (promotion refused, failed load), one JSON object per line in
//   <home>/endpoints/history/<name>.jsonl
// appended, never rewritten: each event is one write() of a whole line on a file opened with
// O_APPEND, then fsync. A line torn by a crash (no final newline) is skipped when read, and the
// next append starts on a new line, so one torn line never damages another. EndpointStore
// appends under its lock, after the endpoint record is written; if the process dies between the
// two, the next change of that endpoint (or a read of its history) notices that the record's
// generation is missing from the history and appends it, marked "reconstructed".
//
// An event:
//   {"seq": 4, "time": "2026-12-02T10:01:02.345Z", "endpoint": "ep",
//    "event": "deploy" | "rollback" | "promotion_refused" | "load_failed" | "delete",
//    "cause": "sql" | "cli" | "http" | "task:NAME" | "api",
//    "generation": 3,                  the endpoint record's generation after the event
//    "old": SIDE | null,               what the endpoint served before
//    "new": SIDE | null,               what it serves after (the candidate, when refused)
//    "reason": "...",                  why refused or failed (absent otherwise)
//    "promotion": {...}}               the metric comparison when a policy was given
// SIDE: {"model", "version", "model_uri" (pinned), "artifact_uri", "cv_rmse", "cv_mae",
//        "data_fingerprint", "cv_folds", "seed"}.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace reco::deployment {

struct HistoryRead {
  std::vector<nlohmann::json> events;  // in the order they were appended
  size_t skipped_lines = 0;            // torn or damaged lines left out
};

class HistoryLog {
 public:
  explicit HistoryLog(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path(const std::string& endpoint) const;
  bool exists(const std::string& endpoint) const;

  // Appends one event as a line, fsynced. The caller serialises appends to one endpoint (the
  // endpoints lock). Throws Error(kIo) or, on a read-only home, Error(kConflict).
  void append(const std::string& endpoint, const nlohmann::json& event) const;
  // Every readable event; empty when the endpoint has no history yet.
  HistoryRead read(const std::string& endpoint) const;

 private:
  std::filesystem::path dir_;
};

// The pinned artifact an endpoint came back to would be, replaying the history: deploys push
// what they installed, a rollback to the previous version pops, a delete clears. The stack's
// top is what the endpoint serves now; the entry below it is where a rollback goes. Entries are
// the events' "new" sides.
std::vector<nlohmann::json> deployment_stack(const std::vector<nlohmann::json>& events);

// The generation the newest event that changed the endpoint left it at (0 when none did, or
// when the newest was a delete).
uint64_t last_changed_generation(const std::vector<nlohmann::json>& events);

}  // namespace reco::deployment
