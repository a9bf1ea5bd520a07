// Entry point of the loadable SQLite extension (reco.so): `.load /path/to/reco` in the stock
// sqlite3 shell registers the same SQL functions as `reco sql`. Model artifacts go to the reco
// home ($RECO_HOME, which must exist, else ~/.local/share/reco); training logs go to stderr unless
// RECO_QUIET=1.
//
// The rest of reco calls SQLite directly, so the host must use the system libsqlite3 (the
// Debian sqlite3 shell and most language bindings do).
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/home.h"
#include "sqlfunctions/functions.h"

extern "C" __attribute__((visibility("default"))) int sqlite3_reco_init(
    sqlite3* db, char** error, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  try {
    const char* quiet = std::getenv("RECO_QUIET");
    reco::sqlfunctions::FunctionEnvironment env{reco::Home::resolve(std::nullopt),
                                                !(quiet && std::strcmp(quiet, "1") == 0), nullptr,
                                                nullptr};
    env.home.prepare(false);  // a missing $RECO_HOME fails the .load, naming it
    return reco::sqlfunctions::register_all(db, env);
  } catch (const std::exception& e) {
    *error = sqlite3_mprintf("reco: %s", e.what());
    return SQLITE_ERROR;
  }
}
