#pragma once
// Every user-facing setting of `reco serve`, declared once as a row (core/options.h) bound to
// a member of ServerOptions, whose initializer is the default: the flags of `reco serve`, their
// --help and the README's table are derived from these rows.

#include <string>
#include <utility>
#include <vector>

#include "core/options.h"
#include "serving/server.h"

namespace reco::serving {

std::vector<BoundOption<ServerOptions>> server_options();
OptionTable server_option_table();

// Validates (name, text) pairs against the rows (messages name the flag) and sets them.
void apply_server_settings(ServerOptions& options,
                           const std::vector<std::pair<std::string, std::string>>& settings);

std::string server_options_markdown();

}  // namespace reco::serving
