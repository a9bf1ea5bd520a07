#pragma once
// Wall-clock timestamps for records people read (jobs, endpoints, run information).

#include <string>

namespace reco {

// The current UTC time formatted with strftime (e.g. "%Y%m%d-%H%M%S").
std::string utc_now(const char* format);
// The current UTC time as RFC 3339, e.g. "2026-11-27T23:41:05Z".
inline std::string utc_timestamp() {
  return utc_now("%Y-%m-%dT%H:%M:%SZ");
}
// The same with milliseconds, e.g. "2026-11-27T23:41:05.042Z", for records ordered by time.
std::string utc_timestamp_ms();

}  // namespace reco
