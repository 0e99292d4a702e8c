# Performance: make bench (issue 7). See bench/README.md.
#   make bench        Release build in build/bench, every figure N times (BENCH_RUNS, default 5);
#                     the table on stdout and build/bench/bench.{md,json,svg}
#   make bench-smoke  the same at a tiny size, once (< 30 s): checks that every figure is produced
#                     and the JSON is well formed, never how fast anything is
BENCH_BUILD      ?= build/bench
BENCH_RUNS       ?= 0
BENCH_PYTHON     ?= $(lastword $(sort $(wildcard /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3)))
BENCH_PY_LEGACY  ?= $(lastword $(sort $(wildcard /root/.pyenv/versions/3.11*/bin/python3)))
BENCH_ARGS        = --bin $(BENCH_BUILD)/bin/npipe-bench --python $(or $(BENCH_PYTHON),python3) \
                    --python-legacy $(or $(BENCH_PY_LEGACY),$(BENCH_PYTHON),python3) --runs $(BENCH_RUNS)

.PHONY: bench bench-smoke bench-build

$(BENCH_BUILD)/CMakeCache.txt:
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DNPIPE_BUILD_BENCH=ON \
	  -DNPIPE_BUILD_TESTS=OFF -DNPIPE_BUILD_CONFORMANCE=OFF -DNPIPE_BUILD_FUZZ=OFF \
	  -DNPIPE_BUILD_STRESS=OFF $(CMAKE_ARGS)

bench-build: $(BENCH_BUILD)/CMakeCache.txt
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target npipe-bench

bench: bench-build
	$(PYTHON) bench/run.py --size full --out $(BENCH_BUILD) $(BENCH_ARGS)

bench-smoke: bench-build
	$(PYTHON) bench/run.py --size smoke --out $(BENCH_BUILD)/smoke --smoke-check $(BENCH_ARGS)
