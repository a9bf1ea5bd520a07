#include "cli/table_printer.h"
#include "core/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace reco::cli {

std::optional<OutputMode> parse_output_mode(std::string_view name) {
  if (name == "table") return OutputMode::kTable;
  if (name == "csv") return OutputMode::kCsv;
  if (name == "json") return OutputMode::kJson;
  if (name == "line") return OutputMode::kLine;
  return std::nullopt;
}

const char* output_mode_name(OutputMode mode) {
  switch (mode) {
    case OutputMode::kTable:
      return "table";
    case OutputMode::kCsv:
      return "csv";
    case OutputMode::kJson:
      return "json";
    case OutputMode::kLine:
      return "line";
  }
  return "table";
}

Cell Cell::integer(int64_t value) {
  return Cell{CellKind::kInteger, std::to_string(value), 0};
}
Cell Cell::real(double value) {
  return Cell{CellKind::kReal, format_real(value), 0};
}
Cell Cell::of_text(std::string value) {
  return Cell{CellKind::kText, std::move(value), 0};
}
Cell Cell::json_or_text(std::string value) {
  const std::size_t first = value.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || (value[first] != '{' && value[first] != '[')) {
    return of_text(std::move(value));
  }
  std::optional<nlohmann::json> parsed = try_parse_json(value);
  if (!parsed || !parsed->is_structured()) return of_text(std::move(value));
  // Kept as written (SQLite's JSON functions keep key order) unless it spans several lines.
  if (value.find_first_of("\r\n") != std::string::npos) value = json_text_lenient(*parsed);
  return Cell{CellKind::kJson, std::move(value), 0};
}
Cell Cell::blob(std::size_t bytes) {
  return Cell{CellKind::kBlob, std::string(), bytes};
}

std::string Cell::display() const {
  switch (kind) {
    case CellKind::kNull:
      return std::string();
    case CellKind::kBlob:
      return fmt::format("<blob {} bytes>", blob_size);
    default:
      return text;
  }
}

std::string format_real(double value) {
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  if (std::isnan(value))
    return "NaN";  // SQLite stores NaN as NULL, so only a function can make one
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  std::string text(buf.data(), ec == std::errc() ? end : buf.data());
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// Combining marks and invisible format characters (a compact subset of Unicode's Mn/Me/Cf).
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF},   {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F},   {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED},   {0x0900, 0x0902},
    {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D},   {0x0951, 0x0957},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1160, 0x11FF},   {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064},   {0x20D0, 0x20FF},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

// East Asian Wide and Fullwidth characters and emoji presented as wide.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18AFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

template <std::size_t N>
bool in_ranges(const Range (&ranges)[N], char32_t cp) {
  const Range* it = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                                     [](char32_t c, const Range& r) { return c < r.first; });
  return it != std::begin(ranges) && cp <= (it - 1)->last;
}

std::size_t code_point_width(char32_t cp) {
  if (cp < 0x300) return 1;  // fast path: ASCII and Latin
  if (in_ranges(kZeroWidth, cp)) return 0;
  if (in_ranges(kWide, cp)) return 2;
  return 1;
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when the bytes are not valid
// UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len;
  char32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::size_t display_width(std::string_view utf8) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(utf8, i, cp);
    if (len == 0) {
      ++width;
      ++i;
    } else {
      width += code_point_width(cp);
      i += len;
    }
  }
  return width;
}

std::string escape_control_chars(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string csv_field(const Cell& cell) {
  if (cell.kind == CellKind::kNull) return std::string();
  const std::string text = cell.display();
  if (cell.kind == CellKind::kText && text.empty()) return "\"\"";
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string json_string(std::string_view text) {
  return json_text_lenient(nlohmann::json(std::string(text)));
}

std::string json_value(const Cell& cell) {
  switch (cell.kind) {
    case CellKind::kNull:
      return "null";
    case CellKind::kInteger:
      return cell.text;
    case CellKind::kJson:
      return cell.text;
    case CellKind::kReal:
      // JSON has no infinity; 1e999 is valid JSON that every common parser reads as infinity.
      if (cell.text == "Inf") return "1e999";
      if (cell.text == "-Inf") return "-1e999";
      if (cell.text == "NaN") return "null";
      return cell.text;
    default:
      return json_string(cell.display());
  }
}

namespace {

std::string rtrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// psql's aligned format: " a | b", "---+---", numbers right-aligned, text left-aligned,
// headers centered, then "(N rows)" and a blank line.
class TablePrinter final : public ResultPrinter {
 public:
  TablePrinter(bool headers, OutputSink sink) : headers_(headers), sink_(std::move(sink)) {}

  void begin(const std::vector<std::string>& columns) override {
    header_.clear();
    widths_.clear();
    rows_.clear();
    for (const std::string& name : columns) {
      Text t = make_text(escape_control_chars(name), false);
      widths_.push_back(headers_ ? t.width : 0);
      header_.push_back(std::move(t));
    }
  }

  void row(const std::vector<Cell>& cells) override {
    std::vector<Text> row;
    row.reserve(cells.size());
    for (std::size_t c = 0; c < cells.size() && c < widths_.size(); ++c) {
      Text t = make_text(escape_control_chars(cells[c].display()), cells[c].is_number());
      widths_[c] = std::max(widths_[c], t.width);
      row.push_back(std::move(t));
    }
    rows_.push_back(std::move(row));
  }

  void end() override {
    if (widths_.empty()) return;
    std::string out;
    if (headers_) {
      std::string line, rule;
      for (std::size_t c = 0; c < header_.size(); ++c) {
        const std::size_t pad = widths_[c] - header_[c].width;
        line += c == 0 ? " " : " | ";
        line.append(pad / 2, ' ');
        line += header_[c].text;
        line.append(pad - pad / 2, ' ');
        if (c > 0) rule += '+';
        rule.append(widths_[c] + 2, '-');
      }
      out += rtrim(std::move(line)) + "\n" + rule + "\n";
    }
    for (const std::vector<Text>& row : rows_) {
      std::string line;
      for (std::size_t c = 0; c < widths_.size(); ++c) {
        line += c == 0 ? " " : " | ";
        if (c >= row.size()) {
          line.append(widths_[c], ' ');
          continue;
        }
        const std::size_t pad = widths_[c] - row[c].width;
        if (row[c].right) line.append(pad, ' ');
        line += row[c].text;
        if (!row[c].right) line.append(pad, ' ');
      }
      out += rtrim(std::move(line)) + "\n";
    }
    if (headers_)
      out += fmt::format("({} {})\n\n", rows_.size(), rows_.size() == 1 ? "row" : "rows");
    sink_(out);
    rows_.clear();
  }

 private:
  struct Text {
    std::string text;
    std::size_t width;
    bool right;
  };
  static Text make_text(std::string text, bool right) {
    const std::size_t width = display_width(text);
    return Text{std::move(text), width, right};
  }

  bool headers_;
  OutputSink sink_;
  std::vector<Text> header_;
  std::vector<std::size_t> widths_;
  std::vector<std::vector<Text>> rows_;
};

class CsvPrinter final : public ResultPrinter {
 public:
  CsvPrinter(bool headers, OutputSink sink) : headers_(headers), sink_(std::move(sink)) {}

  void begin(const std::vector<std::string>& columns) override {
    if (!headers_ || columns.empty()) return;
    std::vector<Cell> names;
    for (const std::string& name : columns) names.push_back(Cell::of_text(name));
    row(names);
  }

  void row(const std::vector<Cell>& cells) override {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line += ',';
      line += csv_field(cells[c]);
    }
    line += '\n';
    sink_(line);
  }

  void end() override {}

 private:
  bool headers_;
  OutputSink sink_;
};

// One object per line inside the array, so large results stay readable and diffable.
class JsonPrinter final : public ResultPrinter {
 public:
  explicit JsonPrinter(OutputSink sink) : sink_(std::move(sink)) {}

  void begin(const std::vector<std::string>& columns) override {
    keys_.clear();
    for (const std::string& name : columns) keys_.push_back(json_string(name));
    rows_ = 0;
    if (!keys_.empty()) sink_("[");
  }

  void row(const std::vector<Cell>& cells) override {
    std::string line = rows_ == 0 ? "\n  {" : ",\n  {";
    for (std::size_t c = 0; c < cells.size() && c < keys_.size(); ++c) {
      if (c > 0) line += ", ";
      line += keys_[c];
      line += ": ";
      line += json_value(cells[c]);
    }
    line += '}';
    sink_(line);
    ++rows_;
  }

  void end() override {
    if (keys_.empty()) return;
    sink_(rows_ == 0 ? "]\n" : "\n]\n");
  }

 private:
  OutputSink sink_;
  std::vector<std::string> keys_;
  std::size_t rows_ = 0;
};

// Like the sqlite3 shell's line mode: names right-aligned, a blank line between rows.
class LinePrinter final : public ResultPrinter {
 public:
  explicit LinePrinter(OutputSink sink) : sink_(std::move(sink)) {}

  void begin(const std::vector<std::string>& columns) override {
    names_.clear();
    width_ = 0;
    rows_ = 0;
    for (const std::string& name : columns) {
      names_.push_back(escape_control_chars(name));
      width_ = std::max(width_, display_width(names_.back()));
    }
  }

  void row(const std::vector<Cell>& cells) override {
    std::string out = rows_ == 0 ? "" : "\n";
    for (std::size_t c = 0; c < cells.size() && c < names_.size(); ++c) {
      out.append(width_ - display_width(names_[c]), ' ');
      out += names_[c];
      out += " = ";
      out += cells[c].display();
      out += '\n';
    }
    sink_(out);
    ++rows_;
  }

  void end() override {}

 private:
  OutputSink sink_;
  std::vector<std::string> names_;
  std::size_t width_ = 0;
  std::size_t rows_ = 0;
};

}  // namespace

std::unique_ptr<ResultPrinter> make_printer(OutputMode mode, bool headers, OutputSink sink) {
  switch (mode) {
    case OutputMode::kTable:
      return std::make_unique<TablePrinter>(headers, std::move(sink));
    case OutputMode::kCsv:
      return std::make_unique<CsvPrinter>(headers, std::move(sink));
    case OutputMode::kJson:
      return std::make_unique<JsonPrinter>(std::move(sink));
    case OutputMode::kLine:
      return std::make_unique<LinePrinter>(std::move(sink));
  }
  return std::make_unique<TablePrinter>(headers, std::move(sink));
}

std::string format_result(OutputMode mode, bool headers, const std::vector<std::string>& columns,
                          const std::vector<std::vector<Cell>>& rows) {
  std::string out;
  auto printer = make_printer(mode, headers, [&out](std::string_view s) { out += s; });
  printer->begin(columns);
  for (const auto& row : rows) printer->row(row);
  printer->end();
  return out;
}

}  // namespace reco::cli
