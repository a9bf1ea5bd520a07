#pragma once
// Formatting of query results for `reco sql`: psql-like aligned tables, CSV, JSON and
// "column = value" lines. The printers only format; they know nothing about SQLite, so they can
// be tested on their own and reused by other commands that show rows.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reco::cli {

enum class OutputMode { kTable, kCsv, kJson, kLine };

std::optional<OutputMode> parse_output_mode(std::string_view name);  // "table", "csv", ...
const char* output_mode_name(OutputMode mode);

// kJson: text holding a JSON object or array, from a column declared JSON / VARIANT / OBJECT /
// ARRAY or made by a JSON function; the JSON output mode writes it as JSON, the others as text.
enum class CellKind { kNull, kInteger, kReal, kText, kBlob, kJson };

// One value of a result row. Numbers keep their exact text so every printer shows the same
// digits; blobs keep only their size, since raw bytes are not printable.
struct Cell {
  CellKind kind = CellKind::kNull;
  std::string text;           // integer or real: formatted number; text: the UTF-8 bytes
  std::size_t blob_size = 0;  // kBlob only

  static Cell null() { return Cell{}; }
  static Cell integer(int64_t value);
  static Cell real(double value);
  static Cell of_text(std::string value);
  // A kJson cell when value is a JSON object or array (written on one line: text spread over
  // lines is compacted), else an ordinary text cell.
  static Cell json_or_text(std::string value);
  static Cell blob(std::size_t bytes);

  bool is_number() const { return kind == CellKind::kInteger || kind == CellKind::kReal; }
  // What a human sees: "" for NULL, "<blob N bytes>" for blobs, the text otherwise.
  std::string display() const;
};

// Shortest text that reads back as the same double (std::to_chars), with ".0" added to integral
// values so a REAL never looks like an INTEGER. Infinities are "Inf" / "-Inf" as in SQLite.
std::string format_real(double value);

// Terminal columns taken by UTF-8 text: one per code point, except combining marks and other
// zero-width characters (0) and East Asian wide / fullwidth characters and emoji (2). Bytes that
// are not valid UTF-8 count one column each.
std::size_t display_width(std::string_view utf8);

// Makes text fit on one table line: newline, carriage return and tab become \n, \r, \t and the
// other ASCII control characters \xNN.
std::string escape_control_chars(std::string_view text);

// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, with quotes doubled.
// An empty string is written as "" so it stays distinct from NULL, which is written as nothing.
std::string csv_field(const Cell& cell);

// A JSON string literal for UTF-8 text (invalid bytes become U+FFFD).
std::string json_string(std::string_view text);
// A JSON value for a cell: numbers as numbers, NULL as null, JSON cells as JSON, the rest as
// strings.
std::string json_value(const Cell& cell);

// Receives the printed text. The shell writes it to stdout; tests collect it in a string.
using OutputSink = std::function<void(std::string_view)>;

// Prints one result set: begin(), row() for each row, end(). Streaming printers (CSV, JSON,
// line) write each row as it comes; the table printer must see every row to size its columns.
class ResultPrinter {
 public:
  virtual ~ResultPrinter() = default;
  virtual void begin(const std::vector<std::string>& columns) = 0;
  virtual void row(const std::vector<Cell>& cells) = 0;
  virtual void end() = 0;
};

// headers: table mode prints the header, separator and "(N rows)" footer only when true;
// CSV prints the header line only when true; JSON and line modes always name the columns.
std::unique_ptr<ResultPrinter> make_printer(OutputMode mode, bool headers, OutputSink sink);

// Convenience for tests and small outputs: formats a whole result set into a string.
std::string format_result(OutputMode mode, bool headers, const std::vector<std::string>& columns,
                          const std::vector<std::vector<Cell>>& rows);

}  // namespace reco::cli
