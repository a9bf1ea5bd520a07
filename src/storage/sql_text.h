#pragma once
// Pieces of SQL text handling the warehouse backends share: numbers in rating cells, and cutting
// a statement off the SQL a user wrote (string literals, quoted identifiers, comments and
// PostgreSQL's dollar quoting are skipped, so a ';' inside them does not end the statement).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reco::storage {

// A finite number written as text: surrounding spaces and a leading '+' allowed ("4.5", " 3 ").
bool parse_number_text(std::string_view text, double& out);
// An id: an integral value small enough to be exact in a double (10 and 10.0 are both 10).
bool integral_id(double value, int64_t& out);

// The length of the first statement of sql, through its terminating ';' (the whole text when it
// has none).
size_t statement_end(std::string_view sql);
// True when text holds only whitespace, ';' and comments.
bool only_blank_or_comments(std::string_view text);
// The first word of the statement after comments and opening parentheses, in upper case ("" for
// none): SELECT, WITH, INSERT, BEGIN, ...
std::string first_keyword(std::string_view sql);

}  // namespace reco::storage
