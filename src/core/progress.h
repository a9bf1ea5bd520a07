#pragma once
// Where a long piece of work is, and whether someone asked it to stop. One object per job,
// shared by the threads doing the work (begin, advance, check), the reporters that show it
// (snapshot: a terminal line, the job record, GET /jobs/{id}) and whoever cancels it (cancel:
// Ctrl-C, `reco jobs cancel`, DELETE /jobs/{id}). Every member is thread-safe.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace reco {

class Progress {
 public:
  Progress();

  // A new step (e.g. "read", "cross-validation", "top-n") of `total` units named `unit`
  // ("fits", "users"; total 0: unknown). Resets the count and the detail.
  void begin(std::string step, double total, std::string unit);
  void advance(double units = 1.0);
  void set_detail(std::string detail);  // e.g. "fold 3: epoch 12/20"

  // The first reason is kept; later calls change nothing.
  void cancel(const std::string& reason);
  bool cancelled() const;
  // Throws Error(kCancelled) naming the reason when cancel() was called. Work calls it at
  // points where stopping leaves nothing half-done.
  void check() const;

  struct Snapshot {
    std::string step, unit, detail;
    double done = 0, total = 0;
    double step_seconds = 0;            // since begin()
    double total_seconds = 0;           // since construction
    std::optional<double> eta_seconds;  // when the step has a total and some progress
    double rate = 0;                    // units per second in this step
    bool cancelled = false;
    std::string cancel_reason;

    std::optional<double> fraction() const;  // done / total, when total > 0
    // One line: "cross-validation  42%  3.1 fits/s  ETA 2 s  fold 3: epoch 12/20".
    std::string line() const;
    // {"step", "unit", "done", "total", "fraction", "step_s", "elapsed_s", "eta_s", "rate",
    //  "detail"}; absent members are unknown.
    nlohmann::json to_json() const;
  };
  Snapshot snapshot() const;

 private:
  using Clock = std::chrono::steady_clock;
  mutable std::mutex mutex_;
  Clock::time_point created_, step_started_;
  std::string step_, unit_, detail_, cancel_reason_;
  double done_ = 0, total_ = 0;
  bool cancelled_ = false;
};

}  // namespace reco
