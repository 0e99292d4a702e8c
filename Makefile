# npipe: the two commands of the README are `make conformance` and `make test`.
# Both install what is missing first (scripts/install-deps), then build in build/posix.
BUILD      ?= build/posix
JOBS       ?= $(shell nproc)
PYTHON     ?= /usr/bin/python3
CMAKE_ARGS ?=

.PHONY: all deps build test repeat test-unit test-spec test-python test-package package test-windows windows-agent conformance runtimes-deps clean format mutants test-mutants

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The library's GoogleTest tests and the conformance suite's self-tests, through CTest. The runtime
# reproducers (label runtimes) need every runtime installed: they run in `make conformance`.
test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 120 -LE runtimes

# The requirement registry: IDs well formed and unique, citations real, every MUST tested.
test-spec: deps
	$(PYTHON) spec/tools/check_requirements.py
	$(PYTHON) spec/tools/errors_table.py --check
	$(PYTHON) spec/tools/vectors.py --check
	$(PYTHON) -m pytest -q -p no:cacheprovider spec/tools

# Interop with the real CPython: every interpreter 3.8+ found here, against bin/npipe and npipe-agent.
test-python: build
	NPIPE_BIN_DIR=$(CURDIR)/$(BUILD)/bin $(PYTHON) -m pytest harness -q

# npipe as an outside project meets it: install $(BUILD) into a temporary prefix, build examples/
# against it with find_package(npipe) and with pkg-config, run them with the real CPython, and
# make the Debian package (cpack) and list it.
test-package: build
	examples/test_package.sh $(BUILD) $(PYTHON)

# The Debian package alone: $(BUILD)/package/npipe_<version>_<arch>.deb
package: build
	cd $(BUILD) && cpack -G DEB

# The Windows backend, cross-built with mingw-w64 and run under Wine (scripts/test-windows says
# loudly when it cannot run, and fails).
test-windows:
	scripts/test-windows

# The Windows agent alone (for the reference-windows column of the conformance suite).
windows-agent:
	scripts/install-deps windows
	cmake --preset windows-mingw > /dev/null
	cmake --build build/windows -j $(JOBS) --target npipe-agent

# lint-workflows: actionlint over the GitHub workflow and conformance/action.yml (mk/ci.mk).
# test-windows first: it builds the Windows agent that the conformance suite's reference-windows
# column (run by test-unit) drives under Wine. bench-smoke: the benchmarks at a tiny size, so they
# keep working (they time nothing). test-mutants: 5 mutants of conformance/mutants/, a different
# five each day, so the mutation machinery keeps working. conformance: the whole matrix (every
# column of implementations.conf, the runtimes' too, and the reproducers of FINDINGS.md), so a
# configured column that cannot run fails make test as it fails make conformance. test-package:
# the installed package and the examples. test-asan last: the same tests under ASan+UBSan.
test: test-spec lint-workflows test-windows test-unit conformance bench-smoke test-mutants test-python test-package test-asan

# The main job: the conformance suite against every implementation found here (reference-posix,
# reference-windows under Wine, and one column per installed CPython and per other runtime; a
# configured column that cannot run fails it). IMPL='name=cmd' validates an outside implementation
# instead, partnered by the reference in both role orders. The runtime columns
# (conformance/agents/) need their toolchains: installed first, then built by `build`; run-repros
# checks that every reproducer of conformance/FINDINGS.md still reproduces.
# Scenarios at once: agents mostly wait, so 8 on 2 cores (21 columns: 384 s at 8 against 428 s at
# 4, measured on a loaded machine; see conformance/README.md).
CONFORMANCE_JOBS ?= 8
conformance: runtimes-deps build
	@$(MAKE) --no-print-directory windows-agent || echo "conformance: the Windows agent could not be built; its column will say NOT RUN, and the run fails"
	$(BUILD)/bin/npipe-conformance --jobs $(CONFORMANCE_JOBS) --report-dir build/conformance $(if $(IMPL),--impl '$(IMPL)' --only '$(firstword $(subst =, ,$(IMPL)))')
	$(if $(IMPL),,$(PYTHON) conformance/agents/run-repros --work build/conformance/repros)

# Before `build`'s configure, so that CMake finds the toolchains and makes their agents' targets.
runtimes-deps:
	@scripts/install-deps runtimes
	@if [ -f $(BUILD)/CMakeCache.txt ]; then cmake $(BUILD) > /dev/null; fi

# Mutation testing of the suite (conformance/mutants/README.md): every mutant, a plausible mistake
# patched into a copy of the reference (POSIX, and Windows under Wine), must be rejected by the
# suite, with the requirement it violates; the conformant variants of equivalent.txt must not be.
# Prints a table and the score; build/mutants/report.json. MUTANTS_ARGS: --only ID, --backend posix.
mutants: build
	scripts/install-deps windows
	$(PYTHON) conformance/mutants/run_mutants.py $(MUTANTS_ARGS)

test-mutants: build
	scripts/install-deps windows
	$(PYTHON) conformance/mutants/run_mutants.py --sample 5

# One column N times in a row, every run's results compared with the first (conformance/tools/
# repeat.py): how the suite shows it is not flaky. REPEAT_ONLY=column, REPEAT_RUNS=N.
REPEAT_ONLY ?= reference-posix
REPEAT_RUNS ?= 200
repeat: build
	$(PYTHON) conformance/tools/repeat.py --driver $(BUILD)/bin/npipe-conformance \
	  --only $(REPEAT_ONLY) --runs $(REPEAT_RUNS) --work build/repeat -- --no-cpython

clean:
	rm -rf build

format:
	find reference conformance examples -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

include mk/reliability.mk
include mk/bench.mk
include mk/ci.mk
