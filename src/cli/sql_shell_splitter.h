#pragma once
// Cuts SQL input, fed line by line, into single statements. A statement ends at a semicolon
// outside literals and comments where sqlite3_complete() agrees (so the semicolons inside a
// CREATE TRIGGER body do not end it). Knowing each statement's own text and first line lets the
// shell echo it, report "near line N" and carry on with the next statement after an error.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace reco::cli {

struct SqlChunk {
  // The input from the end of the previous statement through this one's semicolon, as written
  // (leading comments included, plus a "-- comment" that follows the semicolon on its line).
  std::string text;
  std::size_t first_line = 0;  // line of the first SQL token (of the text when there is none)
  bool has_sql = false;        // false when the text is only whitespace, comments and semicolons
};

class StatementSplitter {
 public:
  explicit StatementSplitter(std::size_t first_line = 1) : next_line_(first_line) {}
  // PostgreSQL's lexical rules instead of SQLite's: $$ and $tag$ quote text (function bodies),
  // and no sqlite3_complete() check.
  static StatementSplitter postgres() {
    StatementSplitter s;
    s.postgres_ = true;
    return s;
  }

  // Appends one line of input; a trailing newline, if any, is ignored (one is added).
  void add_line(std::string_view line);
  // The next complete statement, in input order, or nothing until more lines arrive.
  std::optional<SqlChunk> next();
  // Whether a statement has begun (SQL text, or an open comment or literal): an interactive
  // prompt shows the continuation prompt, and a line starting with '.' is not a dot-command.
  bool in_statement() const;
  // Everything not yet returned by next(): an unfinished statement at end of input, or only
  // comments. Leaves the splitter empty; line numbering continues.
  std::optional<SqlChunk> take_rest();
  // Drops unfinished input (Ctrl-C at the prompt).
  void discard();
  // Counts a line that is not SQL (a dot-command) so later line numbers stay right.
  void skip_line() { ++next_line_; }
  // The number the next added line will get.
  std::size_t next_line() const { return next_line_; }

 private:
  enum class State { kNormal, kLineComment, kBlockComment, kQuoted, kDollarQuoted };

  SqlChunk make_chunk(std::size_t end);

  std::string buffer_;                 // not yet returned input, always whole lines
  std::size_t buffer_first_line_ = 0;  // line number of buffer_[0]
  std::size_t next_line_;
  // Scanner state, kept between calls so each byte is scanned once.
  std::size_t scan_ = 0;
  State state_ = State::kNormal;
  char quote_close_ = 0;
  std::string dollar_tag_;  // "$$" or "$tag$" while kDollarQuoted
  bool postgres_ = false;
  std::optional<std::size_t> first_sql_;  // offset of the first SQL token in buffer_
};

}  // namespace reco::cli
