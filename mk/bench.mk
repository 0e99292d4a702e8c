# Performance: make bench (issue 7). See bench/README.md.
#   make bench        Release build in build/bench, every figure N times (BENCH_RUNS, default 5);
#                     the table on stdout and build/bench/bench.{md,json,svg}. Also builds
#                     $(BUILD) for the conformance driver, whose wall time per column is a figure.
#   make bench-smoke  the same at a tiny size, once, with the npipe-bench of $(BUILD) (part of
#                     make test): checks that every figure is produced and the JSON is well
#                     formed, never how fast anything is
#   BENCH_ONLY=fifo,latency,...   run only those groups (bench/run.py --only)
BENCH_BUILD      ?= build/bench
BENCH_RUNS       ?= 0
BENCH_ONLY       ?=
PYENV_ROOT       ?= $(shell pyenv root 2>/dev/null)
BENCH_PYTHON     ?= $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3 $(PYENV_ROOT)/versions/3.12*/bin/python3)))
BENCH_PY_LEGACY  ?= $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.11*/bin/python3)))
BENCH_PEERS       = --python $(or $(BENCH_PYTHON),python3) \
                    --python-legacy $(or $(BENCH_PY_LEGACY),$(BENCH_PYTHON),python3) \
                    --conformance-bin $(BUILD)/bin/npipe-conformance $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

# The Wine figures (bench/wine.py, run by run.py's windows()): npipe-bench-win.exe, cross-built by
# `make bench-wine-build` (mingw-w64, Release) in BENCH_WIN_BUILD. `make bench` builds it when it
# can; bench-smoke never builds it, and measures the Wine figures only when it is already built.
BENCH_WIN_BUILD  ?= build/bench-windows

.PHONY: bench bench-smoke bench-build bench-wine-build bench-wine-try

# run.py's windows() (bench/wine.py) measures this exe when it exists.
bench bench-smoke: export NPIPE_BENCH_WIN_EXE = $(abspath $(BENCH_WIN_BUILD))/bin/npipe-bench-win.exe

$(BENCH_BUILD)/CMakeCache.txt:
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DNPIPE_BUILD_BENCH=ON \
	  -DNPIPE_BUILD_TESTS=OFF -DNPIPE_BUILD_CONFORMANCE=OFF -DNPIPE_BUILD_FUZZ=OFF \
	  -DNPIPE_BUILD_STRESS=OFF $(CMAKE_ARGS)

bench-build: $(BENCH_BUILD)/CMakeCache.txt
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target npipe-bench

bench: bench-build build
	$(PYTHON) bench/run.py --size full --out $(BENCH_BUILD) --bin $(BENCH_BUILD)/bin/npipe-bench \
	  --runs $(BENCH_RUNS) $(BENCH_PEERS)

bench-smoke: build
	$(PYTHON) bench/run.py --size smoke --out build/bench-smoke --smoke-check \
	  --bin $(BUILD)/bin/npipe-bench $(BENCH_PEERS)

# The Windows bench, cross-built like scripts/test-windows builds build/windows (same toolchain
# file), but in Release and with only the library and npipe-bench-win.
$(BENCH_WIN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(BENCH_WIN_BUILD) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/mingw-w64-x86_64.cmake \
	  -DCMAKE_BUILD_TYPE=Release -DNPIPE_BUILD_BENCH=ON -DNPIPE_BUILD_TESTS=OFF \
	  -DNPIPE_BUILD_CONFORMANCE=OFF -DNPIPE_BUILD_FUZZ=OFF -DNPIPE_BUILD_STRESS=OFF

bench-wine-build:
	scripts/install-deps windows
	@$(MAKE) --no-print-directory $(BENCH_WIN_BUILD)/CMakeCache.txt
	cmake --build $(BENCH_WIN_BUILD) -j $(JOBS) --target npipe-bench-win

# make bench: the Wine figures when the Windows bench can be built; when not, the table says why.
bench-wine-try:
	@$(MAKE) --no-print-directory bench-wine-build || \
	  echo "bench: npipe-bench-win.exe could not be built; the Wine section will say not measured"

bench: bench-wine-try
