#!/usr/bin/env python3
"""repeat: runs one conformance column N times in a row and checks every run gives the same results.

    conformance/tools/repeat.py --driver build/posix/bin/npipe-conformance --runs 200 \
        [--only reference-posix] [--work build/repeat] [-- extra driver arguments]

A run's results are the set of (scenario, roles, status) of its report.json; the first run is the
baseline. Every later run whose set differs, or whose exit status differs, is reported with what
changed, and its report and output are kept in --work (run-N/). Exit status: 0 when all runs were
identical, 1 otherwise, 2 on a usage error. A flaky scenario is a bug of the first rank: this is
how the project shows it has none (conformance/README.md, "Self-test").
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def results_of(report_path):
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    return {(r["test"], json.dumps(r.get("roles", {}), sort_keys=True), r["status"])
            for r in report["results"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--driver", required=True, help="the npipe-conformance program")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--only", default="reference-posix", help="the column (--only of the driver)")
    ap.add_argument("--work", default="build/repeat", help="where reports of differing runs go")
    ap.add_argument("extra", nargs="*", help="more driver arguments, after --")
    opts = ap.parse_args()
    if opts.runs < 2:
        ap.error("--runs must be at least 2 (got %d)" % opts.runs)
    if not os.access(opts.driver, os.X_OK):
        ap.error("--driver %s is not an executable file (build it first: make build)" % opts.driver)

    os.makedirs(opts.work, exist_ok=True)
    scratch = os.path.join(opts.work, "current")
    baseline = None
    baseline_rc = None
    differing = 0
    start = time.monotonic()
    for i in range(1, opts.runs + 1):
        shutil.rmtree(scratch, ignore_errors=True)
        cmd = [opts.driver, "--only", opts.only, "--report-dir", scratch] + opts.extra
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        report = os.path.join(scratch, "report.json")
        if not os.path.exists(report):
            print("run %d: no report.json (exit %d)" % (i, proc.returncode))
            sys.stdout.write(proc.stdout.decode("utf-8", "replace")[-2000:])
            return 1
        got = results_of(report)
        if baseline is None:
            baseline, baseline_rc = got, proc.returncode
            counts = {}
            for _, _, status in got:
                counts[status] = counts.get(status, 0) + 1
            print("run 1: baseline, exit %d, %s" % (
                proc.returncode, ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items()))))
            continue
        if got != baseline or proc.returncode != baseline_rc:
            differing += 1
            keep = os.path.join(opts.work, "run-%d" % i)
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(scratch, keep)
            with open(os.path.join(keep, "output.txt"), "wb") as f:
                f.write(proc.stdout)
            print("run %d: DIFFERENT (exit %d); kept in %s" % (i, proc.returncode, keep))
            for t, roles, status in sorted(got - baseline):
                print("    now  %s %s %s" % (status, t, roles))
            for t, roles, status in sorted(baseline - got):
                print("    was  %s %s %s" % (status, t, roles))
        elif i % 25 == 0:
            print("run %d: same (%.0f s so far)" % (i, time.monotonic() - start))
    print("repeat: %d runs of %s, %d differing from the first; %.0f s" % (
        opts.runs, opts.only, differing, time.monotonic() - start))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
