#pragma once
// Access control for the server: a shared bearer token. The token is compared in constant time
// (the time taken does not depend on where the first differing byte is) and never logged.

#include <optional>
#include <string>
#include <string_view>

namespace reco::serving {

// True when `host` (a --host value) only accepts connections from this machine: 127.0.0.0/8,
// ::1, "localhost". "0.0.0.0", "::" and every other address are reachable from elsewhere.
bool is_loopback_host(std::string_view host);

// The credentials of an "Authorization: Bearer <token>" header (scheme case-insensitive);
// nullopt for a missing header, another scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Constant-time equality: every byte of the longer input is examined whatever the contents.
bool tokens_equal(std::string_view expected, std::string_view given);

// Checks a token chosen by the operator: non-empty, printable ASCII without spaces (it travels
// in an HTTP header). Throws Error(kUsage) saying what is wrong, never echoing the token.
void validate_token(std::string_view token);

}  // namespace reco::serving
