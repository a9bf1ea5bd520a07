#include "serving/payloads.h"

#include <zlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace reco::serving {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// The message of the Error(kInput) that f throws; fails the test if it throws nothing else.
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return {};
}

std::vector<std::pair<int64_t, int64_t>> as_pairs(const std::vector<IdPair>& v) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& p : v) out.emplace_back(p.user, p.item);
  return out;
}

using Pairs = std::vector<std::pair<int64_t, int64_t>>;

// --- ids ---

TEST(IdFromJson, AcceptsTheFourSpellingsOfAnId) {
  EXPECT_EQ(id_from_json(json(10), "x"), 10);
  EXPECT_EQ(id_from_json(json(10.0), "x"), 10);
  EXPECT_EQ(id_from_json(json("10"), "x"), 10);
  EXPECT_EQ(id_from_json(json("10.0"), "x"), 10);
  EXPECT_EQ(id_from_json(json(-3), "x"), -3);
  EXPECT_EQ(id_from_json(json(uint64_t{9007199254740993}), "x"), 9007199254740993);
}

TEST(IdFromJson, RejectsFractionsTextAndOtherTypesNamingTheField) {
  EXPECT_THAT(input_error([] { id_from_json(json(10.5), "data[0][2] (user_id)"); }),
              HasSubstr("data[0][2] (user_id): 10.5 is not an integer id"));
  EXPECT_THAT(input_error([] { id_from_json(json("10.5"), "f"); }),
              HasSubstr("f: \"10.5\" is not an integer id"));
  EXPECT_THAT(input_error([] { id_from_json(json("abc"), "f"); }), HasSubstr("\"abc\""));
  EXPECT_THAT(input_error([] { id_from_json(json(""), "f"); }), HasSubstr("not an integer id"));
  EXPECT_THAT(input_error([] { id_from_json(json(true), "f"); }), HasSubstr("got a boolean"));
  EXPECT_THAT(input_error([] { id_from_json(json::array({1}), "f"); }), HasSubstr("got an array"));
  EXPECT_THAT(input_error([] { id_from_json(json(), "f"); }),
              HasSubstr("f: expected an id, got null"));
  EXPECT_THAT(input_error([] { id_from_json(json(uint64_t{18446744073709551615u}), "f"); }),
              HasSubstr("not an integer id"));
  EXPECT_THAT(input_error([] { id_from_json(json(1e300), "f"); }), HasSubstr("not an integer id"));
}

// --- CSV ---

TEST(ParseCsvPairs, ReadsTheGuidesPayload) {
  EXPECT_EQ(as_pairs(parse_csv_pairs("1,308\n1,425\n2,541\n2,1197\n")),
            (Pairs{{1, 308}, {1, 425}, {2, 541}, {2, 1197}}));
}

TEST(ParseCsvPairs, ToleratesCrlfNoFinalNewlineQuotesSpacesBomAndFloatIds) {
  EXPECT_EQ(as_pairs(parse_csv_pairs("1,308\r\n2,541")), (Pairs{{1, 308}, {2, 541}}));
  EXPECT_EQ(as_pairs(parse_csv_pairs("\xEF\xBB\xBF\"1\", 308 \n 2.0,\"541.0\"\r\n")),
            (Pairs{{1, 308}, {2, 541}}));
}

TEST(ParseCsvPairs, RejectsEmptyBody) {
  EXPECT_THAT(input_error([] { parse_csv_pairs(""); }), HasSubstr("empty body"));
}

TEST(ParseCsvPairs, NamesTheLineOfAWrongFieldCount) {
  EXPECT_THAT(input_error([] { parse_csv_pairs("1,2\n3\n"); }),
              HasSubstr("line 2: expected 2 fields (user_id,item_id), found 1: \"3\""));
  EXPECT_THAT(input_error([] { parse_csv_pairs("1,2,3"); }),
              HasSubstr("line 1: expected 2 fields (user_id,item_id), found 3"));
}

TEST(ParseCsvPairs, NamesLineAndFieldOfANonNumericId) {
  EXPECT_THAT(input_error([] { parse_csv_pairs("1,2\n3,abc\n"); }),
              HasSubstr("line 2, field 2 (item_id): \"abc\" is not an integer id"));
  EXPECT_THAT(input_error([] { parse_csv_pairs("1.5,2"); }),
              HasSubstr("line 1, field 1 (user_id): \"1.5\""));
  EXPECT_THAT(input_error([] { parse_csv_pairs("userId,movieId\n1,2\n"); }),
              HasSubstr("must not have a header line"));
}

TEST(ParseCsvPairs, RejectsBlankLinesAnywhereButTheOneFinalNewline) {
  EXPECT_THAT(input_error([] { parse_csv_pairs("1,2\n\n3,4\n"); }), HasSubstr("line 2 is empty"));
  EXPECT_THAT(input_error([] { parse_csv_pairs("1,2\n\n"); }), HasSubstr("line 2 is empty"));
  EXPECT_THAT(input_error([] { parse_csv_pairs("\n1,2"); }), HasSubstr("line 1 is empty"));
  EXPECT_THAT(input_error([] { parse_csv_pairs("1,2\n  \n"); }), HasSubstr("line 2 is empty"));
}

TEST(ParseCsvPairs, RejectsAnUnclosedQuote) {
  EXPECT_THAT(input_error([] { parse_csv_pairs("\"1,2\n"); }),
              HasSubstr("line 1, column 1: the quote that opens field 1 is never closed"));
}

// --- JSON instances ---

TEST(ParseJsonInstances, ReadsInstancesWithMixedIdSpellings) {
  EXPECT_EQ(
      as_pairs(parse_json_instances(R"({"instances": [[1, 308], ["2", 541.0], ["3.0", "4"]]})")),
      (Pairs{{1, 308}, {2, 541}, {3, 4}}));
  EXPECT_TRUE(parse_json_instances(R"({"instances": []})").empty());
}

TEST(ParseJsonInstances, NamesWhatIsWrong) {
  EXPECT_THAT(input_error([] { parse_json_instances(""); }), HasSubstr("empty body"));
  EXPECT_THAT(input_error([] { parse_json_instances("[[1,2]]"); }),
              HasSubstr("must be a JSON object"));
  EXPECT_THAT(input_error([] { parse_json_instances(R"({"data": []})"); }),
              HasSubstr("missing field \"instances\""));
  EXPECT_THAT(input_error([] { parse_json_instances(R"({"instances": {}})"); }),
              HasSubstr("instances: expected an array"));
  EXPECT_THAT(input_error([] { parse_json_instances(R"({"instances": [[1,2],[3]]})"); }),
              HasSubstr("instances[1]: expected [user_id, item_id], got an array of 1"));
  EXPECT_THAT(input_error([] { parse_json_instances(R"({"instances": [[1,2],[3,"x"]]})"); }),
              HasSubstr("instances[1][1] (item_id): \"x\" is not an integer id"));
  EXPECT_THAT(input_error([] { parse_json_instances("{\n  \"instances\": [1,\n}"); }),
              HasSubstr("invalid JSON at line 3, column 1"));
}

// --- formatting ---

TEST(FormatPredictions, CsvAndJsonUseShortestRoundTripNumbers) {
  const std::vector<double> p{3.5, 4.0, 0.1 + 0.2};
  EXPECT_EQ(format_csv_predictions(p), "3.5\n4\n0.30000000000000004\n");
  EXPECT_EQ(format_json_predictions(p), R"({"predictions":[3.5,4,0.30000000000000004]})");
  EXPECT_EQ(format_csv_predictions({}), "");
  EXPECT_EQ(json::parse(format_json_predictions(p))["predictions"][2].get<double>(), 0.1 + 0.2);
}

// --- external functions ---

const FunctionSignature kInvoke{"invoke", {"model_name", "user_id", "item_id"}, 3};
const FunctionSignature kTrain{"train", {"input_table", "output_table", "options_json"}, 2};

TEST(FunctionSignature, DisplaysOptionalParameters) {
  EXPECT_EQ(kInvoke.display(), "invoke(model_name, user_id, item_id)");
  EXPECT_EQ(kTrain.display(), "train(input_table, output_table [, options_json])");
}

TEST(ParseBatch, KeepsRowNumbersOrderRepeatsAndNulls) {
  const auto rows = parse_batch(
      R"({"data": [[3, "m", "1", 308], [0, null, 2, 3], [3, "m", "1", 308], [7, "n", 1.0, "2.0"]]})",
      kInvoke);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].row_number, 3);
  EXPECT_EQ(rows[1].row_number, 0);
  EXPECT_EQ(rows[2].row_number, 3);
  EXPECT_EQ(rows[3].index, 3u);
  EXPECT_FALSE(rows[1].has_arg(0));
  EXPECT_TRUE(rows[1].has_arg(1));
  EXPECT_EQ(string_arg(rows[3], kInvoke, 0), "n");
  EXPECT_EQ(id_arg(rows[3], kInvoke, 1), 1);
  EXPECT_EQ(id_arg(rows[3], kInvoke, 2), 2);
  EXPECT_TRUE(parse_batch(R"({"data": []})", kInvoke).empty());
}

TEST(ParseBatch, AcceptsOptionalArguments) {
  const auto rows = parse_batch(R"({"data": [[0, "a", "b"], [1, "a", "b", "{}"]]})", kTrain);
  EXPECT_EQ(rows[0].args.size(), 2u);
  EXPECT_FALSE(rows[0].has_arg(2));
  EXPECT_TRUE(rows[1].has_arg(2));
}

TEST(ParseBatch, RejectsTheProtocolsStructuralErrorsNamingTheRow) {
  EXPECT_THAT(input_error([] { parse_batch("", kInvoke); }), HasSubstr("empty body"));
  EXPECT_THAT(input_error([] { parse_batch("[1]", kInvoke); }), HasSubstr("must be a JSON object"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"rows": []})", kInvoke); }),
              HasSubstr("missing field \"data\""));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": {}})", kInvoke); }),
              HasSubstr("data: expected an array of rows, got an object"));
  EXPECT_THAT(
      input_error([] { parse_batch(R"({"data": [[0,"m",1,2], "x"]})", kInvoke); }),
      HasSubstr(
          "data[1]: expected a row [row_number, model_name, user_id, item_id], got a string"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[]]})", kInvoke); }),
              HasSubstr("data[0]: empty row"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [["0","m",1,2]]})", kInvoke); }),
              HasSubstr("data[0][0]: the row number must be a non-negative integer, got \"0\""));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[1.5,"m",1,2]]})", kInvoke); }),
              HasSubstr("got 1.5"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[-1,"m",1,2]]})", kInvoke); }),
              HasSubstr("got -1"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[null,"m",1,2]]})", kInvoke); }),
              HasSubstr("got null"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[0,"m",1,2],[1,"m",1]]})", kInvoke); }),
              HasSubstr("data[1] (row 1): invoke(model_name, user_id, item_id) takes 3 "
                        "arguments, got 2"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[0,"a"]]})", kTrain); }),
              HasSubstr("takes 2 to 3 arguments, got 1"));
  EXPECT_THAT(input_error([] { parse_batch(R"({"data": [[0,"a","b","c","d"]]})", kTrain); }),
              HasSubstr("got 4"));
}

TEST(ParseBatch, ArgumentErrorsNameRowAndParameter) {
  const auto rows = parse_batch(R"({"data": [[5, 12, "10.5", "x"]]})", kInvoke);
  EXPECT_THAT(input_error([&] { string_arg(rows[0], kInvoke, 0); }),
              HasSubstr("row 5 (data[0]), argument 1 (model_name): expected a string, got a "
                        "number 12"));
  EXPECT_THAT(input_error([&] { id_arg(rows[0], kInvoke, 1); }),
              HasSubstr("row 5 (data[0]), argument 2 (user_id): \"10.5\" is not an integer id"));
  EXPECT_THAT(input_error([&] { id_arg(rows[0], kInvoke, 2); }),
              HasSubstr("argument 3 (item_id): \"x\""));
}

TEST(FormatBatch, NumbersStayNumbersAndOrderIsKept) {
  const std::vector<std::pair<int64_t, json>> rows{
      {2, json(3.25)}, {0, json(nullptr)}, {2, json(3.25)}, {1, json{{"a", 1}}}};
  EXPECT_EQ(format_batch(rows), R"({"data":[[2,3.25],[0,null],[2,3.25],[1,{"a":1}]]})");
}

// --- content negotiation ---

TEST(MediaType, ParsesTypeAndParameters) {
  const MediaType mt = parse_media_type(" Text/CSV ; charset=\"UTF-8\"; header=absent");
  EXPECT_EQ(mt.type, "text/csv");
  EXPECT_EQ(mt.param("charset"), "UTF-8");
  EXPECT_EQ(mt.param("header"), "absent");
  EXPECT_FALSE(mt.param("q"));
  EXPECT_EQ(parse_media_type("").type, "");
}

TEST(MediaType, KnowsAsciiCompatibleCharsets) {
  EXPECT_TRUE(is_ascii_compatible_charset("UTF-8"));
  EXPECT_TRUE(is_ascii_compatible_charset("us-ascii"));
  EXPECT_TRUE(is_ascii_compatible_charset("ISO-8859-1"));
  EXPECT_FALSE(is_ascii_compatible_charset("utf-16"));
  EXPECT_FALSE(is_ascii_compatible_charset(""));
}

TEST(NegotiateAccept, PicksTheFirstAcceptableTypeOrTheRequestsFormat) {
  EXPECT_EQ(negotiate_accept("", BodyFormat::kCsv), BodyFormat::kCsv);
  EXPECT_EQ(negotiate_accept("*/*", BodyFormat::kJson), BodyFormat::kJson);
  EXPECT_EQ(negotiate_accept("application/json", BodyFormat::kCsv), BodyFormat::kJson);
  EXPECT_EQ(negotiate_accept("text/html, text/csv;q=0.5", BodyFormat::kJson), BodyFormat::kCsv);
  EXPECT_EQ(negotiate_accept("text/csv;q=0, */*", BodyFormat::kCsv), BodyFormat::kCsv);
  EXPECT_EQ(negotiate_accept("text/*", BodyFormat::kJson), BodyFormat::kCsv);
  EXPECT_FALSE(negotiate_accept("text/html", BodyFormat::kCsv));
}

// --- compression ---

std::string compress(std::string_view text, bool gzip) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, gzip ? 16 + MAX_WBITS : MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, text.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(InflateBody, RoundTripsGzipAndDeflate) {
  bool too_large = true;
  EXPECT_EQ(inflate_body(compress("1,308\n2,541\n", true), true, 1000, &too_large),
            "1,308\n2,541\n");
  EXPECT_FALSE(too_large);
  EXPECT_EQ(inflate_body(compress("abc", false), false, 1000, &too_large), "abc");
}

TEST(InflateBody, StopsAtTheOutputLimit) {
  const std::string big(1 << 20, '1');  // 1 MiB of '1' compresses to about a kilobyte
  const std::string z = compress(big, true);
  ASSERT_LT(z.size(), 10000u);
  bool too_large = false;
  const std::string out = inflate_body(z, true, 100000, &too_large);
  EXPECT_TRUE(too_large);
  EXPECT_LE(out.size(), 100000u);
}

TEST(InflateBody, RejectsCorruptTruncatedAndTrailingData) {
  bool too_large = false;
  EXPECT_THAT(input_error([&] { inflate_body("not gzip at all", true, 1000, &too_large); }),
              HasSubstr("not valid gzip data"));
  const std::string z = compress("1,308\n2,541\n", true);
  EXPECT_THAT(input_error([&] { inflate_body(z.substr(0, z.size() - 6), true, 1000, &too_large); }),
              HasSubstr("truncated"));
  EXPECT_THAT(input_error([&] { inflate_body(z + "xx", true, 1000, &too_large); }),
              HasSubstr("2 bytes after the end"));
  EXPECT_THAT(input_error([&] { inflate_body("", true, 1000, &too_large); }),
              HasSubstr("truncated"));
}

}  // namespace
}  // namespace reco::serving
