"""pytest configuration of the npipe Python harness.

Run:  /usr/bin/python3 -m pytest harness [--interpreters=3.9,3.12|/path/python3,...]
                                          [--npipe-bin-dir=DIR] [--test-timeout=SECONDS]
Writes build/harness/junit.xml (unless --junitxml is given) and ends with a table of
interpreters x checks. Interpreters: see npipe_harness/interpreters.py.
"""
import json
import os
import re
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from npipe_harness import interpreters as _interp  # noqa: E402
from npipe_harness.env import REPO, Env, npipe_bin_dir  # noqa: E402

SPEC = os.path.join(REPO, "spec", "npipe.md")
FACTS = os.path.join(REPO, "build", "harness", "cpython-facts.json")
GROUPS = {"test_agents": "agents", "test_fifo_interop": "fifo", "test_fifo_cli": "fifo",
          "test_channel_interop": "channel", "test_handshake": "auth", "test_vectors": "auth", "test_interpreters": "setup"}


def pytest_addoption(parser):
    g = parser.getgroup("npipe")
    g.addoption("--interpreters", default=None,
                help="comma-separated interpreter paths or versions (3.9); default: discover")
    g.addoption("--npipe-bin-dir", default=None,
                help="directory of npipe and npipe-agent (default: $NPIPE_BIN_DIR or build/posix/bin)")
    g.addoption("--test-timeout", type=float, default=180.0,
                help="watchdog per test, in seconds (a test that takes longer fails)")


def spec_ids():
    try:
        with open(SPEC, encoding="utf-8") as f:
            return set(re.findall(r"^\*\*([A-Z][A-Z0-9-]+)\*\*", f.read(), re.M))
    except OSError:
        return set()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "req(*ids): requirement IDs of spec/npipe.md this test checks")
    config.addinivalue_line("markers", "watchdog(seconds): a longer watchdog for this test")
    if not getattr(config.option, "xmlpath", None):
        out = os.path.join(REPO, "build", "harness")
        os.makedirs(out, exist_ok=True)
        config.option.xmlpath = os.path.join(out, "junit.xml")
    running, notes = _interp.discover(config.getoption("--interpreters"))
    config._npipe_interps = running
    config._npipe_notes = notes
    config._npipe_results = {}


def pytest_report_header(config):
    lines = ["npipe binaries: %s" % npipe_bin_dir(config.getoption("--npipe-bin-dir")),
             "interpreters:"]
    lines += ["  %-50s %s" % n for n in config._npipe_notes]
    return lines


def pytest_generate_tests(metafunc):
    if "interp" in metafunc.fixturenames:
        interps = metafunc.config._npipe_interps
        metafunc.parametrize("interp", interps, ids=[i.id for i in interps])


def pytest_collection_modifyitems(session, config, items):
    known = spec_ids()
    bad = []
    for item in items:
        for mark in item.iter_markers("req"):
            bad += ["%s: %s" % (item.nodeid, i) for i in mark.args if i not in known]
    if bad:
        raise pytest.UsageError("requirement IDs not in spec/npipe.md:\n  " + "\n  ".join(sorted(set(bad))))


class Watchdog(Exception):
    pass


@pytest.fixture
def env(request):
    """A private directory and process registry; everything is removed and killed afterwards."""
    e = Env(npipe_bin_dir(request.config.getoption("--npipe-bin-dir")), request)
    mark = request.node.get_closest_marker("watchdog")
    seconds = int(mark.args[0]) if mark else int(request.config.getoption("--test-timeout"))

    def fire(signum, frame):
        raise Watchdog("watchdog: test still running after %ds" % seconds)

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield e
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        e.close()


# -- the summary table: interpreters x checks -----------------------------------------------
def _row_col(item_nodeid, item):
    module = item_nodeid.split("::")[0].rsplit("/", 1)[-1].replace(".py", "")
    col = GROUPS.get(module, module)
    m = re.search(r"\[(?:[^\]]*-)?(py\d+\.\d+)(?:-[^\]]*)?\]", item_nodeid)
    return (m.group(1) if m else "(none)"), col


def pytest_runtest_logreport(report):
    config = _CONFIG[0]
    if config is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed") or \
            (report.when == "teardown" and report.outcome == "failed"):
        row, col = _row_col(report.nodeid, None)
        cell = config._npipe_results.setdefault((row, col), {})
        prev = cell.get(report.nodeid)
        if prev == "failed":
            return
        cell[report.nodeid] = report.outcome


_CONFIG = [None]


def pytest_sessionstart(session):
    _CONFIG[0] = session.config
    try:
        os.unlink(FACTS)  # written afresh by test_handshake.py::test_cpython_facts
    except OSError:
        pass


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = getattr(config, "_npipe_results", {})
    tr = terminalreporter
    tr.section("npipe harness: interpreters x checks (passed/total, F=failed, s=skipped)")
    for label, status in config._npipe_notes:
        tr.write_line("  %-50s %s" % (label, status))
    rows = sorted({r for r, _ in results}, key=lambda r: (r == "(none)", [int(x) for x in re.findall(r"\d+", r)]))
    cols = sorted({c for _, c in results})
    if not rows:
        return
    tr.write_line("")
    tr.write_line("  %-8s" % "" + "".join("%-16s" % c for c in cols))
    for r in rows:
        line = "  %-8s" % r
        for c in cols:
            cell = results.get((r, c), {})
            if not cell:
                line += "%-16s" % "-"
                continue
            n = len(cell)
            p = sum(1 for o in cell.values() if o == "passed")
            f = sum(1 for o in cell.values() if o == "failed")
            s = sum(1 for o in cell.values() if o == "skipped")
            text = "%d/%d" % (p, n) + (" %dF" % f if f else "") + (" %ds" % s if s else "")
            line += "%-16s" % text
        tr.write_line(line)
    try:
        with open(FACTS) as f:
            facts = json.load(f)
    except (OSError, ValueError):
        facts = {}
    if facts:
        tr.write_line("")
        tr.write_line("  CPython facts observed (%s):" % FACTS)
        keys = sorted({k for v in facts.values() for k in v if not k.endswith("_valid")})
        for version in sorted(facts, key=lambda v: [int(x) for x in v.split(".")]):
            tr.write_line("    %-8s " % version + ", ".join("%s=%s" % (k, facts[version].get(k)) for k in keys))
    tr.write_line("  junit: %s" % config.option.xmlpath)
