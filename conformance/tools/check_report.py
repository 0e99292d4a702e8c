#!/usr/bin/env python3
"""check_report: reads a conformance report.json (spec/driver-protocol.md 9.2) and says, per
implementation, whether its column has results and which conformance level it reached per
profile (spec/npipe.md 3.2). Standard library only: CI runners (Linux, macOS, Windows) have it.

    check_report.py REPORT.json --require-results reference-windows
    check_report.py REPORT.json --levels mine --github-output "$GITHUB_OUTPUT"

--require-results NAME   exit 1 unless NAME took part, started, and has at least one PASS
                         (a column that did not run, or ran nothing, never passes silently)
--levels NAME            print NAME's level per profile it offers; with --github-output also
                         write level-<profile>=<level> and levels=<JSON object> lines there

Levels (spec/npipe.md 3.2), from the runs that speak for NAME: against itself and against a
reference (a run with another implementation under test speaks for that one):
- "does not conform": an applicable MUST or PLATFORM-DEFINED requirement has a run that FAILs
  (or ERROR, TIMEOUT, CRASH), a known deviation included, or one NAME answered `unsupported`;
- "complete": conforms, and every applicable SHOULD has runs and they passed;
- "conforms": otherwise;
- "not checked": no run checked any requirement of the profile (every run SKIP, say).
A requirement is applicable when its profile list names the profile and its platforms include
NAME's platform. A run is N/A only when an agent answered `unsupported` or lacks the profile
(spec/driver-protocol.md 9.1; a platform mismatch is SKIP): the first counts as `unsupported`,
the second ("... does not offer the P profile") for nothing, as SKIP runs do. Requirements no run checked are counted as
"unchecked": the report cannot decide them (the library's tests or a review do).
Exit status: 0, 1 when a --require-results check fails, 2 on a bad report or argument.
"""
import argparse
import json
import sys

FAILING = {"FAIL", "ERROR", "TIMEOUT", "CRASH"}


def applies(platforms, platform):
    for item in (p.strip() for p in platforms.split(",")):
        if item in ("all", platform) or (item == "posix" and platform != "windows"):
            return True
    return not platforms.strip()


def unsupported(run):
    """An N/A the implementation caused by answering `unsupported` (not the platform's doing)."""
    return run["status"] == "N/A" and " does not offer the " not in run.get("message", "")


def runs_of(report, name):
    return [r for r in report["results"] if name in r.get("roles", {}).values()]


def partnered_runs(report, name):
    """NAME's runs against itself and against a reference (spec/driver-protocol.md: X with X, X
    with R, R with X): the runs that speak for NAME. Runs with other implementations under test
    (--matrix, or the reference partnering them) speak for those."""
    refs = {i["name"] for i in report["implementations"] if i.get("reference")}
    return [r for r in runs_of(report, name)
            if all(v == name or v in refs for v in r["roles"].values())]


def blames(run, name):
    """Whether an `unsupported` N/A is NAME's: the driver names the agent that answered it,
    "ROLE (IMPL) does not support ..."; a scenario's own N/A text names none (counted)."""
    m = run.get("message", "")
    others = [v for v in run["roles"].values() if v != name]
    return not any("(%s) does not support" % o in m for o in others)


def column_summary(report, name):
    impl = next((i for i in report["implementations"] if i["name"] == name), None)
    if impl is None:
        return False, "%s: NO RESULTS (it is not in the report: not configured here?)" % name
    if impl.get("error"):
        return False, "%s: NO RESULTS (%s)" % (name, impl["error"])
    runs = runs_of(report, name)
    counts = {}
    for r in runs:
        key = "known" if r["expected"] != "PASS" and not r["unexpected"] else r["status"]
        if r["unexpected"]:
            key = "unexpected " + r["status"]
        counts[key] = counts.get(key, 0) + 1
    text = ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())) or "no runs"
    ok = counts.get("PASS", 0) > 0
    return ok, "%s: %s%s" % (name, text, "" if ok else " (NO PASSING RUN)")


def levels(report, name):
    impl = next((i for i in report["implementations"] if i["name"] == name), None)
    if impl is None or impl.get("error"):
        return {}, ["%s: no level (%s)" % (name, impl["error"] if impl else "not in the report")]
    platform = impl.get("platform", "")
    runs = partnered_runs(report, name)
    out, lines = {}, []
    for profile in impl.get("profiles", []):
        broken, passed_should, failed_should, unchecked, must_passed = [], 0, 0, 0, 0
        unchecked_should = 0
        for q in report["requirements"]:
            if profile not in [p.strip() for p in q["profile"].split(",")]:
                continue
            if q["strength"] not in ("MUST", "PLATFORM-DEFINED", "SHOULD"):
                continue
            if not applies(q["platforms"], platform):
                continue
            mine = [r for r in runs if q["id"] in r["requirements"]]
            counted = [r for r in mine if r["status"] in FAILING or r["status"] == "PASS"
                       or (unsupported(r) and blames(r, name))]
            if not counted:
                unchecked += 1
                unchecked_should += q["strength"] == "SHOULD"
                continue
            bad = [r for r in counted if r["status"] != "PASS"]
            if q["strength"] == "SHOULD":
                failed_should += bool(bad)
                passed_should += not bad
            elif bad:
                why = "unsupported" if all(unsupported(r) for r in bad) else bad[0]["status"]
                broken.append("%s (%s)" % (q["id"], why))
            else:
                must_passed += 1
        if broken:
            level = "does not conform"
        elif must_passed + passed_should + failed_should == 0:
            level = "not checked"  # no run checked any of its requirements
        elif failed_should or unchecked_should:
            level = "conforms"
        else:
            level = "complete"
        out[profile] = level
        detail = "%d MUST/PLATFORM-DEFINED passed, %d SHOULD passed, %d SHOULD not, %d unchecked" % (
            must_passed, passed_should, failed_should, unchecked)
        if broken:
            detail += "; not met: " + ", ".join(broken)
        lines.append("%s %s on %s: %s (%s)" % (name, profile, platform, level, detail))
    return out, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report")
    ap.add_argument("--require-results", action="append", default=[], metavar="NAME")
    ap.add_argument("--levels", metavar="NAME")
    ap.add_argument("--github-output", metavar="FILE")
    a = ap.parse_args()
    try:
        with open(a.report, encoding="utf-8") as f:
            report = json.load(f)
        if report.get("format") != "npipe-conformance-report":
            raise ValueError("not an npipe-conformance-report")
    except (OSError, ValueError) as e:
        print("check_report: cannot read %s: %s" % (a.report, e), file=sys.stderr)
        return 2
    status = 0
    for name in a.require_results:
        ok, line = column_summary(report, name)
        print(line if ok else "COLUMN WITHOUT RESULTS: " + line, file=sys.stdout if ok else sys.stderr)
        status = status or (0 if ok else 1)
    if a.levels:
        found, lines = levels(report, a.levels)
        for line in lines:
            print(line)
        if a.github_output:
            with open(a.github_output, "a", encoding="utf-8") as f:
                for profile, level in sorted(found.items()):
                    f.write("level-%s=%s\n" % (profile, level))
                f.write("levels=%s\n" % json.dumps(found, sort_keys=True))
    return status


if __name__ == "__main__":
    sys.exit(main())
