#!/usr/bin/env python3
"""The conformance suite's self-test: a suite that cannot catch these is not a conformance suite.

Runs npipe-conformance against deliberately wrong agents (bad_*.py, each breaking ONE rule) and
asserts that each is flagged with an unexpected result citing the right requirement IDs; runs the
same scenarios against the unbroken agent they derive from and asserts those IDs pass there, so
the failure comes from the defect and not from the scenario. Two more agents check the driver
itself: garbage on stdout must be reported as PROTOCOL, a hang as TIMEOUT with nothing left alive.

    python3 run_selftest.py --driver build/bin/npipe-conformance --work build/selftest

Standard library only. Exit status 0 when every check holds.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
AGENTS = os.path.normpath(os.path.join(HERE, "..", "..", "harness", "agents"))
PY = "/usr/bin/python3"

# name: (script, base agent, scenario filters, requirement IDs that must be flagged, status)
BAD = {
    "bad-open-nonblocking": ("bad_open_nonblocking.py", "cpython_fifo", ["fifo_open.*"],
                             ["FIFO-OPEN-1", "FIFO-OPEN-2"], None),
    "bad-eof-error": ("bad_eof_error.py", "cpython_fifo", ["fifo_eof.*"], ["FIFO-EOF-1"], None),
    "bad-sigpipe": ("bad_sigpipe.py", "cpython_fifo", ["fifo_eof.*"], ["FIFO-PIPE-1"], "CRASH"),
    "bad-not-fifo": ("bad_not_fifo.py", "cpython_fifo", ["fifo_paths.*"],
                     ["FIFO-OPEN-7", "FIFO-OPEN-8"], None),
    "bad-auth-any": ("bad_auth_any.py", "cpython_connection", ["chan_auth.*", "chan_wire_auth.*"],
                     ["CHAN-AUTH-5"], None),
}
# Driver robustness: (script, filters, status, text the message must contain, extra driver args)
ROBUST = {
    "bad-garbage": ("bad_garbage.py", ["fifo_eof.data_then_eof"], "ERROR", "PROTOCOL", []),
    "bad-hang": ("bad_hang.py", ["fifo_eof.data_then_eof"], "TIMEOUT", "did not answer",
                 ["--step-timeout", "1500"]),
}


def run(driver, work, name, command, filters, extra=()):
    report_dir = os.path.join(work, name)
    args = [driver, "--impl", "%s=%s" % (name, command), "--only", name, "--no-cpython",
            "--report-dir", report_dir]
    for f in filters:
        args += ["--filter", f]
    args += list(extra)
    t0 = time.monotonic()
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    took = time.monotonic() - t0
    try:
        with open(os.path.join(report_dir, "report.json")) as f:
            report = json.load(f)
        # A CI system reads junit.xml: a bad agent's bytes must not make it malformed.
        xml.etree.ElementTree.parse(os.path.join(report_dir, "junit.xml"))
    except (OSError, ValueError, xml.etree.ElementTree.ParseError):
        report = None
    return p.returncode, report, p.stdout.decode(errors="replace"), took


def flagged(report, impl):
    """{requirement: [statuses]} of the unexpected results in which `impl` plays a role."""
    out = {}
    for r in report["results"]:
        if r["unexpected"] and impl in r["roles"].values():
            for q in r["requirements"]:
                out.setdefault(q, []).append(r["status"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", help="run only this bad agent")
    opts = ap.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    problems = []
    controls = {}

    for name, (script, base, filters, reqs, status) in sorted(BAD.items()):
        if opts.only and name != opts.only:
            continue
        cmd = "%s %s" % (PY, os.path.join(HERE, script))
        rc, report, out, took = run(opts.driver, opts.work, name, cmd, filters)
        if report is None:
            problems.append("%s: no report (exit %d)\n%s" % (name, rc, out[-2000:]))
            continue
        got = flagged(report, name)
        missing = [q for q in reqs if q not in got]
        print("%-22s exit %d, %.1f s, flagged: %s" % (name, rc, took, " ".join(sorted(got)) or "-"))
        if rc != 1:
            problems.append("%s: the suite exited %d, not 1" % (name, rc))
        if missing:
            problems.append("%s: not flagged against %s" % (name, " ".join(missing)))
        if status and not any(status in got.get(q, []) for q in reqs):
            problems.append("%s: expected a %s result against %s, got %s"
                            % (name, status, " ".join(reqs), got))
        # The control: the unbroken agent, same scenarios, must not fail these requirements.
        key = (base, tuple(filters))
        if key not in controls:
            control = "control-" + base.replace("_", "-")
            crc, creport, cout, ctook = run(opts.driver, opts.work, control + "-" + name,
                                            "%s %s" % (PY, os.path.join(AGENTS, base + ".py")),
                                            filters)
            controls[key] = flagged(creport, control + "-" + name) if creport else None
            if creport is None:
                problems.append("%s: control run gave no report\n%s" % (name, cout[-2000:]))
        cgot = controls[key]
        if cgot is not None:
            wrong = [q for q in reqs if q in cgot]
            if wrong:
                problems.append("%s: the unbroken %s fails %s too: the scenario, not the defect, "
                                "is flagged" % (name, base, " ".join(wrong)))

    for name, (script, filters, status, text, extra) in sorted(ROBUST.items()):
        if opts.only and name != opts.only:
            continue
        cmd = "%s %s" % (PY, os.path.join(HERE, script))
        rc, report, out, took = run(opts.driver, opts.work, name, cmd, filters, extra)
        if report is None:
            problems.append("%s: no report (exit %d)\n%s" % (name, rc, out[-2000:]))
            continue
        mine = [r for r in report["results"] if name in r["roles"].values()]
        statuses = sorted({r["status"] for r in mine})
        print("%-22s exit %d, %.1f s, statuses: %s" % (name, rc, took, " ".join(statuses)))
        if rc != 1:
            problems.append("%s: the suite exited %d, not 1" % (name, rc))
        if not any(r["status"] == status and text in r["message"] for r in mine):
            problems.append("%s: no %s result mentioning %r: %s"
                            % (name, status, text, [(r["status"], r["message"][:200]) for r in mine]))
        # Nothing of the agent may survive the suite: its whole process group was killed.
        ps = subprocess.run(["ps", "-eo", "pid,args"], stdout=subprocess.PIPE).stdout.decode()
        alive = [l for l in ps.splitlines() if script in l and "ps -eo" not in l]
        if alive:
            problems.append("%s: processes left alive: %s" % (name, alive))

    for p in problems:
        print("SELFTEST FAILURE: " + p)
    print("self-test: %s" % ("FAILED" if problems else "all wrong agents caught"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
