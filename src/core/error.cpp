#include "core/error.h"

namespace reco {

int exit_code_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kUsage:
      return 64;  // EX_USAGE
    case ErrorKind::kInput:
      return 65;  // EX_DATAERR
    case ErrorKind::kNotFound:
      return 66;  // EX_NOINPUT
    case ErrorKind::kConflict:
      return 65;  // EX_DATAERR
    case ErrorKind::kCorrupt:
      return 65;  // EX_DATAERR
    case ErrorKind::kIo:
      return 74;  // EX_IOERR
    case ErrorKind::kInternal:
      return 70;  // EX_SOFTWARE
    case ErrorKind::kCancelled:
      return 130;  // 128 + SIGINT, what shells report for Ctrl-C
  }
  return 70;
}

const char* error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kInput:
      return "input";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kCorrupt:
      return "corrupt";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kCancelled:
      return "cancelled";
  }
  return "internal";
}

}  // namespace reco
