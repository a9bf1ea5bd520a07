#include "tasks/schedule.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reco::tasks {
namespace {

namespace chr = std::chrono;

constexpr int64_t kSearchHorizon = 5 * 366 * 86400LL;

struct Field {
  const char* name;
  int min, max;
  const char* const* names;  // 3-letter names from `min`, or null
};

constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
constexpr Field kFields[] = {{"minute", 0, 59, nullptr},
                             {"hour", 0, 23, nullptr},
                             {"day of month", 1, 31, nullptr},
                             {"month", 1, 12, kMonths},
                             {"day of week", 0, 7, kDays}};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

[[noreturn]] void field_error(size_t k, const std::string& value, const std::string& what) {
  throw Error(ErrorKind::kUsage, fmt::format("cron field {} ({}) '{}': {}", k + 1, kFields[k].name,
                                             value.substr(0, 50), what));
}

int field_value(size_t k, const std::string& token, const std::string& whole) {
  const Field& f = kFields[k];
  if (f.names) {
    const std::string u = upper(token);
    for (int i = 0; i < (k == 3 ? 12 : 7); ++i)
      if (u == f.names[i]) return f.min + i;
  }
  int v = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  if (token.empty() || ec != std::errc() || end != token.data() + token.size())
    field_error(
        k, whole,
        fmt::format(
            "'{}' is not a number{}", token.substr(0, 20),
            f.names ? (k == 3 ? " or a month name (JAN-DEC)" : " or a day name (SUN-SAT)") : ""));
  if (v < f.min || v > f.max)
    field_error(k, whole, fmt::format("{} is outside {}-{}", v, f.min, f.max));
  return v;
}

// Parses one field into the set of values it allows; `star` says it was "*" (or "*/1").
std::vector<int> parse_field(size_t k, const std::string& text, bool& star) {
  const Field& f = kFields[k];
  std::vector<int> values;
  star = false;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) field_error(k, text, "an empty list item");
    std::string range = item;
    int step = 1;
    if (const size_t slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      const std::string s = item.substr(slash + 1);
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size() || step < 1)
        field_error(k, text, fmt::format("step '{}' is not a positive number", s.substr(0, 20)));
    }
    int lo = f.min, hi = f.max;
    if (range == "*") {
      if (step == 1 && item == text) star = true;
    } else if (const size_t dash = range.find('-'); dash != std::string::npos && dash > 0) {
      lo = field_value(k, range.substr(0, dash), text);
      hi = field_value(k, range.substr(dash + 1), text);
      if (lo > hi) field_error(k, text, fmt::format("range {}-{} runs backwards", lo, hi));
    } else {
      lo = field_value(k, range, text);
      hi = item.find('/') != std::string::npos ? f.max : lo;  // "5/15": from 5 on
    }
    for (int v = lo; v <= hi; v += step) values.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

struct Civil {
  int year, month, day, weekday, hour, minute;
  int seconds_of_day;
};

Civil civil(int64_t local) {
  const int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  const int sod = static_cast<int>(local - days * 86400);
  const chr::sys_days d{chr::days(days)};
  const chr::year_month_day ymd{d};
  return {static_cast<int>(ymd.year()),
          static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())),
          static_cast<int>(chr::weekday(d).c_encoding()),
          sod / 3600,
          sod % 3600 / 60,
          sod};
}

}  // namespace

std::string utc_text(int64_t epoch_seconds) {
  const Civil c = civil(epoch_seconds);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", c.year, c.month, c.day, c.hour,
                     c.minute, c.seconds_of_day % 60);
}

Schedule Schedule::parse(const std::string& text) {
  Schedule s;
  s.text_ = text;
  std::vector<std::string> w = words(text);
  if (w.size() >= 2 && upper(w[0]) == "USING" && upper(w[1]) == "CRON")
    w.erase(w.begin(), w.begin() + 2);
  if (w.size() == 2) {  // an interval: "60 MINUTE"
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(w[0].data(), w[0].data() + w[0].size(), n);
    if (ec != std::errc() || end != w[0].data() + w[0].size() || n < 1 || n > 100000000)
      throw Error(ErrorKind::kUsage,
                  fmt::format("interval '{}': the count '{}' is not a whole number from 1",
                              text.substr(0, 100), w[0].substr(0, 20)));
    std::string unit = upper(w[1]);
    if (unit.size() > 1 && unit.back() == 'S') unit.pop_back();
    const int64_t per = unit == "SECOND"   ? 1
                        : unit == "MINUTE" ? 60
                        : unit == "HOUR"   ? 3600
                        : unit == "DAY"    ? 86400
                                           : 0;
    if (per == 0)
      throw Error(ErrorKind::kUsage,
                  fmt::format("interval '{}': unknown unit '{}' (SECOND, MINUTE, HOUR or DAY)",
                              text.substr(0, 100), w[1].substr(0, 20)));
    s.interval_ = n * per;
    return s;
  }
  if (w.size() != 5 && w.size() != 6)
    throw Error(ErrorKind::kUsage,
                fmt::format("schedule '{}' is neither a cron expression (5 fields: minute hour "
                            "day-of-month month day-of-week, then an optional time zone) nor an "
                            "interval ('60 MINUTE', '1 DAY'): it has {} word(s)",
                            text.substr(0, 100), w.size()));
  if (w.size() == 6) s.tz_ = TimeZone::load(w[5]);
  for (size_t k = 0; k < 5; ++k) {
    bool star = false;
    const auto values = parse_field(k, w[k], star);
    for (int v : values) {
      switch (k) {
        case 0:
          s.minute_.set(v);
          break;
        case 1:
          s.hour_.set(v);
          break;
        case 2:
          s.dom_.set(v);
          break;
        case 3:
          s.month_.set(v);
          break;
        default:
          s.dow_.set(v % 7);
          break;  // 7 is Sunday too
      }
    }
    if (k == 1) s.hour_star_ = star;
    if (k == 2) s.dom_star_ = star;
    if (k == 4) s.dow_star_ = star;
  }
  // Reject what can never fire ("0 0 31 2 *") now, not by silence later.
  if (s.dow_star_) {
    static constexpr int kLongest[] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool possible = false;
    for (int m = 1; m <= 12; ++m)
      for (int d = 1; d <= kLongest[m]; ++d) possible = possible || (s.month_[m] && s.dom_[d]);
    if (!possible)
      field_error(2, w[2],
                  fmt::format("no such day in month(s) '{}': the schedule never fires", w[3]));
  }
  return s;
}

bool Schedule::day_matches(int day_of_month, int month, int weekday) const {
  if (!month_[month]) return false;
  if (!dom_star_ && !dow_star_) return dom_[day_of_month] || dow_[weekday];
  return dom_[day_of_month] && dow_[weekday];
}

bool Schedule::time_matches(int hour, int minute) const {
  return hour_[hour] && minute_[minute];
}

int64_t Schedule::next_after(int64_t after, int64_t anchor) const {
  if (is_interval()) {
    if (after < anchor) return anchor;
    return anchor + ((after - anchor) / interval_ + 1) * interval_;
  }
  int64_t t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
  const int64_t limit = after + kSearchHorizon;
  while (t <= limit) {
    const int off = tz_.offset_at(t);
    const Civil c = civil(t + off);
    // The first minute after a spring-forward gap: wall times in the gap fire now.
    const int before = tz_.offset_at(t - 60);
    if (before < off && !hour_star_) {
      for (int64_t w = t + off - (off - before); w < t + off; w += 60) {
        const Civil g = civil(w);
        if (day_matches(g.day, g.month, g.weekday) && time_matches(g.hour, g.minute)) return t;
      }
    }
    if (!day_matches(c.day, c.month, c.weekday)) {
      // On to (about) the next local midnight; the last two hours minute by minute, since an
      // offset change may move it.
      t += std::max<int64_t>(60, 86400 - c.seconds_of_day - 7200) / 60 * 60;
      continue;
    }
    if (!hour_[c.hour]) {
      t += (60 - c.minute) * 60;
      continue;
    }
    if (!minute_[c.minute]) {
      t += 60;
      continue;
    }
    // A wall time that occurred earlier today already (fall back) fires once, unless every
    // hour is scheduled.
    bool repeated = false;
    for (int64_t back : {1800, 3600, 7200}) {
      const int earlier = tz_.offset_at(t - back);
      if (earlier > off && tz_.offset_at(t + off - earlier) == earlier) repeated = true;
    }
    if (repeated && !hour_star_) {
      t += 60;
      continue;
    }
    return t;
  }
  return -1;
}

nlohmann::json Schedule::to_json() const {
  if (is_interval()) return {{"text", text_}, {"kind", "interval"}, {"seconds", interval_}};
  return {{"text", text_}, {"kind", "cron"}, {"time_zone", tz_.name()}};
}

}  // namespace reco::tasks
