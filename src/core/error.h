#pragma once
// Errors that end a command or a SQL statement. Each carries a kind that maps to a process exit
// code and to an HTTP status, and a message that names the offending input (file:line:column,
// table, column, parameter). Programmer errors use assert; expected conditions use return values.

#include <stdexcept>
#include <string>

namespace reco {

enum class ErrorKind {
  kUsage,      // bad command-line or function arguments
  kInput,      // bad data: CSV, table contents, hyperparameter values
  kNotFound,   // a table, column, model, file or endpoint that does not exist
  kConflict,   // exists already with another shape (e.g. output table with other columns)
  kCorrupt,    // artifact or download failed verification
  kIo,         // filesystem or network trouble (possibly transient)
  kInternal,   // a bug
  kCancelled,  // stopped on request (Ctrl-C, `reco jobs cancel`, DELETE /jobs/{id})
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// sysexits-style process exit codes, so scripts can tell failures apart.
int exit_code_for(ErrorKind kind) noexcept;
const char* error_kind_name(ErrorKind kind) noexcept;

}  // namespace reco
