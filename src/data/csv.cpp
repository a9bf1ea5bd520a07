#include "data/csv.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/fs.h"

namespace reco::data {
namespace {

// A value quoted for an error message: long values are cut, control bytes escaped, so one bad
// field cannot flood the terminal.
std::string quoted_value(std::string_view value) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  const size_t n = std::min(value.size(), kMax);
  for (size_t k = 0; k < n; ++k) {
    const auto c = static_cast<unsigned char>(value[k]);
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMax) out += "...";
  out += "'";
  return out;
}

std::string found(std::string_view value) {
  return value.empty() ? std::string("an empty field") : quoted_value(value);
}

bool all_ascii(const char* p, size_t n) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t word;
    std::memcpy(&word, p + k, 8);
    if (word & 0x8080808080808080ULL) return false;
  }
  for (; k < n; ++k) {
    if (static_cast<unsigned char>(p[k]) >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string parse_delimiter(std::string_view text) {
  const bool tab = text == "\\t" || text == "tab" || text == "TAB";
  std::string delimiter = tab ? std::string(1, '\t') : std::string(text);
  if (delimiter.empty()) throw Error(ErrorKind::kUsage, "the delimiter must not be empty");
  if (delimiter.find_first_of("\"\r\n") != std::string::npos) {
    throw Error(ErrorKind::kUsage,
                fmt::format("invalid delimiter {}: it must not contain a double quote, CR or LF",
                            quoted_value(delimiter)));
  }
  return delimiter;
}

std::optional<int64_t> parse_int64(std::string_view text) {
  // Ids and timestamps are short: up to 18 digits cannot overflow, so skip from_chars' checks.
  const char* p = text.data();
  const char* const e = p + text.size();
  const bool negative = p < e && *p == '-';
  if (negative) ++p;
  if (p < e && e - p <= 18) {
    uint64_t v = 0;
    for (; p < e; ++p) {
      const unsigned digit = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
      if (digit > 9) return std::nullopt;
      v = v * 10 + digit;
    }
    return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_finite_double(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// CsvRecord

std::string CsvRecord::location(size_t i) const {
  const TextPosition& p = positions_[i];
  return fmt::format("{}:{}:{}", source_, p.line, p.column);
}

Error CsvRecord::error(size_t i, std::string_view message) const {
  return Error(ErrorKind::kInput, fmt::format("{}: {}", location(i), message));
}

int64_t CsvRecord::int64_at(size_t i, std::string_view column) const {
  if (auto v = parse_int64(fields_[i])) return *v;
  throw error(i,
              fmt::format("column '{}': expected an integer, found {}", column, found(fields_[i])));
}

std::optional<int64_t> CsvRecord::optional_int64_at(size_t i, std::string_view column) const {
  if (fields_[i].empty()) return std::nullopt;
  if (auto v = parse_int64(fields_[i])) return *v;
  throw error(i, fmt::format("column '{}': expected an integer or an empty field, found {}", column,
                             found(fields_[i])));
}

double CsvRecord::finite_double_at(size_t i, std::string_view column) const {
  if (auto v = parse_finite_double(fields_[i])) return *v;
  throw error(
      i, fmt::format("column '{}': expected a finite number, found {}", column, found(fields_[i])));
}

// ---------------------------------------------------------------------------------------------
// CsvReader

CsvReader::CsvReader(const std::filesystem::path& path, CsvOptions options)
    : name_(path.string()), options_(std::move(options)) {
  const InputFile file(path);
  if (file.size() > 0) {
    void* p =
        ::mmap(nullptr, static_cast<size_t>(file.size()), PROT_READ, MAP_PRIVATE, file.fd(), 0);
    if (p != MAP_FAILED) {
      map_ = p;
      map_size_ = static_cast<size_t>(file.size());
      ::madvise(map_, map_size_, MADV_SEQUENTIAL);
      data_ = static_cast<const char*>(map_);
      size_ = map_size_;
    } else {
      owned_ = file.read_at(0, file.size());  // a file system without mmap
      data_ = owned_.data();
      size_ = owned_.size();
    }
  }
  try {
    init();
  } catch (...) {
    if (map_) ::munmap(map_, map_size_);
    throw;
  }
}

CsvReader::CsvReader(std::string data, std::string name, CsvOptions options, FromMemory)
    : name_(std::move(name)), options_(std::move(options)), owned_(std::move(data)) {
  data_ = owned_.data();
  size_ = owned_.size();
  init();
}

CsvReader CsvReader::from_string(std::string data, std::string name, CsvOptions options) {
  return CsvReader(std::move(data), std::move(name), std::move(options), FromMemory{});
}

CsvReader::~CsvReader() {
  if (map_) ::munmap(map_, map_size_);
}

void CsvReader::init() {
  if (options_.max_record_bytes == 0 ||
      options_.max_record_bytes > CsvOptions::kMaxRecordBytesLimit || options_.max_fields == 0) {
    throw Error(ErrorKind::kUsage,
                fmt::format("invalid record limits for {}: at most {} bytes (1..{}) and {} fields",
                            name_, options_.max_record_bytes, CsvOptions::kMaxRecordBytesLimit,
                            options_.max_fields));
  }
  if (options_.delimiter.empty() ||
      options_.delimiter.find_first_of("\"\r\n") != std::string::npos) {
    throw Error(ErrorKind::kUsage, fmt::format("invalid delimiter {} for {}",
                                               quoted_value(options_.delimiter), name_));
  }
  encoding_ = options_.encoding;
  const std::string_view all(data_, size_);
  if (encoding_ == TextEncoding::kAuto) {
    encoding_ = is_valid_utf8(all) ? TextEncoding::kUtf8 : TextEncoding::kLatin1;
  }
  if (encoding_ == TextEncoding::kUtf8 && starts_with_utf8_bom(all)) {
    // The BOM is not part of line 1's columns: editors do not show it.
    pos_ = line_start_ = 3;
  }
  if (options_.header) {
    CsvRecord header;
    if (!parse_record(header)) {
      fail(line_, pos_ - line_start_ + 1, "the file is empty (expected a header line)");
    }
    decode(header);
    header_.assign(header.fields().begin(), header.fields().end());
    header_positions_ = header.positions_;
    expected_fields_ = header_.size();
  }
  body_pos_ = pos_;
  body_line_ = line_;
  body_line_start_ = line_start_;
}

void CsvReader::rewind() {
  pos_ = body_pos_;
  line_ = body_line_;
  line_start_ = body_line_start_;
  rows_ = 0;
  newline_ = kUnknown;
  if (!options_.header) expected_fields_ = 0;
}

Error CsvReader::error_at(const TextPosition& where, std::string_view message) const {
  return Error(ErrorKind::kInput,
               fmt::format("{}:{}:{}: {}", name_, where.line, where.column, message));
}

void CsvReader::fail(size_t line, size_t column, std::string_view message) const {
  throw error_at(TextPosition{line, column}, message);
}

bool CsvReader::next(CsvRecord& record) {
  if (!parse_record(record)) {
    if (rows_ == 0 && options_.require_rows) {
      if (options_.header) {
        fail(line_, pos_ - line_start_ + 1, "no data rows after the header");
      }
      fail(line_, pos_ - line_start_ + 1, "the file is empty (expected at least one row)");
    }
    return false;
  }
  if (expected_fields_ == 0) {
    expected_fields_ = record.size();
    expected_fields_line_ = record.line();
  }
  check_field_count(record);
  decode(record);
  ++rows_;
  return true;
}

void CsvReader::check_field_count(const CsvRecord& record) const {
  if (record.size() == expected_fields_) return;
  const std::string origin = expected_fields_line_ == 0
                                 ? std::string("from the header")
                                 : fmt::format("from line {}", expected_fields_line_);
  const std::string message = fmt::format("expected {} field{} ({}), found {}", expected_fields_,
                                          expected_fields_ == 1 ? "" : "s", origin, record.size());
  // Point at the first extra field, or at the end of a short record.
  if (record.size() > expected_fields_) {
    const TextPosition& p = record.position(expected_fields_);
    fail(p.line, p.column, message);
  }
  fail(record_end_.line, record_end_.column, message);
}

namespace {

std::string byte_count(size_t n) {
  if (n % (size_t{1} << 20) == 0) return fmt::format("{} MiB", n >> 20);
  if (n % (size_t{1} << 10) == 0) return fmt::format("{} KiB", n >> 10);
  return fmt::format("{} bytes", n);
}

}  // namespace

// Called before each field is added and once the record's extent is known: `end` is how far the
// record reaches so far. Reports at the start of the record.
void CsvReader::check_record_limits(const CsvRecord& record, size_t end, bool adding_field) const {
  const TextPosition& start = record.positions_.empty()
                                  ? TextPosition{line_, pos_ - line_start_ + 1}
                                  : record.positions_[0];
  if (end - record.offset_ > options_.max_record_bytes) {
    fail(start.line, start.column,
         fmt::format("the record that starts here is longer than the limit of {} (a missing "
                     "line end or an unclosed quote?)",
                     byte_count(options_.max_record_bytes)));
  }
  if (adding_field && record.positions_.size() >= options_.max_fields) {
    fail(start.line, start.column,
         fmt::format("the record that starts here has more than {} fields (the limit; is the "
                     "delimiter right?)",
                     options_.max_fields));
  }
}

bool CsvReader::parse_record(CsvRecord& record) {
  const char* const data = data_;
  const char* const end = data_ + size_;
  if (options_.skip_blank_lines) {
    while (pos_ < size_) {
      if (data[pos_] == '\n') {
        ++pos_;
      } else if (data[pos_] == '\r' && pos_ + 1 < size_ && data[pos_ + 1] == '\n') {
        pos_ += 2;
      } else {
        break;
      }
      ++line_;
      line_start_ = pos_;
    }
  }
  if (pos_ >= size_) return false;

  record.spans_.clear();
  record.positions_.clear();
  record.scratch_.clear();
  record.source_ = name_;
  record.offset_ = pos_;

  const std::string_view delim = options_.delimiter;
  const char d0 = delim[0];
  const size_t dlen = delim.size();
  auto at_delimiter = [&](const char* p) {
    return *p == d0 && (dlen == 1 || (static_cast<size_t>(end - p) >= dlen &&
                                      std::memcmp(p, delim.data(), dlen) == 0));
  };

  while (true) {
    check_record_limits(record, pos_, true);
    record.positions_.push_back(TextPosition{line_, pos_ - line_start_ + 1});
    if (options_.quoting && pos_ < size_ && data[pos_] == '"') {
      const TextPosition open = record.positions_.back();
      const char* content = data + pos_ + 1;
      const char* p = content;
      const char* close = nullptr;
      bool escaped = false;
      while (true) {
        const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
        if (!q) break;
        if (q + 1 < end && q[1] == '"') {
          escaped = true;
          p = q + 2;
          continue;
        }
        close = q;
        break;
      }
      // Quoted fields may span lines: keep the line count right for later messages.
      const char* scan_end = close ? close : end;
      for (const char* n = content; n < scan_end;) {
        const auto* nl =
            static_cast<const char*>(std::memchr(n, '\n', static_cast<size_t>(scan_end - n)));
        if (!nl) break;
        ++line_;
        line_start_ = static_cast<size_t>(nl + 1 - data);
        n = nl + 1;
      }
      if (!close) {
        check_record_limits(record, size_, false);
        fail(open.line, open.column,
             fmt::format("unbalanced quote: the quoted field that opens here is not closed before "
                         "the end of the file (line {})",
                         line_));
      }
      check_record_limits(record, static_cast<size_t>(close - data), false);
      if (!escaped) {
        record.spans_.push_back(
            {static_cast<size_t>(content - data), static_cast<size_t>(close - content), false});
      } else {
        const size_t begin = record.scratch_.size();
        for (const char* c = content; c < close; ++c) {
          record.scratch_ += *c;
          if (*c == '"') ++c;  // the second quote of a doubled pair
        }
        record.spans_.push_back({begin, record.scratch_.size() - begin, true});
      }
      pos_ = static_cast<size_t>(close + 1 - data);
      if (pos_ >= size_) {
        record_end_ = {line_, pos_ - line_start_ + 1};
        break;
      }
      const char* after = data + pos_;
      if (at_delimiter(after)) {
        pos_ += dlen;
        continue;
      }
      if (*after == '\n' || (*after == '\r' && (after + 1 == end || after[1] == '\n'))) {
        record_end_ = {line_, pos_ - line_start_ + 1};
        pos_ += *after == '\n' ? 1 : (after + 1 == end ? 1 : 2);
        ++line_;
        line_start_ = pos_;
        break;
      }
      fail(line_, pos_ - line_start_ + 1,
           "text after the closing quote of a quoted field (a quote inside a quoted field must "
           "be doubled)");
    }

    const char* start = data + pos_;
    const char* p = start;
    if (dlen == 1) {
      // memchr is vectorised: find the line end once per line, then each delimiter in it.
      if (newline_ == kUnknown || newline_ < pos_) {
        const auto* nl = static_cast<const char*>(std::memchr(start, '\n', size_ - pos_));
        newline_ = nl ? static_cast<size_t>(nl - data) : size_;
      }
      const char* line_end = data + newline_;
      p = static_cast<const char*>(std::memchr(start, d0, static_cast<size_t>(line_end - start)));
      if (!p) p = line_end;
    } else {
      while (p < end && *p != '\n' && !at_delimiter(p)) ++p;
    }
    if (p < end && *p != '\n') {  // a delimiter
      record.spans_.push_back({pos_, static_cast<size_t>(p - start), false});
      pos_ = static_cast<size_t>(p - data) + dlen;
      continue;
    }
    check_record_limits(record, static_cast<size_t>(p - data), false);
    const char* field_end = p;
    if (field_end > start && field_end[-1] == '\r') --field_end;
    record.spans_.push_back({pos_, static_cast<size_t>(field_end - start), false});
    record_end_ = {line_, static_cast<size_t>(field_end - data) - line_start_ + 1};
    if (p < end) {
      pos_ = static_cast<size_t>(p - data) + 1;
      ++line_;
      line_start_ = pos_;
    } else {
      pos_ = size_;
    }
    break;
  }
  record.fields_.resize(record.spans_.size());
  return true;
}

void CsvReader::decode(CsvRecord& record) {
  const size_t begin = record.offset_;
  const size_t length = pos_ - begin;
  const char* raw = data_ + begin;
  if (!all_ascii(raw, length)) {
    if (encoding_ == TextEncoding::kUtf8) {
      const size_t bad = validate_utf8(std::string_view(raw, length));
      if (bad != std::string_view::npos) {
        // Locate the bad byte by counting the record's newlines up to it.
        size_t line = record.line();
        size_t line_begin = begin;
        for (size_t k = begin; k < begin + bad; ++k) {
          if (data_[k] == '\n') {
            ++line;
            line_begin = k + 1;
          }
        }
        fail(line, begin + bad - line_begin + 1,
             fmt::format("invalid UTF-8 (byte 0x{:02X}); the file must be UTF-8, or be loaded as "
                         "Latin-1",
                         static_cast<unsigned char>(raw[bad])));
      }
    } else {
      for (auto& span : record.spans_) {
        if (span.in_scratch) {
          // Unescaped bytes are still Latin-1: convert them in place at the end of scratch.
          const std::string latin(record.scratch_, span.begin, span.size);
          if (all_ascii(latin.data(), latin.size())) continue;
          span.begin = record.scratch_.size();
          append_latin1_as_utf8(record.scratch_, latin);
          span.size = record.scratch_.size() - span.begin;
        } else if (!all_ascii(data_ + span.begin, span.size)) {
          const size_t at = record.scratch_.size();
          append_latin1_as_utf8(record.scratch_, std::string_view(data_ + span.begin, span.size));
          span = {at, record.scratch_.size() - at, true};
        }
      }
    }
  }
  for (size_t k = 0; k < record.spans_.size(); ++k) {
    const auto& s = record.spans_[k];
    record.fields_[k] =
        std::string_view((s.in_scratch ? record.scratch_.data() : data_) + s.begin, s.size);
  }
}

}  // namespace reco::data
