#include "data/csv.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "temp_dir.h"

namespace reco::data {
namespace {

using Rows = std::vector<std::vector<std::string>>;

Rows read_all(CsvReader& reader) {
  Rows rows;
  CsvRecord record;
  while (reader.next(record)) rows.emplace_back(record.fields().begin(), record.fields().end());
  return rows;
}

Rows parse(std::string data, CsvOptions options = {}) {
  auto reader = CsvReader::from_string(std::move(data), "t.csv", std::move(options));
  return read_all(reader);
}

CsvOptions no_header() {
  CsvOptions options;
  options.header = false;
  return options;
}

// The message of the Error(kInput) thrown by `f`.
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

std::string parse_error(std::string data, CsvOptions options = {}) {
  return input_error([&] { parse(std::move(data), options); });
}

TEST(CsvReader, ReadsHeaderAndRows) {
  auto reader = CsvReader::from_string("userId,movieId,rating\n1,31,2.5\n1,1029,3.0\n", "r.csv");
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"userId", "movieId", "rating"}));
  EXPECT_EQ(reader.expected_fields(), 3u);
  EXPECT_EQ(read_all(reader), (Rows{{"1", "31", "2.5"}, {"1", "1029", "3.0"}}));
  EXPECT_EQ(reader.rows_read(), 2u);
  EXPECT_EQ(reader.bytes_read(), reader.bytes_total());
}

TEST(CsvReader, QuotedFieldsHoldDelimitersNewlinesAndDoubledQuotes) {
  const Rows rows = parse(
      "id,title,genres\n"
      "1,\"American President, The (1995)\",Comedy|Drama\n"
      "2,\"\"\"Great Performances\"\" Cats (1998)\",Musical\n"
      "3,\"two\nlines\",\"\"\n");
  EXPECT_EQ(rows, (Rows{{"1", "American President, The (1995)", "Comedy|Drama"},
                        {"2", "\"Great Performances\" Cats (1998)", "Musical"},
                        {"3", "two\nlines", ""}}));
}

TEST(CsvReader, CrLfLineEndsAndMissingFinalNewline) {
  EXPECT_EQ(parse("a,b\r\n1,2\r\n3,4"), (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(parse("a,b\r\n1,\"x\"\r\n\"y\",\"z\""), (Rows{{"1", "x"}, {"y", "z"}}));
  EXPECT_EQ(parse("a,b\n1,2\r"), (Rows{{"1", "2"}}));
  // Inside quotes a CRLF is data.
  EXPECT_EQ(parse("a\r\n\"x\r\ny\"\r\n"), (Rows{{"x\r\ny"}}));
}

TEST(CsvReader, EmptyFieldsAndTrailingDelimiter) {
  EXPECT_EQ(parse("a,b,c\n,,\n1,,\n,2,\"\"\n"), (Rows{{"", "", ""}, {"1", "", ""}, {"", "2", ""}}));
  EXPECT_EQ(parse("movieId,imdbId,tmdbId\n791,0113610,\n"), (Rows{{"791", "0113610", ""}}));
}

TEST(CsvReader, QuoteInsideAnUnquotedFieldIsText) {
  EXPECT_EQ(parse("a,b\nsay \"hi\",x\n"), (Rows{{"say \"hi\"", "x"}}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  auto reader = CsvReader::from_string("a,b\n\n1,2\r\n\r\n\n3,4\n\n", "t.csv");
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line(), 3u);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line(), 6u);
  EXPECT_EQ(record[1], "4");
  EXPECT_FALSE(reader.next(record));
}

TEST(CsvReader, OtherDelimiters) {
  CsvOptions tab = no_header();
  tab.delimiter = "\t";
  EXPECT_EQ(parse("196\t242\t3\t881250949\n186\t302\t3\t891717742\n", tab),
            (Rows{{"196", "242", "3", "881250949"}, {"186", "302", "3", "891717742"}}));

  CsvOptions pipe = no_header();
  pipe.delimiter = "|";
  EXPECT_EQ(parse("1|Toy Story (1995)|01-Jan-1995||http://x|0|1\n", pipe),
            (Rows{{"1", "Toy Story (1995)", "01-Jan-1995", "", "http://x", "0", "1"}}));
}

TEST(CsvReader, MultiCharacterDelimiter) {
  CsvOptions dat = no_header();
  dat.delimiter = "::";
  dat.quoting = false;
  EXPECT_EQ(parse("1::Toy Story (1995)::Animation|Children's|Comedy\n"
                  "260::Star Wars: Episode IV - A New Hope (1977)::Action\n"
                  "2057::\"Great Performances\" Cats (1998)::Musical\n"
                  "5::a:b:::\n",
                  dat),
            (Rows{{"1", "Toy Story (1995)", "Animation|Children's|Comedy"},
                  {"260", "Star Wars: Episode IV - A New Hope (1977)", "Action"},
                  {"2057", "\"Great Performances\" Cats (1998)", "Musical"},
                  {"5", "a:b", ":"}}));
  // A delimiter cut short by the end of the file is text.
  EXPECT_EQ(parse("1::2:", dat), (Rows{{"1", "2:"}}));
}

TEST(CsvReader, ByteOrderMarkIsSkipped) {
  auto reader = CsvReader::from_string("\xEF\xBB\xBFid,name\n1,x\n", "t.csv");
  EXPECT_EQ(reader.header()[0], "id");
  EXPECT_EQ(reader.header_position(1).column, 4u);  // the BOM is not a column
  EXPECT_EQ(read_all(reader), (Rows{{"1", "x"}}));
}

TEST(CsvReader, FieldPositionsFollowPhysicalLines) {
  auto reader =
      CsvReader::from_string("id,title,genres\n7,\"multi\nline, title\",Drama\n8,x,y\n", "p.csv");
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line(), 2u);
  EXPECT_EQ(record.position(1).line, 2u);
  EXPECT_EQ(record.position(1).column, 3u);
  EXPECT_EQ(record.position(2).line, 3u);
  EXPECT_EQ(record.position(2).column, 14u);
  EXPECT_EQ(record.location(2), "p.csv:3:14");
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line(), 4u);
  EXPECT_EQ(record.offset(), 44u);
}

TEST(CsvReader, QuotingCanBeTurnedOff) {
  CsvOptions options = no_header();
  options.quoting = false;
  EXPECT_EQ(parse("\"a,b\"\n", options), (Rows{{"\"a", "b\""}}));
}

TEST(CsvReader, Latin1FieldsBecomeUtf8) {
  CsvOptions options = no_header();
  options.encoding = TextEncoding::kLatin1;
  options.delimiter = "|";
  EXPECT_EQ(parse("1|Caf\xE9|x\n2|\"\"\"Fr\xE8re\"\"\"|\xFF\n", options),
            (Rows{{"1", "Caf\xC3\xA9", "x"}, {"2", "\"Fr\xC3\xA8re\"", "\xC3\xBF"}}));
}

TEST(CsvReader, AutoEncodingKeepsUtf8AndConvertsLatin1) {
  CsvOptions options = no_header();
  options.encoding = TextEncoding::kAuto;
  auto utf8 = CsvReader::from_string("Caf\xC3\xA9\n", "u.dat", options);
  EXPECT_EQ(utf8.encoding(), TextEncoding::kUtf8);
  EXPECT_EQ(read_all(utf8), (Rows{{"Caf\xC3\xA9"}}));
  auto latin = CsvReader::from_string("Caf\xC3\xA9\nCaf\xE9\n", "l.dat", options);
  EXPECT_EQ(latin.encoding(), TextEncoding::kLatin1);
  EXPECT_EQ(read_all(latin), (Rows{{"Caf\xC3\x83\xC2\xA9"}, {"Caf\xC3\xA9"}}));
}

TEST(CsvReader, RewindStartsAgainAfterTheHeader) {
  auto reader = CsvReader::from_string("a\n1\n2\n", "t.csv");
  EXPECT_EQ(read_all(reader).size(), 2u);
  reader.rewind();
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record[0], "1");
  EXPECT_EQ(record.line(), 2u);
}

TEST(CsvReader, RequireRowsCanBeTurnedOff) {
  CsvOptions options;
  options.require_rows = false;
  auto reader = CsvReader::from_string("a,b\n", "t.csv", options);
  EXPECT_TRUE(read_all(reader).empty());
  EXPECT_EQ(reader.header().size(), 2u);
}

TEST(CsvReader, ReadsAFileFromDisk) {
  testing::TempDir dir;
  std::string big = "userId,movieId,rating,timestamp\n";
  for (int k = 0; k < 50000; ++k) big += std::to_string(k) + ",7,3.5,964982703\n";
  const auto path = dir.write("ratings.csv", big);
  CsvReader reader(path);
  CsvRecord record;
  size_t rows = 0;
  double sum = 0;
  while (reader.next(record)) {
    ++rows;
    sum += record.finite_double_at(2, "rating");
    EXPECT_EQ(record.int64_at(0, "userId"), static_cast<int64_t>(rows - 1));
  }
  EXPECT_EQ(rows, 50000u);
  EXPECT_DOUBLE_EQ(sum, 3.5 * 50000);
  EXPECT_EQ(reader.bytes_read(), big.size());
}

TEST(CsvReader, MissingFileIsNotFound) {
  testing::TempDir dir;
  try {
    CsvReader reader(dir.path() / "nope.csv");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_EQ(std::string(e.what()), "file not found: " + (dir.path() / "nope.csv").string());
  }
}

TEST(CsvReader, RefusesAFifoInsteadOfWaitingOnIt) {
  testing::TempDir dir;
  const auto fifo = dir.path() / "ratings.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  try {
    CsvReader reader(fifo);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(std::string(e.what()), fifo.string() + " is a FIFO, not a regular file");
  }
}

// ----- errors: exact text, with file:line:column -----

TEST(CsvLimits, ARecordLongerThanTheLimitIsAnErrorAtItsStart) {
  CsvOptions small;
  small.max_record_bytes = 1024;
  const std::string ok = "a,b\n1," + std::string(1000, 'x') + "\n";
  EXPECT_EQ(parse(ok, small).size(), 1u);
  EXPECT_EQ(parse_error("a,b\n1,2\n3," + std::string(2000, '7') + "\n", small),
            "t.csv:3:1: the record that starts here is longer than the limit of 1 KiB (a missing "
            "line end or an unclosed quote?)");
  // Quoted, with doubled quotes (which would be copied): refused before the copy.
  EXPECT_EQ(parse_error("a,b\n1,\"" + std::string(3000, '"') + "\"\n", small),
            "t.csv:2:1: the record that starts here is longer than the limit of 1 KiB (a missing "
            "line end or an unclosed quote?)");
  // An unclosed quote that runs to the end of a long file: the limit speaks first.
  EXPECT_EQ(parse_error("a,b\n1,\"" + std::string(5000, 'x'), small),
            "t.csv:2:1: the record that starts here is longer than the limit of 1 KiB (a missing "
            "line end or an unclosed quote?)");
}

TEST(CsvLimits, ALineOfDelimitersStopsAtTheFieldLimit) {
  // 3 MB of commas: without the limit, 3 M fields of bookkeeping (~170 MB).
  const std::string commas(3'000'000, ',');
  EXPECT_EQ(parse_error("1,2\n" + commas + "\n", no_header()),
            "t.csv:2:1: the record that starts here has more than 65536 fields (the limit; is the "
            "delimiter right?)");
  CsvOptions few = no_header();
  few.max_fields = 3;
  EXPECT_EQ(parse("1,2,3\n", few).size(), 1u);
  EXPECT_EQ(parse_error("1,2,3,4\n", few),
            "t.csv:1:1: the record that starts here has more than 3 fields (the limit; is the "
            "delimiter right?)");
}

TEST(CsvLimits, InvalidLimitsAreUsageErrors) {
  CsvOptions bad;
  bad.max_record_bytes = 0;
  try {
    parse("a\n1\n", bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
}

TEST(CsvErrors, UnbalancedQuoteSaysWhereItOpened) {
  EXPECT_EQ(parse_error("id,title\n1,ok\n2,\"Heat (1995),x\n3,y\n"),
            "t.csv:3:3: unbalanced quote: the quoted field that opens here is not closed before "
            "the end of the file (line 5)");
  EXPECT_EQ(parse_error("\"id"),
            "t.csv:1:1: unbalanced quote: the quoted field that opens here is not closed before "
            "the end of the file (line 1)");
}

TEST(CsvErrors, TextAfterClosingQuote) {
  EXPECT_EQ(parse_error("id,title\n1,\"Heat\" (1995),x\n"),
            "t.csv:2:9: text after the closing quote of a quoted field (a quote inside a quoted "
            "field must be doubled)");
  EXPECT_EQ(parse_error("a,b\n\"x\ny\"z,1\n"),
            "t.csv:3:3: text after the closing quote of a quoted field (a quote inside a quoted "
            "field must be doubled)");
}

TEST(CsvErrors, WrongFieldCount) {
  EXPECT_EQ(parse_error("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0\n"),
            "t.csv:3:8: expected 4 fields (from the header), found 3");
  EXPECT_EQ(parse_error("a,b\n1,2\n1,2,3,4\n"),
            "t.csv:3:5: expected 2 fields (from the header), found 4");
  EXPECT_EQ(parse_error("1\t2\t3\n4\t5\n",
                        [] {
                          CsvOptions o = no_header();
                          o.delimiter = "\t";
                          return o;
                        }()),
            "t.csv:2:4: expected 3 fields (from line 1), found 2");
  EXPECT_EQ(parse_error("a\n1\n1,2\n"), "t.csv:3:3: expected 1 field (from the header), found 2");
}

TEST(CsvErrors, InvalidUtf8GivesTheColumnOfTheBadByte) {
  EXPECT_EQ(parse_error("id,title\n1,Caf\xE9\n"),
            "t.csv:2:6: invalid UTF-8 (byte 0xE9); the file must be UTF-8, or be loaded as "
            "Latin-1");
  // After a field spanning lines, the line and column are still exact.
  EXPECT_EQ(parse_error("id,title\n1,\"a\n\xC3\xA9t\xC3\xA9\xC0\x80\"\n"),
            "t.csv:3:6: invalid UTF-8 (byte 0xC0); the file must be UTF-8, or be loaded as "
            "Latin-1");
  // In the header, after a BOM.
  EXPECT_EQ(input_error([] { CsvReader::from_string("\xEF\xBB\xBFi\xFF\n1\n", "t.csv"); }),
            "t.csv:1:2: invalid UTF-8 (byte 0xFF); the file must be UTF-8, or be loaded as "
            "Latin-1");
}

TEST(CsvErrors, EmptyFileAndHeaderOnly) {
  EXPECT_EQ(input_error([] { CsvReader::from_string("", "t.csv"); }),
            "t.csv:1:1: the file is empty (expected a header line)");
  EXPECT_EQ(input_error([] { CsvReader::from_string("\n\r\n", "t.csv"); }),
            "t.csv:3:1: the file is empty (expected a header line)");
  EXPECT_EQ(parse_error("userId,movieId\n"), "t.csv:2:1: no data rows after the header");
  EXPECT_EQ(parse_error("userId,movieId"), "t.csv:1:15: no data rows after the header");
  EXPECT_EQ(parse_error("", no_header()),
            "t.csv:1:1: the file is empty (expected at least one row)");
}

TEST(CsvErrors, ValueConversions) {
  auto reader = CsvReader::from_string("u,r,t\n1x,nan,\n", "v.csv");
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(input_error([&] { record.int64_at(0, "userId"); }),
            "v.csv:2:1: column 'userId': expected an integer, found '1x'");
  EXPECT_EQ(input_error([&] { record.finite_double_at(1, "rating"); }),
            "v.csv:2:4: column 'rating': expected a finite number, found 'nan'");
  EXPECT_EQ(input_error([&] { record.int64_at(2, "timestamp"); }),
            "v.csv:2:8: column 'timestamp': expected an integer, found an empty field");
  EXPECT_EQ(record.optional_int64_at(2, "tmdbId"), std::nullopt);
}

TEST(CsvNumbers, ParseWholeFieldsOnly) {
  EXPECT_EQ(parse_int64("964982703"), 964982703);
  EXPECT_EQ(parse_int64("-12"), -12);
  EXPECT_EQ(parse_int64("0113610"), 113610);
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse_int64(""), std::nullopt);
  EXPECT_EQ(parse_int64(" 1"), std::nullopt);
  EXPECT_EQ(parse_int64("1.0"), std::nullopt);
  EXPECT_EQ(parse_int64("+1"), std::nullopt);
  EXPECT_EQ(parse_finite_double("4.5"), 4.5);
  EXPECT_EQ(parse_finite_double("5"), 5.0);
  EXPECT_EQ(parse_finite_double("-1e3"), -1000.0);
  EXPECT_EQ(parse_finite_double("inf"), std::nullopt);
  EXPECT_EQ(parse_finite_double("1e999"), std::nullopt);
  EXPECT_EQ(parse_finite_double("4.5 "), std::nullopt);
  EXPECT_EQ(parse_finite_double(""), std::nullopt);
}

TEST(CsvDelimiter, ParsesCommandLineSpellings) {
  EXPECT_EQ(parse_delimiter(","), ",");
  EXPECT_EQ(parse_delimiter("\\t"), "\t");
  EXPECT_EQ(parse_delimiter("tab"), "\t");
  EXPECT_EQ(parse_delimiter("::"), "::");
  for (const char* bad : {"", "\"", "a\nb"}) {
    try {
      parse_delimiter(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    }
  }
}

// Property: whatever the fields hold, writing them RFC 4180-style and reading them back gives
// the same fields, for every delimiter and line end.
TEST(CsvRoundTrip, RandomFieldsSurviveQuoting) {
  Rng rng(2024);
  const std::string alphabet[] = {"a", "b",  ",", "\"", "\n", "\r",       "\r\n",
                                  ":", "::", "|", "\t", " ",  "\xC3\xA9", "\xE2\x82\xAC"};
  for (const std::string delimiter : {",", "\t", "|", "::"}) {
    for (const std::string eol : {"\n", "\r\n"}) {
      Rows expected;
      std::string text;
      const size_t fields = 2 + rng.below(4);
      for (int r = 0; r < 200; ++r) {
        std::vector<std::string> row;
        for (size_t f = 0; f < fields; ++f) {
          std::string value;
          const size_t len = rng.below(6);
          for (size_t k = 0; k < len; ++k) value += alphabet[rng.below(std::size(alphabet))];
          const bool quote = value.find_first_of("\"\r\n") != std::string::npos ||
                             value.find(delimiter) != std::string::npos ||
                             (delimiter == "::" && !value.empty() && value.back() == ':') ||
                             rng.below(4) == 0;
          if (f) text += delimiter;
          if (quote) {
            text += '"';
            for (char c : value) text += c == '"' ? std::string("\"\"") : std::string(1, c);
            text += '"';
          } else {
            text += value;
          }
          row.push_back(value);
        }
        text += eol;
        expected.push_back(row);
      }
      CsvOptions options = no_header();
      options.delimiter = delimiter;
      EXPECT_EQ(parse(text, options), expected) << "delimiter '" << delimiter << "'";
    }
  }
}

// Robustness: random bytes made of the characters that matter either parse or fail with
// Error(kInput); never anything else (the ASan build checks memory safety on the same inputs).
TEST(CsvRobustness, RandomInputFailsCleanly) {
  Rng rng(7);
  const char bytes[] = {',', '"', '\n', '\r', 'a', ':', '\xC3', '\xA9', '\xFF', '\t'};
  size_t parsed = 0, failed = 0;
  for (int k = 0; k < 3000; ++k) {
    std::string text;
    const size_t len = rng.below(40);
    for (size_t i = 0; i < len; ++i) text += bytes[rng.below(sizeof bytes)];
    CsvOptions options;
    options.header = rng.below(2) == 0;
    options.delimiter = rng.below(2) ? "," : "::";
    options.quoting = rng.below(4) != 0;
    options.encoding = rng.below(2) ? TextEncoding::kUtf8 : TextEncoding::kAuto;
    try {
      auto reader = CsvReader::from_string(text, "f.csv", options);
      CsvRecord record;
      while (reader.next(record)) {
        for (size_t i = 0; i < record.size(); ++i) ASSERT_TRUE(is_valid_utf8(record[i]));
      }
      ++parsed;
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::kInput) << e.what();
      ASSERT_EQ(std::string(e.what()).rfind("f.csv:", 0), 0u) << e.what();
      ++failed;
    }
  }
  EXPECT_GT(parsed, 100u);
  EXPECT_GT(failed, 100u);
}

}  // namespace
}  // namespace reco::data
