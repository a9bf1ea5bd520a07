#include "tasks/time_zone.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"

namespace reco::tasks {
namespace {

namespace chr = std::chrono;

constexpr uint64_t kMaxTzifBytes = 1 << 20;

std::string zoneinfo_dir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

bool plausible_zone_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name.front() == '/' || name.front() == '.') return false;
  if (name.find("..") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

int64_t big_endian(const std::string& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int k = 0; k < bytes; ++k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// --- POSIX TZ rules ---------------------------------------------------------------------------

struct RuleParser {
  const std::string& s;
  size_t i = 0;
  bool ok = true;

  bool more() const { return i < s.size(); }
  void name() {  // "CET" or "<+03>"
    if (more() && s[i] == '<') {
      const size_t close = s.find('>', i);
      if (close == std::string::npos) ok = false;
      i = close == std::string::npos ? s.size() : close + 1;
      return;
    }
    const size_t start = i;
    while (more() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    if (i - start < 3) ok = false;
  }
  int number() {
    if (!more() || !std::isdigit(static_cast<unsigned char>(s[i]))) {
      ok = false;
      return 0;
    }
    int v = 0;
    while (more() && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
    return v;
  }
  int hms() {  // [+-]hh[:mm[:ss]] in seconds
    int sign = 1;
    if (more() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
    int v = number() * 3600;
    if (more() && s[i] == ':') {
      ++i;
      v += number() * 60;
      if (more() && s[i] == ':') {
        ++i;
        v += number();
      }
    }
    return sign * v;
  }
  TimeZone::Rule::When when() {
    TimeZone::Rule::When w;
    if (!more() || s[i] != 'M') {  // Jn and n forms: not in any current zone
      ok = false;
      return w;
    }
    ++i;
    w.month = number();
    if (!more() || s[i++] != '.') ok = false;
    w.week = number();
    if (!more() || s[i++] != '.') ok = false;
    w.weekday = number();
    if (more() && s[i] == '/') {
      ++i;
      w.time = hms();
    }
    if (w.month < 1 || w.month > 12 || w.week < 1 || w.week > 5 || w.weekday > 6) ok = false;
    return w;
  }
};

// The UTC instant of a rule's local transition time in `year`; `offset` is the offset in force
// just before it.
int64_t transition_utc(int year, const TimeZone::Rule::When& w, int offset) {
  using namespace chr;
  const sys_days first{year_month_day{std::chrono::year(year), month(w.month), day(1)}};
  const int first_weekday = static_cast<int>(weekday(first).c_encoding());
  int d = 1 + (w.weekday - first_weekday + 7) % 7 + 7 * (w.week - 1);
  const int last = static_cast<int>(static_cast<unsigned>(
      year_month_day_last{std::chrono::year(year), month_day_last{month(w.month)}}.day()));
  while (d > last) d -= 7;  // week 5 means "the last"
  const int64_t local_midnight =
      duration_cast<seconds>((first + days(d - 1)).time_since_epoch()).count();
  return local_midnight + w.time - offset;
}

}  // namespace

TimeZone::Rule TimeZone::parse_rule(const std::string& text) {
  Rule r;
  RuleParser p{text};
  p.name();
  r.std_offset = -p.hms();
  if (p.ok && p.more()) {
    p.name();
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (p.more() && p.s[p.i] != ',') r.dst_offset = -p.hms();
    if (!p.more() || p.s[p.i] != ',') {
      p.ok = false;  // DST without rules: not supported
    } else {
      ++p.i;
      r.start = p.when();
      if (!p.more() || p.s[p.i++] != ',') p.ok = false;
      r.end = p.when();
    }
  }
  r.valid = p.ok && !p.more();
  return r;
}

int TimeZone::Rule::offset_at(int64_t utc) const {
  if (!has_dst) return std_offset;
  using namespace chr;
  const auto ymd = year_month_day{floor<days>(sys_seconds{seconds{utc + std_offset}})};
  const int year = static_cast<int>(ymd.year());
  const int64_t start_utc = transition_utc(year, start, std_offset);
  const int64_t end_utc = transition_utc(year, end, dst_offset);
  if (start_utc < end_utc)  // northern hemisphere: DST inside the year
    return utc >= start_utc && utc < end_utc ? dst_offset : std_offset;
  return utc >= end_utc && utc < start_utc ? std_offset : dst_offset;
}

TimeZone TimeZone::utc() {
  return TimeZone();
}

TimeZone TimeZone::load(const std::string& name) {
  if (name == "UTC" || name == "Etc/UTC" || name == "GMT" || name == "Z") return utc();
  const std::string dir = zoneinfo_dir();
  if (!plausible_zone_name(name))
    throw Error(ErrorKind::kUsage,
                fmt::format("unknown time zone '{}': not a time zone name (such as "
                            "Europe/Paris or America/New_York)",
                            name.substr(0, 100)));
  std::optional<std::string> bytes;
  try {
    bytes = read_file_if_exists(dir + "/" + name, kMaxTzifBytes);
  } catch (const Error&) {
    bytes.reset();  // a directory ("Europe") or unreadable: not a zone
  }
  if (!bytes || bytes->compare(0, 4, "TZif") != 0)
    throw Error(ErrorKind::kUsage,
                fmt::format("unknown time zone '{}': not in the system time zone database ({})",
                            name, dir));
  const std::string& b = *bytes;
  auto corrupt = [&](const char* what) {
    return Error(ErrorKind::kCorrupt,
                 fmt::format("{}/{}: damaged time zone file ({})", dir, name, what));
  };
  // Header: magic, version, 15 unused, six counts.
  auto counts = [&](size_t at) {
    if (at + 44 > b.size()) throw corrupt("truncated header");
    std::array<int64_t, 6> c{};
    for (int k = 0; k < 6; ++k) c[k] = big_endian(b, at + 20 + 4 * k, 4);
    return c;  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  };
  auto block_size = [](const std::array<int64_t, 6>& c, int time_bytes) {
    return c[3] * time_bytes + c[3] + c[4] * 6 + c[5] + c[2] * (time_bytes + 4) + c[1] + c[0];
  };
  size_t at = 0;
  auto c = counts(0);
  int time_bytes = 4;
  if (b[4] >= '2') {  // skip the 32-bit block: the 64-bit one follows
    at = 44 + static_cast<size_t>(block_size(c, 4));
    c = counts(at);
    time_bytes = 8;
  }
  size_t p = at + 44;
  const int64_t timecnt = c[3], typecnt = c[4];
  if (typecnt < 1 || p + static_cast<size_t>(block_size(c, time_bytes)) > b.size())
    throw corrupt("truncated data");
  TimeZone tz;
  tz.name_ = name;
  std::vector<int64_t> times(timecnt);
  for (int64_t k = 0; k < timecnt; ++k) times[k] = big_endian(b, p + k * time_bytes, time_bytes);
  p += timecnt * time_bytes;
  std::vector<int> type_of(timecnt);
  for (int64_t k = 0; k < timecnt; ++k) type_of[k] = static_cast<unsigned char>(b[p + k]);
  p += timecnt;
  std::vector<int> type_offset(typecnt);
  std::vector<bool> type_dst(typecnt);
  for (int64_t k = 0; k < typecnt; ++k) {
    type_offset[k] = static_cast<int>(big_endian(b, p + 6 * k, 4));
    type_dst[k] = b[p + 6 * k + 4] != 0;
  }
  p += typecnt * 6;
  tz.default_offset_ = type_offset[0];
  for (int64_t k = 0; k < typecnt; ++k) {
    if (!type_dst[k]) {
      tz.default_offset_ = type_offset[k];
      break;
    }
  }
  for (int64_t k = 0; k < timecnt; ++k) {
    if (type_of[k] >= typecnt) throw corrupt("transition to an unknown type");
    tz.transitions_.push_back(times[k]);
    tz.offsets_.push_back(type_offset[type_of[k]]);
  }
  if (time_bytes == 8) {  // the footer: "\n<POSIX TZ>\n"
    const size_t footer = at + 44 + static_cast<size_t>(block_size(c, 8));
    if (footer < b.size() && b[footer] == '\n') {
      const size_t end = b.find('\n', footer + 1);
      if (end != std::string::npos) tz.rule_ = parse_rule(b.substr(footer + 1, end - footer - 1));
    }
  }
  return tz;
}

int TimeZone::offset_at(int64_t utc) const {
  if (transitions_.empty() || utc >= transitions_.back()) {
    if (rule_.valid) return rule_.offset_at(utc);
    return transitions_.empty() ? default_offset_ : offsets_.back();
  }
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return default_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

}  // namespace reco::tasks
