#pragma once
// A task's schedule: a 5-field cron expression in UTC or a named time zone, or an interval.
//
//   "0 3 * * *"                         03:00 UTC every day
//   "USING CRON 30 2 * * 1-5 Europe/Paris"   (Snowflake's form; "USING CRON" is optional)
//   "*/15 * * * *", "0 0 1 * *", "0 12 * JAN,JUL SUN"
//   "60 MINUTE", "1 DAY", "90 SECONDS", "2 HOURS"
//
// Cron fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week
// 0-7 or SUN-SAT (0 and 7 are Sunday); each a list of *, N, N-M, with an optional /STEP. When
// both day fields are restricted, a day matches either (classic cron). Time zones:
//   - a wall time that does not exist (spring forward) fires at the first instant after the gap;
//   - a wall time that occurs twice (fall back) fires once, the first time, unless the hour field
//     is "*" (then every real hour fires, as cron does).
// An interval fires at anchor + k * interval (the anchor: when the task was created or resumed).

#include <bitset>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tasks/time_zone.h"

namespace reco::tasks {

class Schedule {
 public:
  // Throws Error(kUsage) naming the field and what is wrong with it ("cron field 2 (hour):
  // 24 is outside 0-23"), an unknown time zone, or an expression that never fires.
  static Schedule parse(const std::string& text);

  const std::string& text() const { return text_; }
  bool is_interval() const { return interval_ > 0; }
  int64_t interval_seconds() const { return interval_; }
  const TimeZone& time_zone() const { return tz_; }

  // The first firing instant strictly after `after` (seconds since the Unix epoch, UTC).
  // `anchor` is the interval's origin (ignored by cron schedules). For cron, -1 when nothing
  // fires within the next 5 years.
  int64_t next_after(int64_t after, int64_t anchor) const;

  nlohmann::json to_json() const;  // {"text", "kind": "cron" | "interval", "time_zone" | "seconds"}

 private:
  bool day_matches(int day_of_month, int month, int weekday) const;
  bool time_matches(int hour, int minute) const;

  std::string text_;
  int64_t interval_ = 0;
  std::bitset<60> minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;
  std::bitset<13> month_;
  std::bitset<7> dow_;
  bool dom_star_ = true, dow_star_ = true, hour_star_ = true;
  TimeZone tz_;
};

// "2026-12-02T10:00:00Z" for an epoch second.
std::string utc_text(int64_t epoch_seconds);

}  // namespace reco::tasks
