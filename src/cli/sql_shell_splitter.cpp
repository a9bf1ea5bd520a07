#include "cli/sql_shell_splitter.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>

namespace reco::cli {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::size_t count_newlines(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

void StatementSplitter::add_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (buffer_.empty()) buffer_first_line_ = next_line_;
  buffer_.append(line);
  buffer_ += '\n';
  // A line given with embedded newlines (a recalled multi-line history entry) spans them all.
  next_line_ += 1 + count_newlines(line);
}

std::optional<SqlChunk> StatementSplitter::next() {
  while (scan_ < buffer_.size()) {
    const char c = buffer_[scan_];
    const char lookahead = scan_ + 1 < buffer_.size() ? buffer_[scan_ + 1] : '\0';
    switch (state_) {
      case State::kLineComment:
        if (c == '\n') state_ = State::kNormal;
        ++scan_;
        continue;
      case State::kBlockComment:
        if (c == '*' && lookahead == '/') {
          state_ = State::kNormal;
          scan_ += 2;
        } else {
          ++scan_;
        }
        continue;
      case State::kQuoted:
        // A doubled quote ('it''s') closes and reopens the literal, which needs no special case.
        if (c == quote_close_) state_ = State::kNormal;
        ++scan_;
        continue;
      case State::kDollarQuoted:
        if (buffer_.compare(scan_, dollar_tag_.size(), dollar_tag_) == 0) {
          state_ = State::kNormal;
          scan_ += dollar_tag_.size();
        } else {
          ++scan_;
        }
        continue;
      case State::kNormal:
        break;
    }
    if (c == '-' && lookahead == '-') {
      state_ = State::kLineComment;
      scan_ += 2;
      continue;
    }
    if (c == '/' && lookahead == '*') {
      state_ = State::kBlockComment;
      scan_ += 2;
      continue;
    }
    if (is_space(c)) {
      ++scan_;
      continue;
    }
    if (c == ';') {
      ++scan_;
      const std::string prefix = buffer_.substr(0, scan_);
      if (!postgres_ && !sqlite3_complete(prefix.c_str())) continue;  // inside a trigger body
      // Keep a comment that follows the semicolon on the same line with this statement.
      std::size_t end = scan_;
      std::size_t k = scan_;
      while (k < buffer_.size() && (buffer_[k] == ' ' || buffer_[k] == '\t')) ++k;
      if (k < buffer_.size() && buffer_[k] == '\n') {
        end = k;
      } else if (k + 1 < buffer_.size() && buffer_[k] == '-' && buffer_[k + 1] == '-') {
        end = buffer_.find('\n', k);  // add_line guarantees the line's newline is present
      }
      return make_chunk(end);
    }
    if (!first_sql_) first_sql_ = scan_;
    if (postgres_ && c == '$') {  // $$ or $tag$ opens a dollar quote; $1 is a parameter
      std::size_t j = scan_ + 1;
      while (j < buffer_.size() &&
             (std::isalnum(static_cast<unsigned char>(buffer_[j])) || buffer_[j] == '_'))
        ++j;
      if (j < buffer_.size() && buffer_[j] == '$' &&
          (j == scan_ + 1 || !std::isdigit(static_cast<unsigned char>(buffer_[scan_ + 1])))) {
        dollar_tag_ = buffer_.substr(scan_, j - scan_ + 1);
        state_ = State::kDollarQuoted;
        scan_ = j + 1;
        continue;
      }
    }
    if (c == '\'' || c == '"' || c == '`' || (c == '[' && !postgres_)) {
      state_ = State::kQuoted;
      quote_close_ = c == '[' ? ']' : c;
    }
    ++scan_;
  }
  return std::nullopt;
}

SqlChunk StatementSplitter::make_chunk(std::size_t end) {
  SqlChunk chunk;
  chunk.text = buffer_.substr(0, end);
  chunk.has_sql = first_sql_.has_value();
  std::size_t anchor = first_sql_.value_or(0);
  if (!first_sql_) {
    while (anchor < chunk.text.size() && is_space(chunk.text[anchor])) ++anchor;
    if (anchor == chunk.text.size()) anchor = 0;
  }
  chunk.first_line =
      buffer_first_line_ + count_newlines(std::string_view(chunk.text).substr(0, anchor));
  buffer_first_line_ += count_newlines(chunk.text);
  buffer_.erase(0, end);
  scan_ = 0;
  state_ = State::kNormal;
  first_sql_.reset();
  if (std::all_of(buffer_.begin(), buffer_.end(), is_space)) {
    buffer_first_line_ += count_newlines(buffer_);
    buffer_.clear();
  }
  return chunk;
}

bool StatementSplitter::in_statement() const {
  return first_sql_.has_value() || state_ == State::kBlockComment || state_ == State::kQuoted ||
         state_ == State::kDollarQuoted;
}

std::optional<SqlChunk> StatementSplitter::take_rest() {
  // Callers drain next() first, so the whole buffer has been scanned and first_sql_ is exact.
  if (buffer_.empty()) return std::nullopt;
  return make_chunk(buffer_.size());
}

void StatementSplitter::discard() {
  buffer_.clear();
  scan_ = 0;
  state_ = State::kNormal;
  first_sql_.reset();
}

}  // namespace reco::cli
