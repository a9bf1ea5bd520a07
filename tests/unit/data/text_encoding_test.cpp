#include "data/text_encoding.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace reco::data {
namespace {

constexpr size_t npos = std::string_view::npos;

TEST(ValidateUtf8, AcceptsWellFormedText) {
  EXPECT_EQ(validate_utf8(""), npos);
  EXPECT_EQ(validate_utf8("plain ASCII, long enough to use the 8-byte fast path"), npos);
  EXPECT_EQ(validate_utf8("Caf\xC3\xA9"), npos);            // U+00E9, 2 bytes
  EXPECT_EQ(validate_utf8("\xE2\x82\xAC 5"), npos);         // U+20AC, 3 bytes
  EXPECT_EQ(validate_utf8("\xF0\x9F\x8E\xAC film"), npos);  // U+1F3AC, 4 bytes
  EXPECT_EQ(validate_utf8("\xF4\x8F\xBF\xBF"), npos);       // U+10FFFF, the last code point
  EXPECT_EQ(validate_utf8("\xED\x9F\xBF"), npos);           // U+D7FF, just below surrogates
  EXPECT_EQ(validate_utf8("\xEE\x80\x80"), npos);           // U+E000, just above them
  EXPECT_EQ(validate_utf8(std::string("a\0b", 3)), npos);   // NUL is a valid code point
}

TEST(ValidateUtf8, ReportsTheOffsetOfTheFirstBadSequence) {
  EXPECT_EQ(validate_utf8("Caf\xE9"), 3u);                 // Latin-1 e-acute, truncated lead
  EXPECT_EQ(validate_utf8("Caf\xE9 au lait"), 3u);         // lead byte followed by ASCII
  EXPECT_EQ(validate_utf8("abcdefghij\x80"), 10u);         // stray continuation byte
  EXPECT_EQ(validate_utf8("ok \xC3\xA9 then \xFF"), 11u);  // first valid, then 0xFF
}

TEST(ValidateUtf8, RejectsOverlongsSurrogatesAndOutOfRange) {
  EXPECT_EQ(validate_utf8("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(validate_utf8("\xC1\xBF"), 0u);          // overlong U+007F
  EXPECT_EQ(validate_utf8("\xE0\x80\x80"), 0u);      // overlong 3-byte
  EXPECT_EQ(validate_utf8("\xE0\x9F\xBF"), 0u);      // overlong U+07FF
  EXPECT_EQ(validate_utf8("\xF0\x80\x80\x80"), 0u);  // overlong 4-byte
  EXPECT_EQ(validate_utf8("\xF0\x8F\xBF\xBF"), 0u);  // overlong U+FFFF
  EXPECT_EQ(validate_utf8("x\xED\xA0\x80"), 1u);     // U+D800, a surrogate
  EXPECT_EQ(validate_utf8("x\xED\xBF\xBF"), 1u);     // U+DFFF
  EXPECT_EQ(validate_utf8("\xF4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(validate_utf8("\xF5\x80\x80\x80"), 0u);  // lead byte beyond F4
  EXPECT_EQ(validate_utf8("\xE2\x82"), 0u);          // truncated at the end
  EXPECT_EQ(validate_utf8("\xE2\x82\xC3\xA9"), 0u);  // continuation replaced by a lead
  EXPECT_EQ(validate_utf8("\xF0\x9F\x8E"), 0u);      // truncated 4-byte
}

TEST(Latin1, ConvertsEveryByteToItsCodePoint) {
  EXPECT_EQ(latin1_to_utf8("Caf\xE9"), "Caf\xC3\xA9");
  EXPECT_EQ(latin1_to_utf8("\xA0\xFF"), "\xC2\xA0\xC3\xBF");
  EXPECT_EQ(latin1_to_utf8("ASCII stays"), "ASCII stays");
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string utf8 = latin1_to_utf8(all);
  EXPECT_EQ(utf8.size(), 128u + 2u * 128u);
  EXPECT_TRUE(is_valid_utf8(utf8));
  // Decode back: each two-byte sequence must give the original byte.
  size_t k = 128;
  for (int c = 128; c < 256; ++c, k += 2) {
    const int decoded = ((static_cast<unsigned char>(utf8[k]) & 0x1F) << 6) |
                        (static_cast<unsigned char>(utf8[k + 1]) & 0x3F);
    EXPECT_EQ(decoded, c);
  }
}

TEST(TextEncodingNames, ParseAndPrint) {
  EXPECT_EQ(parse_text_encoding("UTF-8"), TextEncoding::kUtf8);
  EXPECT_EQ(parse_text_encoding("utf8"), TextEncoding::kUtf8);
  EXPECT_EQ(parse_text_encoding("latin-1"), TextEncoding::kLatin1);
  EXPECT_EQ(parse_text_encoding("ISO-8859-1"), TextEncoding::kLatin1);
  EXPECT_EQ(parse_text_encoding("auto"), TextEncoding::kAuto);
  EXPECT_STREQ(text_encoding_name(TextEncoding::kLatin1), "latin-1");
  try {
    parse_text_encoding("cp1252");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_STREQ(e.what(), "unknown encoding 'cp1252' (expected utf-8, latin-1 or auto)");
  }
}

TEST(Bom, IsRecognised) {
  EXPECT_TRUE(starts_with_utf8_bom("\xEF\xBB\xBFid"));
  EXPECT_FALSE(starts_with_utf8_bom("\xEF\xBB"));
  EXPECT_FALSE(starts_with_utf8_bom("id"));
}

}  // namespace
}  // namespace reco::data
