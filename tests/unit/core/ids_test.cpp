#include "core/ids.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace reco {
namespace {

TEST(IdFromText, AcceptsIntegersInEveryFormAWarehouseSends) {
  EXPECT_EQ(id_from_text("10"), 10);
  EXPECT_EQ(id_from_text("10.0"), 10);
  EXPECT_EQ(id_from_text("10.000"), 10);
  EXPECT_EQ(id_from_text("10."), 10);
  EXPECT_EQ(id_from_text("-7"), -7);
  EXPECT_EQ(id_from_text("+7"), 7);
  EXPECT_EQ(id_from_text(" 42 "), 42);
  EXPECT_EQ(id_from_text("42\r"), 42);
  EXPECT_EQ(id_from_text("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(id_from_text("-9223372036854775808"), std::numeric_limits<int64_t>::min());
}

TEST(IdFromText, RefusesEverythingElse) {
  for (const char* bad : {"", " ", "abc", "10.5", "10.01", ".0", "-", "+", "1e3", "0x10", "10 0",
                          "9223372036854775808", "--1", "1,0", "\"10\"", "10a"}) {
    EXPECT_EQ(id_from_text(bad), std::nullopt) << bad;
  }
}

TEST(IdFromDouble, AcceptsOnlyIntegralValuesInRange) {
  EXPECT_EQ(id_from_double(10.0), 10);
  EXPECT_EQ(id_from_double(-3.0), -3);
  EXPECT_EQ(id_from_double(9007199254740992.0), int64_t{9007199254740992});
  EXPECT_EQ(id_from_double(-9223372036854775808.0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(id_from_double(10.5), std::nullopt);
  EXPECT_EQ(id_from_double(9223372036854775808.0), std::nullopt);
  EXPECT_EQ(id_from_double(std::nan("")), std::nullopt);
  EXPECT_EQ(id_from_double(std::numeric_limits<double>::infinity()), std::nullopt);
}

}  // namespace
}  // namespace reco
