#!/usr/bin/env python3
"""Tests of check_report.py on small made-up reports (CTest conformance.check_report).

Standard library only: python3 conformance/tools/test_check_report.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_report  # noqa: E402


def report(implementations, results, requirements=None):
    return {
        "format": "npipe-conformance-report", "format_version": 1, "run_info": {},
        "implementations": implementations,
        "requirements": requirements or [
            {"id": "A-1", "strength": "MUST", "profile": "fifo", "platforms": "all"},
            {"id": "A-2", "strength": "MUST", "profile": "fifo", "platforms": "posix"},
            {"id": "A-3", "strength": "SHOULD", "profile": "fifo", "platforms": "all"},
            {"id": "B-1", "strength": "MUST", "profile": "channel", "platforms": "windows"},
        ],
        "results": results,
    }


def impl(name, reference=False, error="", platform="linux", profiles=("fifo",)):
    return {"name": name, "reference": reference, "error": error, "platform": platform,
            "profiles": list(profiles)}


def run(reqs, roles, status="PASS", expected="PASS", message=""):
    unexpected = (status not in ("PASS", "N/A", "SKIP")) if expected == "PASS" else status != expected
    return {"test": "t", "requirements": reqs, "roles": roles, "status": status,
            "expected": expected, "unexpected": unexpected, "message": message}


class ColumnResults(unittest.TestCase):
    def test_a_column_with_passing_runs_has_results(self):
        r = report([impl("x")], [run(["A-1"], {"agent": "x"}), run(["A-1"], {"agent": "x"}, "SKIP")])
        ok, line = check_report.column_summary(r, "x")
        self.assertTrue(ok)
        self.assertIn("1 PASS", line)

    def test_not_run_not_started_absent_or_no_pass_has_none(self):
        r = report([impl("x", error="NOT RUN (wine is missing)"), impl("y")],
                   [run(["A-1"], {"agent": "y"}, "SKIP")])
        self.assertEqual(check_report.column_summary(r, "x"),
                         (False, "x: NO RESULTS (NOT RUN (wine is missing))"))
        self.assertFalse(check_report.column_summary(r, "y")[0])
        self.assertFalse(check_report.column_summary(r, "z")[0])


class Levels(unittest.TestCase):
    def test_every_must_passed_and_every_should_checked_is_complete(self):
        r = report([impl("x")], [run(["A-1", "A-2", "A-3"], {"agent": "x"})])
        self.assertEqual(check_report.levels(r, "x")[0], {"fifo": "complete"})

    def test_an_unchecked_or_failed_should_leaves_conforms(self):
        r = report([impl("x")], [run(["A-1", "A-2"], {"agent": "x"})])
        self.assertEqual(check_report.levels(r, "x")[0], {"fifo": "conforms"})
        r["results"].append(run(["A-3"], {"agent": "x"}, "FAIL"))
        self.assertEqual(check_report.levels(r, "x")[0], {"fifo": "conforms"})

    def test_a_failed_must_even_a_known_one_does_not_conform(self):
        r = report([impl("x")], [run(["A-1"], {"agent": "x"}, "FAIL", "FAIL")])
        found, lines = check_report.levels(r, "x")
        self.assertEqual(found, {"fifo": "does not conform"})
        self.assertIn("A-1 (FAIL)", lines[0])

    def test_unsupported_on_a_must_does_not_conform_but_a_partners_does_not_count(self):
        mine = run(["A-1"], {"owner": "x", "peer": "ref"}, "N/A",
                   message="owner (x) does not support open: ...")
        theirs = run(["A-2"], {"owner": "x", "peer": "ref"}, "N/A",
                     message="peer (ref) does not support open: ...")
        r = report([impl("x"), impl("ref", reference=True)], [theirs, run(["A-1"], {"agent": "x"})])
        self.assertEqual(check_report.levels(r, "x")[0], {"fifo": "conforms"})
        r["results"].append(mine)
        self.assertEqual(check_report.levels(r, "x")[0], {"fifo": "does not conform"})

    def test_a_missing_profile_or_a_skip_counts_for_nothing(self):
        r = report([impl("x")], [
            run(["A-1"], {"agent": "x"}, "N/A", message="x does not offer the fifo profile"),
            run(["A-2"], {"agent": "x"}, "SKIP")])
        found, lines = check_report.levels(r, "x")
        self.assertEqual(found, {"fifo": "not checked"})
        self.assertIn("3 unchecked", lines[0])

    def test_a_run_speaks_for_the_implementation_under_test_not_its_reference(self):
        r = report([impl("ref", reference=True), impl("y"), impl("z")],
                   [run(["A-1"], {"owner": "ref", "peer": "y"}, "FAIL"),
                    run(["A-1"], {"agent": "ref"}), run(["A-1"], {"agent": "z"}),
                    run(["A-1"], {"owner": "z", "peer": "y"}, "FAIL")])  # --matrix
        self.assertEqual(check_report.levels(r, "ref")[0], {"fifo": "conforms"})
        self.assertEqual(check_report.levels(r, "y")[0], {"fifo": "does not conform"})
        self.assertEqual(check_report.levels(r, "z")[0], {"fifo": "conforms"})

    def test_requirements_of_other_platforms_do_not_apply(self):
        r = report([impl("w", platform="windows", profiles=("fifo", "channel"))],
                   [run(["A-1", "A-3"], {"agent": "w"}), run(["A-2"], {"agent": "w"}, "FAIL")])
        found, _ = check_report.levels(r, "w")
        self.assertEqual(found["fifo"], "complete")  # A-2 is posix only
        self.assertEqual(found["channel"], "not checked")  # B-1, its only requirement, has no run


class CommandLine(unittest.TestCase):
    def test_exit_status_and_github_output(self):
        r = report([impl("x"), impl("w", error="NOT RUN (wine is missing)")],
                   [run(["A-1", "A-2", "A-3"], {"agent": "x"})])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "report.json")
            out = os.path.join(d, "out")
            with open(path, "w") as f:
                json.dump(r, f)
            tool = [sys.executable, os.path.join(HERE, "check_report.py"), path]
            ok = subprocess.run(tool + ["--require-results", "x", "--levels", "x",
                                        "--github-output", out], stdout=subprocess.PIPE)
            self.assertEqual(ok.returncode, 0)
            with open(out) as f:
                self.assertEqual(f.read(), 'level-fifo=complete\nlevels={"fifo": "complete"}\n')
            bad = subprocess.run(tool + ["--require-results", "w"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            self.assertEqual(bad.returncode, 1)
            self.assertIn(b"COLUMN WITHOUT RESULTS: w", bad.stderr)
            with open(path, "w") as f:
                f.write("{}")
            self.assertEqual(subprocess.run(tool, stderr=subprocess.DEVNULL).returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=1)
