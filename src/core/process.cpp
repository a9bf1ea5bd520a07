#include "core/process.h"

#include <signal.h>
#include <sys/types.h>

#include <cerrno>

namespace reco {

bool process_alive(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

}  // namespace reco
