#include "core/version.h"

namespace reco {

const char* version() noexcept {
  return RECO_VERSION;
}

}  // namespace reco
