#include "core/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace reco {
namespace {

using ::testing::HasSubstr;

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonDepth, AcceptsUpToTheLimitAndRefusesOneMore) {
  EXPECT_EQ(json_depth_violation(nested(kMaxJsonDepth)), 0u);
  EXPECT_NO_THROW(parse_json(nested(kMaxJsonDepth)));
  EXPECT_EQ(json_depth_violation(nested(kMaxJsonDepth + 1)), kMaxJsonDepth + 1);
  try {
    parse_json(nested(kMaxJsonDepth + 1));
    FAIL() << "expected a parse error";
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("nesting deeper than 64 levels"));
    EXPECT_EQ(e.byte, kMaxJsonDepth + 1);
  }
  EXPECT_EQ(try_parse_json(nested(kMaxJsonDepth + 1)), std::nullopt);
}

TEST(JsonDepth, AHundredThousandLevelsAreRefusedWithoutRecursion) {
  const std::string deep = nested(100000, '{', '}');
  EXPECT_THROW(parse_json(deep), nlohmann::json::parse_error);
  EXPECT_EQ(try_parse_json(nested(100000)), std::nullopt);
  // Mixed objects and arrays count alike.
  std::string mixed;
  for (int i = 0; i < 40; ++i) mixed += "{\"a\":[";
  mixed += "1";
  for (int i = 0; i < 40; ++i) mixed += "]}";
  EXPECT_EQ(json_depth_violation(mixed), 32u * 6 + 1);  // the '{' of the 33rd "{\"a\":["
}

TEST(JsonDepth, BracketsInsideStringsDoNotCount) {
  const std::string text = "{\"k\": \"" + std::string(1000, '[') + "\\\"[[[\"}";
  EXPECT_EQ(json_depth_violation(text), 0u);
  EXPECT_EQ(parse_json(text)["k"].get<std::string>().size(), 1004u);
}

TEST(JsonParse, ANumberBeyondDoubleIsAParseError) {
  // Found by the payloads fuzzer: nlohmann throws out_of_range (406) here.
  EXPECT_THROW(parse_json("[1E99999]"), nlohmann::json::parse_error);
  EXPECT_THROW(parse_json("{\"data\": [[0, 999999999999999E9999990]]}"),
               nlohmann::json::parse_error);
  EXPECT_EQ(try_parse_json("1E99999"), std::nullopt);
  EXPECT_EQ(parse_json("1E300").get<double>(), 1e300);
}

TEST(JsonParse, AnOverflowingNumberIsQuotedOnlyInPart) {
  // Found by the payloads fuzzer (a 4,000-digit number): nlohmann's out_of_range message quotes
  // the whole number.
  const std::string digits = "7" + std::string(4200, '9');
  try {
    parse_json("[" + digits + "]");
    FAIL();
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("number overflow parsing '7999"));
    EXPECT_THAT(e.what(), HasSubstr("...'"));
  }
}

TEST(JsonParse, MessagesStayShortWhateverTheInput) {
  // Found by the payloads fuzzer: an unterminated 5000-byte string was quoted whole.
  const std::string text = "{\"" + std::string(5000, 'B');
  try {
    parse_json(text);
    FAIL();
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("parse error at line 1, column"));
    EXPECT_THAT(e.what(), HasSubstr("last read: '\"BBBB"));
  }
  // Short messages are nlohmann's own.
  try {
    parse_json("no");
    FAIL();
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("parse error at line 1, column 2: syntax error while parsing "
                                    "value - invalid literal; last read: 'no'"));
  }
}

TEST(JsonPreview, CutsLongValuesAndStaysShallow) {
  EXPECT_EQ(json_preview(nlohmann::json(12)), "12");
  EXPECT_EQ(json_preview(nlohmann::json::parse(R"({"a":[1,2],"b":"x"})")),
            R"({"a":[1,2],"b":"x"})");
  const nlohmann::json big = nlohmann::json::array({std::string(10000, 'x'), 1, 2});
  const std::string shown = json_preview(big, 40);
  EXPECT_EQ(shown.size(), 40u);
  EXPECT_EQ(shown.substr(37), "...");
  EXPECT_EQ(shown.substr(0, 3), "[\"x");
  // A value deeper than the parser allows (built in code) is previewed without recursion.
  nlohmann::json deep = 1;
  for (int i = 0; i < 20000; ++i) deep = nlohmann::json::array({std::move(deep)});
  const std::string d = json_preview(deep, 40);
  EXPECT_EQ(d, std::string(37, '[') + "...");
  // Invalid UTF-8 does not throw.
  EXPECT_NO_THROW(json_preview(nlohmann::json(std::string("\xff\xfe"))));
}

}  // namespace
}  // namespace reco
