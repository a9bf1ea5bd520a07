// Schedules: cron parsing (errors name the field), next firing times across month ends, leap
// years and daylight-saving changes, intervals, and the time zone database reader.
#include "tasks/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "core/error.h"

namespace reco::tasks {
namespace {

using ::testing::HasSubstr;

int64_t at(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  using namespace std::chrono;
  const sys_days day{year_month_day{year(y), month(m), std::chrono::day(d)}};
  return duration_cast<seconds>(day.time_since_epoch()).count() + hh * 3600 + mm * 60;
}

std::string error_of(const std::string& text) {
  try {
    Schedule::parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    return e.what();
  }
  return "no error";
}

// Every firing in (from, to], in UTC text.
std::vector<std::string> firings(const Schedule& s, int64_t from, int64_t to) {
  std::vector<std::string> out;
  for (int64_t t = s.next_after(from, 0); t > 0 && t <= to; t = s.next_after(t, 0))
    out.push_back(utc_text(t));
  return out;
}

TEST(Schedule, ParseErrorsNameTheField) {
  EXPECT_EQ(error_of("0 24 * * *"), "cron field 2 (hour) '24': 24 is outside 0-23");
  EXPECT_EQ(error_of("60 * * * *"), "cron field 1 (minute) '60': 60 is outside 0-59");
  EXPECT_EQ(error_of("* * 0 * *"), "cron field 3 (day of month) '0': 0 is outside 1-31");
  EXPECT_THAT(error_of("* * * 13 *"), HasSubstr("cron field 4 (month) '13'"));
  EXPECT_THAT(error_of("* * * FOO *"), HasSubstr("'FOO' is not a number or a month name"));
  EXPECT_THAT(error_of("* * * * 8"), HasSubstr("cron field 5 (day of week) '8': 8 is outside 0-7"));
  EXPECT_THAT(error_of("x * * * *"), HasSubstr("cron field 1 (minute) 'x': 'x' is not a number"));
  EXPECT_THAT(error_of("*/0 * * * *"), HasSubstr("step '0' is not a positive number"));
  EXPECT_THAT(error_of("0 5-1 * * *"),
              HasSubstr("cron field 2 (hour) '5-1': range 5-1 runs backwards"));
  EXPECT_THAT(error_of("0 1,,2 * * *"), HasSubstr("an empty list item"));
  EXPECT_THAT(error_of("0 0 31 2 *"), HasSubstr("cron field 3 (day of month) '31': no such day"));
  EXPECT_THAT(error_of("0 0 * *"), HasSubstr("neither a cron expression"));
  EXPECT_THAT(error_of(""), HasSubstr("it has 0 word(s)"));
  EXPECT_THAT(error_of("0 3 * * * Mars/Olympus_Mons"),
              HasSubstr("unknown time zone 'Mars/Olympus_Mons': not in the system time zone"));
  EXPECT_THAT(error_of("0 3 * * * ../../etc/passwd"), HasSubstr("not a time zone name"));
  EXPECT_THAT(error_of("0 3 * * * Europe"), HasSubstr("unknown time zone 'Europe'"));
  EXPECT_THAT(error_of("0 MINUTE"), HasSubstr("the count '0' is not a whole number from 1"));
  EXPECT_THAT(error_of("5 WEEKS"), HasSubstr("unknown unit 'WEEKS'"));
  EXPECT_THAT(error_of("ten MINUTES"), HasSubstr("interval 'ten MINUTES'"));
}

TEST(Schedule, CronInUtcAcrossMonthEndsAndLeapYears) {
  EXPECT_EQ(
      firings(Schedule::parse("*/15 * * * *"), at(2026, 12, 2, 10, 7), at(2026, 12, 2, 11, 0)),
      (std::vector<std::string>{"2026-12-02T10:15:00Z", "2026-12-02T10:30:00Z",
                                "2026-12-02T10:45:00Z", "2026-12-02T11:00:00Z"}));
  const auto monthly = Schedule::parse("0 0 1 * *");
  EXPECT_EQ(utc_text(monthly.next_after(at(2026, 1, 31, 23, 59), 0)), "2026-02-01T00:00:00Z");
  EXPECT_EQ(utc_text(monthly.next_after(at(2026, 12, 31, 12), 0)), "2027-01-01T00:00:00Z");
  // The 31st skips the months without one.
  EXPECT_EQ(firings(Schedule::parse("0 12 31 * *"), at(2026, 1, 1), at(2026, 8, 31, 23)),
            (std::vector<std::string>{"2026-01-31T12:00:00Z", "2026-03-31T12:00:00Z",
                                      "2026-05-31T12:00:00Z", "2026-07-31T12:00:00Z",
                                      "2026-08-31T12:00:00Z"}));
  EXPECT_EQ(utc_text(Schedule::parse("0 0 29 2 *").next_after(at(2025, 3, 1), 0)),
            "2028-02-29T00:00:00Z");
  EXPECT_EQ(
      utc_text(Schedule::parse("USING CRON 0 9 * JAN,jul mon-fri").next_after(at(2026, 1, 3), 0)),
      "2026-01-05T09:00:00Z");  // a Monday
  // Both day fields restricted: either matches (the 13th, or a Friday).
  EXPECT_EQ(firings(Schedule::parse("0 0 13 * 5"), at(2026, 2, 1), at(2026, 2, 14)),
            (std::vector<std::string>{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"}));
  EXPECT_EQ(utc_text(Schedule::parse("0 0 * * 7").next_after(at(2026, 12, 2), 0)),
            "2026-12-06T00:00:00Z");  // 7 is Sunday
  EXPECT_EQ(utc_text(Schedule::parse("5/20 * * * *").next_after(at(2026, 1, 1, 0, 26), 0)),
            "2026-01-01T00:45:00Z");
}

TEST(Schedule, DaylightSavingChangesInANamedTimeZone) {
  // New York, 2026: clocks go 02:00 EST -> 03:00 EDT on 8 March, 02:00 EDT -> 01:00 EST on
  // 1 November.
  const auto at_0230 = Schedule::parse("30 2 * * * America/New_York");
  EXPECT_EQ(at_0230.time_zone().name(), "America/New_York");
  EXPECT_EQ(firings(at_0230, at(2026, 3, 7), at(2026, 3, 10)),
            (std::vector<std::string>{"2026-03-07T07:30:00Z",     // 02:30 EST
                                      "2026-03-08T07:00:00Z",     // 02:30 does not exist: 03:00 EDT
                                      "2026-03-09T06:30:00Z"}));  // 02:30 EDT
  // 01:30 happens twice on 1 November: a fixed-time schedule fires once, the first time.
  EXPECT_EQ(
      firings(Schedule::parse("30 1 * * * America/New_York"), at(2026, 10, 31), at(2026, 11, 3)),
      (std::vector<std::string>{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z",
                                "2026-11-02T06:30:00Z"}));
  // An every-hour schedule fires every real hour through the repeated one.
  EXPECT_EQ(firings(Schedule::parse("0 * * * * America/New_York"), at(2026, 11, 1, 4, 30),
                    at(2026, 11, 1, 7, 30)),
            (std::vector<std::string>{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z",
                                      "2026-11-01T07:00:00Z"}));
  // Paris on the last Sunday of March 2026 (29th): 02:00 CET -> 03:00 CEST.
  EXPECT_EQ(firings(Schedule::parse("0 3 * * * Europe/Paris"), at(2026, 3, 28), at(2026, 3, 30)),
            (std::vector<std::string>{"2026-03-28T02:00:00Z", "2026-03-29T01:00:00Z"}));
  // Month ends in local time: midnight on the 1st in Tokyo is the last day of the month in UTC.
  EXPECT_EQ(utc_text(Schedule::parse("0 0 1 * * Asia/Tokyo").next_after(at(2026, 2, 27), 0)),
            "2026-02-28T15:00:00Z");
}

TEST(Schedule, TimeZoneRulesBeyondTheTransitionTable) {
  const auto rule = TimeZone::parse_rule("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(rule.valid);
  EXPECT_EQ(rule.offset_at(at(2040, 1, 15)), 3600);
  EXPECT_EQ(rule.offset_at(at(2040, 7, 15)), 7200);
  // 2040: the last Sunday of March is the 25th; the switch is at 01:00 UTC.
  EXPECT_EQ(rule.offset_at(at(2040, 3, 25, 0, 59)), 3600);
  EXPECT_EQ(rule.offset_at(at(2040, 3, 25, 1, 0)), 7200);
  const auto paris = TimeZone::load("Europe/Paris");
  for (int64_t t : {at(2030, 1, 1), at(2030, 6, 1), at(2045, 1, 1), at(2045, 6, 1)})
    EXPECT_EQ(paris.offset_at(t), rule.offset_at(t)) << utc_text(t);
  const auto south = TimeZone::parse_rule("<-03>3");
  ASSERT_TRUE(south.valid);
  EXPECT_EQ(south.offset_at(at(2040, 1, 1)), -3 * 3600);
  const auto sydney = TimeZone::parse_rule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(sydney.valid);
  EXPECT_EQ(sydney.offset_at(at(2040, 1, 15)), 11 * 3600);  // southern summer
  EXPECT_EQ(sydney.offset_at(at(2040, 7, 15)), 10 * 3600);
  EXPECT_FALSE(TimeZone::parse_rule("EST5EDT,J60,J300").valid);
  EXPECT_EQ(TimeZone::load("UTC").offset_at(at(2026, 6, 1)), 0);
}

TEST(Schedule, IntervalsCountFromTheirAnchor) {
  const auto hourly = Schedule::parse("60 MINUTE");
  EXPECT_TRUE(hourly.is_interval());
  EXPECT_EQ(hourly.interval_seconds(), 3600);
  const int64_t anchor = at(2026, 12, 2, 10, 7);
  EXPECT_EQ(hourly.next_after(anchor, anchor), anchor + 3600);
  EXPECT_EQ(hourly.next_after(anchor + 3600, anchor), anchor + 7200);
  EXPECT_EQ(hourly.next_after(anchor + 3599, anchor), anchor + 3600);
  EXPECT_EQ(hourly.next_after(anchor - 100, anchor), anchor);
  EXPECT_EQ(Schedule::parse("1 day").interval_seconds(), 86400);
  EXPECT_EQ(Schedule::parse("90 SECONDS").interval_seconds(), 90);
  EXPECT_EQ(Schedule::parse("2 Hours").interval_seconds(), 7200);
}

}  // namespace
}  // namespace reco::tasks
