#!/usr/bin/env bash
# Installs reco's build and test dependencies from Debian 12 packages.
# Idempotent and quick when everything is already present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config      # toolchain
  libsqlite3-dev sqlite3                # embedded warehouse; stock shell for the extension tests
  nlohmann-json3-dev                    # JSON (metadata, SQL function results)
  libfmt-dev                            # formatting
  libcurl4-openssl-dev                  # reco fetch (downloads)
  libarchive-dev                        # reco fetch (unpacking zips)
  libssl-dev                            # MD5/SHA digests for download verification
  zlib1g-dev                            # CRC-32 for artifact checksums
  libreadline-dev                       # interactive reco sql prompt
  libcpp-httplib-dev                    # HTTP client of the serving tests and make bench
  libgtest-dev libgmock-dev             # unit tests
  libbenchmark-dev                      # make bench
  python3                               # end-to-end and SQL-script test drivers
  time                                  # peak memory in make bench
  clang-format                          # make format
  clang libclang-rt-14-dev              # libFuzzer targets (coverage instrumentation, runtime)
  ninja-build                           # faster builds
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
