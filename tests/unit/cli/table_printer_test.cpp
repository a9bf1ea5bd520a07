#include "cli/table_printer.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace reco::cli {
namespace {

using Rows = std::vector<std::vector<Cell>>;

TEST(JsonCells, ObjectsAndArraysAreJsonOtherTextIsNot) {
  EXPECT_EQ(Cell::json_or_text("[1, 2]").kind, CellKind::kJson);
  EXPECT_EQ(Cell::json_or_text(" {\"a\": {}}").kind, CellKind::kJson);
  for (const char* text : {"5", "\"s\"", "true", "plain", "[1, 2", "{\"a\": }", "", "[]x"}) {
    const Cell cell = Cell::json_or_text(text);
    EXPECT_EQ(cell.kind, CellKind::kText) << text;
    EXPECT_EQ(cell.text, text);
  }
  // Nested deeper than the JSON parser allows: text, not a crash.
  EXPECT_EQ(Cell::json_or_text(std::string(100000, '[')).kind, CellKind::kText);
}

TEST(JsonCells, WrittenAsJsonOnOneLine) {
  EXPECT_EQ(json_value(Cell::json_or_text("[3,1, 2]")), "[3,1, 2]");  // kept as written
  EXPECT_EQ(json_value(Cell::json_or_text("{\"a\":\n [1,\r\n2]}")), "{\"a\":[1,2]}");
  EXPECT_EQ(json_value(Cell::of_text("[1]")), "\"[1]\"");
  EXPECT_EQ(Cell::json_or_text("[1]").display(), "[1]");
  EXPECT_EQ(csv_field(Cell::json_or_text("[1,2]")), "\"[1,2]\"");
}

TEST(DisplayWidth, CountsCodePointsNotBytes) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("Amélie"), 6u);  // é is two bytes
  EXPECT_EQ(display_width("Ça va"), 5u);
  EXPECT_EQ(display_width("Привет"), 6u);            // Cyrillic: 12 bytes
  EXPECT_EQ(display_width("\xE2\x82\xAC"), 1u);      // € (3 bytes)
  EXPECT_EQ(display_width("\xF0\x9D\x84\x9E"), 1u);  // 𝄞 (4 bytes, narrow)
}

TEST(DisplayWidth, WideAndZeroWidthCharacters) {
  EXPECT_EQ(display_width("千と千尋の神隠し"), 16u);  // CJK: two columns each
  EXPECT_EQ(display_width("한국어"), 6u);             // Hangul syllables
  EXPECT_EQ(display_width("ＡＢ"), 4u);               // fullwidth Latin
  EXPECT_EQ(display_width("\xF0\x9F\x8E\xAC"), 2u);   // 🎬 emoji
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);          // e + combining acute accent
  EXPECT_EQ(display_width("a\xE2\x80\x8B"
                          "b"),
            2u);  // zero width space
}

TEST(DisplayWidth, InvalidBytesCountOneEach) {
  EXPECT_EQ(display_width("\xFF\xFE"), 2u);
  EXPECT_EQ(display_width("a\xC3"), 2u);         // truncated sequence
  EXPECT_EQ(display_width("\xC0\xAF"), 2u);      // overlong '/'
  EXPECT_EQ(display_width("\xED\xA0\x80"), 3u);  // UTF-16 surrogate
  EXPECT_EQ(display_width("\xE2\x82"
                          "x"),
            3u);  // bad continuation
}

TEST(FormatReal, ShortestRoundTrip) {
  EXPECT_EQ(format_real(0.1), "0.1");
  EXPECT_EQ(format_real(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_real(3.5), "3.5");
  EXPECT_EQ(format_real(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(format_real(123456.789), "123456.789");
  for (double v : {0.1, 1.0 / 3.0, 2.0 / 7.0, 1e-300, 6.02214076e23, -4.25}) {
    EXPECT_EQ(std::stod(format_real(v)), v) << format_real(v);
  }
}

TEST(FormatReal, IntegralValuesKeepADecimalPoint) {
  EXPECT_EQ(format_real(4.0), "4.0");
  EXPECT_EQ(format_real(0.0), "0.0");
  EXPECT_EQ(format_real(-0.0), "-0.0");
  EXPECT_EQ(format_real(-12.0), "-12.0");
  EXPECT_EQ(format_real(1e21), "1e+21");  // exponent form is unambiguous already
}

TEST(FormatReal, NonFinite) {
  EXPECT_EQ(format_real(std::numeric_limits<double>::infinity()), "Inf");
  EXPECT_EQ(format_real(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_real(std::nan("")), "NaN");
}

TEST(EscapeControlChars, MakesTextOneLine) {
  EXPECT_EQ(escape_control_chars("a\nb"), "a\\nb");
  EXPECT_EQ(escape_control_chars("tab\there\r\n"), "tab\\there\\r\\n");
  EXPECT_EQ(escape_control_chars(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(escape_control_chars("bell\a del\x7F"), "bell\\x07 del\\x7f");
  EXPECT_EQ(escape_control_chars("Amélie"), "Amélie");
}

TEST(CellDisplay, Kinds) {
  EXPECT_EQ(Cell::null().display(), "");
  EXPECT_EQ(Cell::integer(-42).display(), "-42");
  EXPECT_EQ(Cell::integer(INT64_MIN).display(), "-9223372036854775808");
  EXPECT_EQ(Cell::real(2.5).display(), "2.5");
  EXPECT_EQ(Cell::of_text("x").display(), "x");
  EXPECT_EQ(Cell::blob(16).display(), "<blob 16 bytes>");
  EXPECT_TRUE(Cell::integer(1).is_number());
  EXPECT_TRUE(Cell::real(1).is_number());
  EXPECT_FALSE(Cell::of_text("1").is_number());
  EXPECT_FALSE(Cell::null().is_number());
}

TEST(CsvField, Rfc4180Quoting) {
  EXPECT_EQ(csv_field(Cell::of_text("plain")), "plain");
  EXPECT_EQ(csv_field(Cell::of_text("a,b")), "\"a,b\"");
  EXPECT_EQ(csv_field(Cell::of_text("say \"hi\"")), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field(Cell::of_text("two\nlines")), "\"two\nlines\"");
  EXPECT_EQ(csv_field(Cell::of_text("cr\r")), "\"cr\r\"");
  EXPECT_EQ(csv_field(Cell::of_text("")), "\"\"");  // empty string is not NULL
  EXPECT_EQ(csv_field(Cell::null()), "");
  EXPECT_EQ(csv_field(Cell::real(0.5)), "0.5");
  EXPECT_EQ(csv_field(Cell::blob(3)), "<blob 3 bytes>");
}

TEST(JsonValue, NumbersStayNumbers) {
  EXPECT_EQ(json_value(Cell::integer(7)), "7");
  EXPECT_EQ(json_value(Cell::real(4.0)), "4.0");
  EXPECT_EQ(json_value(Cell::real(std::numeric_limits<double>::infinity())), "1e999");
  EXPECT_EQ(json_value(Cell::real(-std::numeric_limits<double>::infinity())), "-1e999");
  EXPECT_EQ(json_value(Cell::null()), "null");
  EXPECT_EQ(json_value(Cell::of_text("7")), "\"7\"");
  EXPECT_EQ(json_value(Cell::of_text("q\"\\\n\t")), "\"q\\\"\\\\\\n\\t\"");
  EXPECT_EQ(json_value(Cell::of_text("Amélie")), "\"Amélie\"");
  EXPECT_EQ(json_value(Cell::of_text("bad\xFF")), "\"bad\xEF\xBF\xBD\"");  // U+FFFD
  EXPECT_EQ(json_value(Cell::blob(2)), "\"<blob 2 bytes>\"");
}

TEST(OutputMode, ParseAndName) {
  for (OutputMode m :
       {OutputMode::kTable, OutputMode::kCsv, OutputMode::kJson, OutputMode::kLine}) {
    EXPECT_EQ(parse_output_mode(output_mode_name(m)), m);
  }
  EXPECT_FALSE(parse_output_mode("box").has_value());
  EXPECT_FALSE(parse_output_mode("").has_value());
  EXPECT_FALSE(parse_output_mode("TABLE").has_value());
}

TEST(TableMode, AlignsLikePsql) {
  const Rows rows = {
      {Cell::integer(1), Cell::of_text("Toy Story (1995)"), Cell::real(3.5)},
      {Cell::integer(1234), Cell::null(), Cell::real(4.0)},
      {Cell::integer(-7), Cell::of_text("x"), Cell::null()},
  };
  EXPECT_EQ(format_result(OutputMode::kTable, true, {"movieid", "title", "rating"}, rows),
            " movieid |      title       | rating\n"
            "---------+------------------+--------\n"
            "       1 | Toy Story (1995) |    3.5\n"
            "    1234 |                  |    4.0\n"
            "      -7 | x                |\n"
            "(3 rows)\n"
            "\n");
}

TEST(TableMode, OneRowAndNoRows) {
  EXPECT_EQ(format_result(OutputMode::kTable, true, {"n"}, {{Cell::integer(5)}}),
            " n\n---\n 5\n(1 row)\n\n");
  EXPECT_EQ(format_result(OutputMode::kTable, true, {"a", "b"}, {}),
            " a | b\n---+---\n(0 rows)\n\n");
}

TEST(TableMode, UnicodeWidthsAlign) {
  const Rows rows = {
      {Cell::of_text("Amélie (2001)"), Cell::integer(1)},
      {Cell::of_text("千と千尋の神隠し"), Cell::integer(2)},
      {Cell::of_text("Up"), Cell::integer(3)},
  };
  EXPECT_EQ(format_result(OutputMode::kTable, true, {"title", "id"}, rows),
            "      title       | id\n"
            "------------------+----\n"
            " Amélie (2001)    |  1\n"
            " 千と千尋の神隠し |  2\n"
            " Up               |  3\n"
            "(3 rows)\n\n");
}

TEST(TableMode, NewlinesAreEscapedAndHeadersCentered) {
  const Rows rows = {{Cell::of_text("line1\nline2"), Cell::blob(4)}};
  EXPECT_EQ(format_result(OutputMode::kTable, true, {"t", "payload"}, rows),
            "      t       |    payload\n"
            "--------------+----------------\n"
            " line1\\nline2 | <blob 4 bytes>\n"
            "(1 row)\n\n");
}

TEST(TableMode, HeadersOffPrintsOnlyRows) {
  const Rows rows = {{Cell::of_text("a"), Cell::integer(10)},
                     {Cell::of_text("bbb"), Cell::integer(2)}};
  EXPECT_EQ(format_result(OutputMode::kTable, false, {"name", "n"}, rows),
            " a   | 10\n"
            " bbb |  2\n");
}

TEST(TableMode, NoColumnsPrintsNothing) {
  EXPECT_EQ(format_result(OutputMode::kTable, true, {}, {}), "");
}

TEST(CsvMode, HeaderAndQuoting) {
  const Rows rows = {
      {Cell::integer(1), Cell::of_text("Heat, the movie"), Cell::real(4.5)},
      {Cell::integer(2), Cell::null(), Cell::of_text("")},
  };
  EXPECT_EQ(format_result(OutputMode::kCsv, true, {"id", "title", "r"}, rows),
            "id,title,r\n"
            "1,\"Heat, the movie\",4.5\n"
            "2,,\"\"\n");
  EXPECT_EQ(format_result(OutputMode::kCsv, false, {"id", "title", "r"}, rows),
            "1,\"Heat, the movie\",4.5\n"
            "2,,\"\"\n");
  EXPECT_EQ(format_result(OutputMode::kCsv, true, {"a,b"}, {}), "\"a,b\"\n");
}

TEST(JsonMode, ArrayOfObjects) {
  const Rows rows = {
      {Cell::integer(1), Cell::of_text("a \"quoted\" title"), Cell::real(3.0)},
      {Cell::integer(2), Cell::null(), Cell::real(0.25)},
  };
  EXPECT_EQ(format_result(OutputMode::kJson, true, {"id", "title", "score"}, rows),
            "[\n"
            "  {\"id\": 1, \"title\": \"a \\\"quoted\\\" title\", \"score\": 3.0},\n"
            "  {\"id\": 2, \"title\": null, \"score\": 0.25}\n"
            "]\n");
  EXPECT_EQ(format_result(OutputMode::kJson, true, {"id"}, {}), "[]\n");
}

TEST(LineMode, NamesRightAligned) {
  const Rows rows = {
      {Cell::integer(1), Cell::of_text("Toy Story")},
      {Cell::integer(2), Cell::null()},
  };
  EXPECT_EQ(format_result(OutputMode::kLine, true, {"id", "title"}, rows),
            "   id = 1\n"
            "title = Toy Story\n"
            "\n"
            "   id = 2\n"
            "title = \n");
}

TEST(Printer, ReusableForSeveralResultSets) {
  std::string out;
  auto printer = make_printer(OutputMode::kTable, true, [&](std::string_view s) { out += s; });
  printer->begin({"a"});
  printer->row({Cell::integer(100)});
  printer->end();
  printer->begin({"bb"});
  printer->row({Cell::integer(1)});
  printer->end();
  EXPECT_EQ(out, "  a\n-----\n 100\n(1 row)\n\n bb\n----\n  1\n(1 row)\n\n");
}

}  // namespace
}  // namespace reco::cli
