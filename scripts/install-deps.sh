#!/usr/bin/env bash
# Installs reco's dependencies from Debian 12 packages, by group:
#   scripts/install-deps.sh build   what building and running reco needs (make build, make demo)
#   scripts/install-deps.sh test    build, plus the test, benchmark, fuzzing and format tools
#                                   (make test, make bench, make fuzz, make format)
# No group means test (everything). Idempotent and quick when everything is already present.
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config      # toolchain
  ninja-build                           # faster builds
  libsqlite3-dev                        # embedded warehouse
  nlohmann-json3-dev                    # JSON (metadata, SQL function results)
  libfmt-dev                            # formatting
  libcurl4-openssl-dev                  # reco fetch (downloads)
  libarchive-dev                        # reco fetch (unpacking zips)
  libssl-dev                            # MD5/SHA digests for download verification
  zlib1g-dev                            # CRC-32 for artifact checksums
  libreadline-dev                       # interactive reco sql prompt
  libpq-dev                             # PostgreSQL warehouse (--db postgresql://...)
)
test_packages=(
  sqlite3                               # stock shell for the extension tests
  libcpp-httplib-dev                    # HTTP client of the serving tests and make bench
  libgtest-dev libgmock-dev             # unit tests
  libbenchmark-dev                      # make bench
  python3                               # end-to-end and SQL-script test drivers
  time                                  # peak memory in make bench
  clang-format                          # make format
  clang libclang-rt-14-dev              # libFuzzer targets (coverage instrumentation, runtime)
  chromium                              # the console's browser tests (headless, driven by
  nodejs                                #   puppeteer-core from npm: tests/browser, make browser-deps)
  postgresql-15 postgresql-client-15    # the throw-away PostgreSQL cluster of the tests
  postgresql-server-dev-15              # PGXS: the PostgreSQL extension (make pg-extension)
  postgresql-15-cron                    # pg_cron: scheduled tasks on PostgreSQL
)

group="${1:-test}"
case "$group" in
  build) packages=("${build_packages[@]}") ;;
  test) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  *)
    echo "usage: $0 [build|test]  (build: what make demo needs; test: everything, the default)" >&2
    exit 64
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package, unless the installed Node.js brings its own (NodeSource's does).
if [ "$group" = test ] && ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps ($group): installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
