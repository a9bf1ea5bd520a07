# reco: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
DATA       ?=
CMAKE_GEN  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600

.PHONY: all deps deps-build browser-deps build build-asan pg-extension demo demo-postgres test test-release test-asan test-fuzz fuzz bench format clean

all: build

# Everything: build, test, bench, fuzz and format tools.
deps:
	@scripts/install-deps.sh test

# Only what building and running reco needs (make demo).
deps-build:
	@scripts/install-deps.sh build

# make build: reco, its extension and the tests (configured with them even when make demo
# configured the folder first without).
build: deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DRECO_BUILD_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)

# The PostgreSQL extension (CREATE EXTENSION reco, src/pgextension): reco's model libraries from
# the release build, then PGXS builds the module and installs it into Debian's PostgreSQL 15
# (with sudo when not root).
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
AS_ROOT := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
pg-extension: deps
	@[ -f $(BUILD)/CMakeCache.txt ] || \
	  cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DRECO_BUILD_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS) --target reco_registry reco_algorithms reco_core
	$(MAKE) -C src/pgextension RECO_BUILD=$(abspath $(BUILD)) PG_CONFIG=$(PG_CONFIG)
	$(AS_ROOT) $(MAKE) -C src/pgextension RECO_BUILD=$(abspath $(BUILD)) PG_CONFIG=$(PG_CONFIG) install

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRECO_SANITIZE=ON

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The release build runs the end-to-end and SQL tests and the unit tests of the modules built at
# -O3 (whose results could depend on the optimizer); then every unit test and the SQL tests run
# again under AddressSanitizer + UndefinedBehaviorSanitizer; then each libFuzzer target of fuzz/
# runs for a few seconds from its seed corpus.
test: test-release test-asan test-fuzz

# puppeteer-core for the console's browser tests, at the version tests/browser/package-lock.json
# pins (from the npm registry; it drives Debian's Chromium and downloads no browser).
browser-deps: deps
	@[ tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ] || \
	  (cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# RECO_REQUIRE_BROWSER: the browser tests fail, rather than skip, when Chromium is missing.
test-release: build browser-deps pg-extension
	@scripts/check-test-data.sh
	cd $(BUILD) && RECO_REQUIRE_BROWSER=1 RECO_REQUIRE_PG=1 ctest --output-on-failure -j $(JOBS) --timeout 600

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|sql' --timeout 900

test-fuzz: deps
	@scripts/fuzz.sh $(FUZZ_BUILD) 3

# Longer fuzzing: FUZZ_SECONDS per target (default 600), optimized build.
fuzz: deps
	@FUZZ_OPT=-O1 scripts/fuzz.sh $(FUZZ_BUILD)-O1 $(FUZZ_SECONDS)

# make demo builds only what the demo runs (the reco binary and the SQLite extension), with only
# the build dependencies; a folder configured by make build/test keeps its tests configured.
demo: deps-build
	@[ -f $(BUILD)/CMakeCache.txt ] || \
	  cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DRECO_BUILD_TESTS=OFF
	cmake --build $(BUILD) -j $(JOBS) --target reco reco_sqlite_extension
	@scripts/demo.sh "$(BUILD)/reco" "$(DATA)"

# The guide on a PostgreSQL server: a throw-away cluster, reco serve --db postgresql://..., the
# guide's SQL in psql through the extension (scripts/demo-postgres.sh).
demo-postgres: pg-extension
	cmake --build $(BUILD) -j $(JOBS) --target reco
	@scripts/demo-postgres.sh "$(BUILD)/reco" "$(DATA)"

bench: deps pg-extension
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DRECO_BUILD_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS)
	@scripts/bench.sh "$(BUILD)"
	@echo; scripts/bench_invoke.sh "$(BUILD)"
	@echo; scripts/bench_serve.sh "$(BUILD)"
	@echo; scripts/bench_cores.py "$(BUILD)"
	@echo; scripts/bench_cancel.py "$(BUILD)"
	@echo; scripts/bench_pg.sh "$(BUILD)"
	@echo; scripts/bench_pg_extension.py "$(BUILD)" "$(or $(DATA),../shared/data/movielens/ml-latest-small)" \
	  --http-rows 50000

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(FUZZ_BUILD)-O1
