# Reliability: sanitizers, fuzzing, stress (issue 8). Included by the top-level Makefile.
#   make test-asan     library tests, fuzz replays, stress-quick and the reference-posix conformance
#                      column under ASan+UBSan (build/asan; part of make test)
#   make test-tsan     library tests under ThreadSanitizer (build/tsan)
#   make fuzz          each libFuzzer target for FUZZ_SECONDS (default 120; build/fuzz)
#   make fuzz-replay   replay the seed corpora and regressions in the normal build ($(BUILD))
#   make stress        npipe-stress in full (>= 500 trials per kill profile), with its table
#   make stress-quick  the fast slice (< 60 s); CTest also runs it as test "stress-quick"
FUZZ_SECONDS ?= 120
FUZZ_TARGETS := frame_decoder handshake_challenger handshake_responder agent_request driver_reply name
RELIABILITY_JOBS ?= 2
STRESS_ARGS ?=
# Sanitizer reports are always fatal; no suppressions are used.
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

.PHONY: test-asan test-tsan fuzz fuzz-replay stress stress-quick

build/asan/CMakeCache.txt:
	cmake --preset asan
build/tsan/CMakeCache.txt:
	cmake --preset tsan
build/fuzz/CMakeCache.txt:
	cmake --preset fuzz

test-asan: deps build/asan/CMakeCache.txt
	cmake --build build/asan -j $(RELIABILITY_JOBS)
	cd build/asan && $(SANITIZER_ENV) ctest --output-on-failure -j $(RELIABILITY_JOBS) --timeout 300 \
	  -E 'conformance\.(selftest|reference-windows|repros)'

test-tsan: deps build/tsan/CMakeCache.txt
	cmake --build build/tsan -j $(RELIABILITY_JOBS)
	cd build/tsan && $(SANITIZER_ENV) ctest --output-on-failure -j $(RELIABILITY_JOBS) --timeout 300 -LE 'stress|runtimes'

fuzz: deps build/fuzz/CMakeCache.txt
	cmake build/fuzz > /dev/null  # a target added since the last configure must exist before the build
	cmake --build build/fuzz -j $(RELIABILITY_JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	scripts/run-fuzz build/fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: build
	cd $(BUILD) && ctest --output-on-failure -L fuzz-replay

stress: build
	$(BUILD)/bin/npipe-stress $(STRESS_ARGS)

stress-quick: build
	$(BUILD)/bin/npipe-stress --quick $(STRESS_ARGS)
