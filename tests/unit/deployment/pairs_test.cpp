#include "deployment/pairs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace reco::deployment {
namespace {

using ::testing::HasSubstr;

std::string error_of(std::string_view body) {
  try {
    parse_pairs_csv(body, "payload.csv");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    return e.what();
  }
  return "(no error)";
}

TEST(ParsePairsCsv, ReadsTheGuidePayload) {
  const auto pairs = parse_pairs_csv("1,308\n1,425\n2,541\n2,1197\n", "p");
  EXPECT_EQ(pairs, (std::vector<IdPair>{{1, 308}, {1, 425}, {2, 541}, {2, 1197}}));
}

TEST(ParsePairsCsv, AcceptsCrLfNoFinalNewlineFloatsAndQuotes) {
  EXPECT_EQ(parse_pairs_csv("1,2\r\n3.0,\"4\"", "p"), (std::vector<IdPair>{{1, 2}, {3, 4}}));
  EXPECT_EQ(parse_pairs_csv(" 5 , 6 \n", "p"), (std::vector<IdPair>{{5, 6}}));
}

TEST(ParsePairsCsv, NamesLineAndColumnOfEveryProblem) {
  EXPECT_THAT(error_of(""), HasSubstr("payload.csv: empty body"));
  EXPECT_THAT(error_of("1,2\n\n3,4\n"), HasSubstr("payload.csv:2:1: blank line"));
  EXPECT_THAT(error_of("1,2\n7\n"), HasSubstr("payload.csv:2:2: only one field"));
  EXPECT_THAT(error_of("1,2,3\n"), HasSubstr("payload.csv:1:5: too many fields"));
  EXPECT_THAT(error_of("1,2\nab,3\n"),
              HasSubstr("payload.csv:2:1: user_id 'ab' is not an integer"));
  EXPECT_THAT(error_of("1,2.5\n"), HasSubstr("payload.csv:1:3: item_id '2.5' is not an integer"));
  EXPECT_THAT(error_of("1,\n"), HasSubstr("payload.csv:1:3: item_id '' is not an integer"));
}

}  // namespace
}  // namespace reco::deployment
