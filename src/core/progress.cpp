#include "core/progress.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reco {

Progress::Progress() : created_(Clock::now()), step_started_(created_) {}

void Progress::begin(std::string step, double total, std::string unit) {
  const std::lock_guard lock(mutex_);
  step_ = std::move(step);
  unit_ = std::move(unit);
  total_ = std::max(0.0, total);
  done_ = 0;
  detail_.clear();
  step_started_ = Clock::now();
}

void Progress::advance(double units) {
  const std::lock_guard lock(mutex_);
  done_ += units;
  if (total_ > 0) done_ = std::min(done_, total_);
}

void Progress::set_detail(std::string detail) {
  const std::lock_guard lock(mutex_);
  detail_ = std::move(detail);
}

void Progress::cancel(const std::string& reason) {
  const std::lock_guard lock(mutex_);
  if (cancelled_) return;
  cancelled_ = true;
  cancel_reason_ = reason;
}

bool Progress::cancelled() const {
  const std::lock_guard lock(mutex_);
  return cancelled_;
}

void Progress::check() const {
  const std::lock_guard lock(mutex_);
  if (cancelled_) throw Error(ErrorKind::kCancelled, "cancelled: " + cancel_reason_);
}

Progress::Snapshot Progress::snapshot() const {
  const std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  Snapshot s;
  s.step = step_;
  s.unit = unit_;
  s.detail = detail_;
  s.done = done_;
  s.total = total_;
  s.step_seconds = std::chrono::duration<double>(now - step_started_).count();
  s.total_seconds = std::chrono::duration<double>(now - created_).count();
  s.rate = s.step_seconds > 0 ? done_ / s.step_seconds : 0;
  if (total_ > 0 && done_ > 0) s.eta_seconds = s.step_seconds * (total_ - done_) / done_;
  s.cancelled = cancelled_;
  s.cancel_reason = cancel_reason_;
  return s;
}

std::optional<double> Progress::Snapshot::fraction() const {
  if (total <= 0) return std::nullopt;
  return std::clamp(done / total, 0.0, 1.0);
}

namespace {

std::string duration_text(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f} s", std::ceil(seconds));
  if (seconds < 3600)
    return fmt::format("{:.0f} min {:02.0f} s", std::floor(seconds / 60),
                       std::fmod(std::floor(seconds), 60.0));
  return fmt::format("{:.0f} h {:02.0f} min", std::floor(seconds / 3600),
                     std::fmod(std::floor(seconds / 60), 60.0));
}

}  // namespace

std::string Progress::Snapshot::line() const {
  std::string out = step.empty() ? "starting" : step;
  if (const auto f = fraction()) {
    out += fmt::format("  {:3.0f}%", 100 * *f);
    if (rate > 0) out += fmt::format("  {:.3g} {}/s", rate, unit);
    if (eta_seconds) out += "  ETA " + duration_text(*eta_seconds);
  } else {
    out += "  " + duration_text(step_seconds);
  }
  if (!detail.empty()) out += "  " + detail;
  if (cancelled) out += "  (cancelling: " + cancel_reason + ")";
  return out;
}

nlohmann::json Progress::Snapshot::to_json() const {
  nlohmann::json j{{"step", step},
                   {"unit", unit},
                   {"done", done},
                   {"step_s", step_seconds},
                   {"elapsed_s", total_seconds},
                   {"rate", rate}};
  if (total > 0) j["total"] = total;
  if (const auto f = fraction()) j["fraction"] = *f;
  if (eta_seconds) j["eta_s"] = *eta_seconds;
  if (!detail.empty()) j["detail"] = detail;
  if (cancelled) j["cancelling"] = cancel_reason;
  return j;
}

}  // namespace reco
