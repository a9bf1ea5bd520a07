#pragma once
// A streaming RFC 4180 reader for the files reco loads (MovieLens ratings are up to 25M rows, so
// nothing is materialised): the file is memory-mapped and each call to next() fills a reusable
// record with string_views into the mapping (or into the record's own buffer when a field had to
// be unescaped or re-encoded).
//
// Accepted: a configurable delimiter of one or more bytes ("," "\t" "|" and the "::" of
// ml-1m/ml-10m), fields optionally enclosed in double quotes that may contain delimiters,
// newlines and doubled quotes, LF or CRLF line ends (the last line may lack one), an optional
// header line, a UTF-8 byte order mark. A quote inside an unquoted field is kept as text.
//
// Every error is Error(kInput) with a "file:line:column: message" prefix; lines and columns are
// 1-based and columns count bytes from the start of the physical line.
//
// Only regular files are read (core/fs.h InputFile: a FIFO or device is refused, never waited
// on). A record longer than CsvOptions::max_record_bytes or with more than max_fields fields is
// an error before it is held in memory, so the reader's memory is bounded by those limits
// whatever the file holds (the file itself is mapped, not copied).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "data/text_encoding.h"

namespace reco::data {

struct CsvOptions {
  std::string delimiter = ",";  // one or more bytes; must not contain '"', CR or LF
  bool quoting = true;          // false: '"' is ordinary text (MovieLens .dat and u.* files)
  bool header = true;           // the first record names the columns
  TextEncoding encoding = TextEncoding::kUtf8;
  bool skip_blank_lines = true;  // empty lines are not records
  bool require_rows = true;      // no data record is an error
  // Bounds on one record, so memory stays bounded on any input: a longer record (its bytes,
  // line ends and quotes included) or one with more fields is an error at its position.
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  size_t max_fields = kDefaultMaxFields;

  static constexpr size_t kDefaultMaxRecordBytes = size_t{64} << 20;  // 64 MiB
  static constexpr size_t kMaxRecordBytesLimit = size_t{512} << 20;   // below SQLite's 1e9
  static constexpr size_t kDefaultMaxFields = 65536;
};

// Parses a delimiter given on the command line: any literal string, plus the spellings "\t" and
// "tab" for a tab. Throws Error(kUsage) for an empty delimiter or one containing '"', CR or LF.
std::string parse_delimiter(std::string_view text);

// Whole-field number parsing (std::from_chars: no spaces, no leading '+').
std::optional<int64_t> parse_int64(std::string_view text);
std::optional<double> parse_finite_double(std::string_view text);  // rejects inf and nan

struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

class CsvRecord {
 public:
  size_t size() const { return fields_.size(); }
  std::string_view operator[](size_t i) const { return fields_[i]; }
  const std::vector<std::string_view>& fields() const { return fields_; }

  size_t line() const { return positions_.empty() ? 1 : positions_.front().line; }
  size_t offset() const { return offset_; }  // byte offset of the record in the file
  // Where field i starts (its opening quote when quoted).
  const TextPosition& position(size_t i) const { return positions_[i]; }
  std::string location(size_t i) const;  // "file:line:column"
  Error error(size_t i, std::string_view message) const;

  // Field i as a value, or Error(kInput) "file:line:column: column 'NAME': expected ..., found
  // '...'". The optional form maps an empty field to nullopt.
  int64_t int64_at(size_t i, std::string_view column) const;
  std::optional<int64_t> optional_int64_at(size_t i, std::string_view column) const;
  double finite_double_at(size_t i, std::string_view column) const;

 private:
  friend class CsvReader;
  struct Span {
    size_t begin;
    size_t size;
    bool in_scratch;
  };
  std::vector<std::string_view> fields_;
  std::vector<TextPosition> positions_;
  std::vector<Span> spans_;
  std::string scratch_;  // unescaped or re-encoded field bytes
  std::string_view source_;
  size_t offset_ = 0;
};

class CsvReader {
 public:
  // Memory-maps a regular file. Throws Error(kNotFound) when the file is absent, Error(kUsage)
  // when it is not a regular file, Error(kIo) when it cannot be read, Error(kInput) for an empty
  // file when a header is expected or a malformed header line.
  explicit CsvReader(const std::filesystem::path& path, CsvOptions options = {});
  // Parses bytes held in memory; `name` stands for the file name in messages.
  static CsvReader from_string(std::string data, std::string name, CsvOptions options = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  const std::string& name() const { return name_; }
  const CsvOptions& options() const { return options_; }
  TextEncoding encoding() const { return encoding_; }  // resolved: never kAuto
  const std::vector<std::string>& header() const { return header_; }
  const TextPosition& header_position(size_t i) const { return header_positions_[i]; }
  // 0 until the first record without a header fixes it.
  size_t expected_fields() const { return expected_fields_; }

  // Fills `record` with the next data record; false at the end of the file. Throws
  // Error(kInput) for a malformed record, or for a file without data records when
  // options.require_rows is set.
  bool next(CsvRecord& record);
  // Back to the first data record (for a second pass over the same file).
  void rewind();

  size_t bytes_total() const { return size_; }
  size_t bytes_read() const { return pos_; }
  size_t rows_read() const { return rows_; }
  Error error_at(const TextPosition& where, std::string_view message) const;

 private:
  struct FromMemory {};
  CsvReader(std::string data, std::string name, CsvOptions options, FromMemory);
  void init();
  bool parse_record(CsvRecord& record);
  void check_field_count(const CsvRecord& record) const;
  void decode(CsvRecord& record);
  [[noreturn]] void fail(size_t line, size_t column, std::string_view message) const;
  // `end`: how far the record reaches so far; `adding_field`: a field is about to be added.
  void check_record_limits(const CsvRecord& record, size_t end, bool adding_field) const;

  std::string name_;
  CsvOptions options_;
  TextEncoding encoding_ = TextEncoding::kUtf8;
  std::string owned_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const char* data_ = nullptr;
  size_t size_ = 0;

  // Cursor: byte offset, its physical line, and the offset where that line starts.
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t line_start_ = 0;
  size_t rows_ = 0;
  // Offset of the first LF at or after pos_ once known (kUnknown before), or size_ if none.
  static constexpr size_t kUnknown = static_cast<size_t>(-1);
  size_t newline_ = kUnknown;
  // Where the data records start (after the BOM and header), for rewind().
  size_t body_pos_ = 0, body_line_ = 1, body_line_start_ = 0;

  std::vector<std::string> header_;
  std::vector<TextPosition> header_positions_;
  size_t expected_fields_ = 0;
  size_t expected_fields_line_ = 0;  // the line that fixed expected_fields_ (0: the header)
  TextPosition record_end_;          // where the last parsed record's line terminator is
};

}  // namespace reco::data
