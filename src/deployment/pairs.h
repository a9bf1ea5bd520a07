#pragma once
// The inference protocol's CSV payload (PROTOCOLS.md §2): one `user_id,item_id` record per
// line, no header. Ids are integers written as 10 or 10.0 (optionally double-quoted, as CSV
// writers do). Line endings \n or \r\n; a final newline is optional. Blank lines are errors:
// the answer must have exactly one prediction per record, and a silently skipped line would
// shift every answer after it.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reco::deployment {

using IdPair = std::pair<int64_t, int64_t>;  // (user, item)

// Throws Error(kInput) "<source>:<line>:<column>: ..." for an empty body, a blank line, a
// line without exactly two fields, or a field that is not an integer id.
std::vector<IdPair> parse_pairs_csv(std::string_view body, const std::string& source);

}  // namespace reco::deployment
