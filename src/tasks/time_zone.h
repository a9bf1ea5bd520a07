#pragma once
// Time zones from the system's tz database (Debian's tzdata: /usr/share/zoneinfo, or $TZDIR),
// read directly from their TZif files: the transitions table, then the POSIX TZ rule of the
// file's footer for instants after the last transition. Only what schedules need: the UTC
// offset in force at an instant. UTC needs no file.

#include <cstdint>
#include <string>
#include <vector>

namespace reco::tasks {

class TimeZone {
 public:
  static TimeZone utc();
  // "Europe/Paris", "America/New_York", "UTC". Throws Error(kUsage) naming the zone when it is
  // not in the database (or not a plausible zone name), Error(kCorrupt) for a damaged file.
  static TimeZone load(const std::string& name);

  const std::string& name() const { return name_; }
  bool is_utc() const { return transitions_.empty() && !rule_.valid && default_offset_ == 0; }
  // Seconds east of UTC in force at `utc` (seconds since the Unix epoch).
  int offset_at(int64_t utc) const;

  // A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), as TZif footers hold them. Public for tests.
  struct Rule {
    bool valid = false;
    int std_offset = 0;  // seconds east of UTC
    int dst_offset = 0;
    bool has_dst = false;
    struct When {
      int month = 0, week = 0, weekday = 0;  // Mm.w.d
      int time = 7200;                       // seconds after local midnight
    } start, end;
    int offset_at(int64_t utc) const;
  };
  static Rule parse_rule(const std::string& text);  // invalid (valid = false) when unsupported

 private:
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // ascending UTC instants
  std::vector<int> offsets_;          // the offset from each transition on
  int default_offset_ = 0;            // before the first transition
  Rule rule_;                         // after the last one
};

}  // namespace reco::tasks
