# ustack — the two commands a newcomer runs are `make demo` and `make check`.
# This Makefile wraps CMake; the build lives in build/ (and build-asan/ for
# the sanitizer run of the suite).

BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD?= build-bench
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE      ?= cmake
CTEST      ?= ctest

.PHONY: all build demo check deps test test-asan bench clean

all: build

build:
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSTK_TESTS=$(if $(NO_TESTS),OFF,ON) >/dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

# The demo needs no root, no network and no test dependencies. It builds
# the ustack program alone (the tests wait for `make check`), and shows
# the compiler's output only when something fails.
demo:
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSTK_TESTS=$(if $(wildcard /usr/include/cmocka.h),ON,OFF) >/dev/null
	@echo "building $(BUILD)/ustack ..."
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target ustack_cli >$(BUILD)/demo-build.log 2>&1 || { cat $(BUILD)/demo-build.log; exit 1; }
	@./$(BUILD)/ustack demo

deps:
	@sh scripts/deps.sh

test: build
	@$(CTEST) --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan:
	@$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DUSTK_SANITIZE=ON >/dev/null
	@$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(CTEST) --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The whole suite, then the whole suite again under ASan + UBSan.
check: deps
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test-asan

# The benchmarks: an optimised build of their own (-O2, NDEBUG, no
# sanitizers, no tests; -g only for profiles), then every performance bench
# in turn (docs/PERFORMANCE.md). BENCH_ARGS passes options to them, for
# instance BENCH_ARGS=--json or BENCH_ARGS=--quick.
bench:
	@$(CMAKE) -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG -g" -DUSTK_SANITIZE=OFF \
		-DUSTK_TESTS=OFF >/dev/null
	@$(CMAKE) --build $(BENCH_BUILD) -j $(JOBS)
	@./$(BENCH_BUILD)/ustack bench all $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD)
