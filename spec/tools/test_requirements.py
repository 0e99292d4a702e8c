"""Tests of the requirement registry and its checker, on small fixture trees.

    /usr/bin/python3 -m pytest -q spec/tools/test_requirements.py

Standard library plus pytest. Each test builds a tiny repository (spec/, reference/, conformance/,
harness/) in a temporary directory and runs the checker on it as `make test` does, in a subprocess.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parents[1]
CHECK = TOOLS / "check_requirements.py"
REGISTRY = TOOLS / "requirements.py"

sys.dont_write_bytecode = True
sys.path.insert(0, str(TOOLS))
import requirements as registry  # noqa: E402

SPEC = """\
# Fixture spec

## Things
**FOO-OPEN-1** [MUST] [fifo] [all] — Opening works.
Body of FOO-OPEN-1.
Rationale: a fixture.

**FOO-OPEN-2** [SHOULD] [fifo, channel] [posix] — Opening is quick.

**FOO-OPEN-3** [PLATFORM-DEFINED] [channel] [linux, windows] — It depends.
Allowed outcomes: (a) this; (b) that.

**FOO-OLD-1** [WITHDRAWN] [fifo] [all] — Replaced by FOO-OPEN-1.

```
**NOT-A-REQ-1** [bogus] inside a code fence is ignored
```
"""

TESTED = 'NPIPE_SCENARIO(g, n, "FOO-OPEN-1", "fifo", "agent", "t") {}\n'


def make_tree(tmp_path, spec=SPEC, files=None):
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "npipe.md").write_text(spec, encoding="utf-8")
    if files is None:
        files = {"conformance/scenarios/foo.cpp": TESTED}
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def run_check(root, *args):
    r = subprocess.run([sys.executable, str(CHECK), "--root", str(root), *args],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_clean_tree_passes(tmp_path):
    root = make_tree(tmp_path)
    rc, out = run_check(root)
    assert rc == 0, out
    assert "requirements: 4, MUST: 1, tested: 1" in out


def test_parse_fields():
    reqs, problems = registry.parse_text(SPEC, "npipe.md")
    assert problems == []
    by_id = {r.id: r for r in reqs}
    assert set(by_id) == {"FOO-OPEN-1", "FOO-OPEN-2", "FOO-OPEN-3", "FOO-OLD-1"}
    assert by_id["FOO-OPEN-2"].profiles == ("fifo", "channel")
    assert by_id["FOO-OPEN-3"].platforms == ("linux", "windows")
    assert by_id["FOO-OPEN-3"].strength == "PLATFORM-DEFINED"
    assert "Rationale: a fixture." in by_id["FOO-OPEN-1"].body
    assert by_id["FOO-OPEN-1"].line == 4


def test_duplicate_id_fails(tmp_path):
    spec = SPEC + "\n**FOO-OPEN-2** [MAY] [fifo] [all] — Again.\n"
    rc, out = run_check(make_tree(tmp_path, spec))
    assert rc == 1
    assert "duplicate ID FOO-OPEN-2" in out


def test_duplicate_across_files_fails(tmp_path):
    root = make_tree(tmp_path)
    (root / "spec" / "chapter.md").write_text("**FOO-OPEN-1** [MAY] [fifo] [all] — Twice.\n")
    rc, out = run_check(root)
    assert rc == 1 and "duplicate ID FOO-OPEN-1" in out


@pytest.mark.parametrize("line, what", [
    ("**foo-open-9** [MUST] [fifo] [all] — Lower case.", "malformed ID"),
    ("**FOO-OPEN** [MUST] [fifo] [all] — No number.", "malformed ID"),
    ("**FOO-OPEN-0** [MUST] [fifo] [all] — Number zero.", "malformed ID"),
    ("**FOO-OPEN-9** [REQUIRED] [fifo] [all] — Bad strength.", "unknown strength"),
    ("**FOO-OPEN-9** [MUST] [pipes] [all] — Bad profile.", "bad profiles"),
    ("**FOO-OPEN-9** [MUST] [fifo] [all, linux] — All is alone.", "bad platforms"),
    ("**FOO-OPEN-9** [MUST] [fifo] [solaris] — Bad platform.", "bad platforms"),
    ("**FOO-OPEN-9** [MUST] [fifo] [all] - Hyphen, not an em dash.", "malformed requirement line"),
    ("**FOO-OPEN-9** [MUST] [fifo] — Platforms missing.", "malformed requirement line"),
])
def test_malformed_line_fails(tmp_path, line, what):
    rc, out = run_check(make_tree(tmp_path, SPEC + "\n" + line + "\n"))
    assert rc == 1, out
    assert what in out


def test_dangling_citation_in_reference_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED,
             "reference/tests/bar_test.cpp": "// NPIPE_REQ: FOO-OPEN-1 FOO-OPEN-7\n"}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1
    assert "reference/tests/bar_test.cpp:1: cites unknown requirement FOO-OPEN-7" in out


def test_dangling_scenario_string_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp":
             TESTED + 'NPIPE_SCENARIO(g, n, "FOO-OPEN-1 FOO-OPN-2", "fifo", "owner peer", "UTF-8 text") {}\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1
    assert "cites unknown requirement FOO-OPN-2" in out
    assert "UTF-8" not in out  # not an ID family of the spec: not a citation


def test_dangling_pytest_mark_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED,
             "harness/test_x.py": '@pytest.mark.req("FOO-OPEN-1", "FOO-OPEN-99")\ndef test_a(): pass\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1
    assert "harness/test_x.py:1: cites unknown requirement FOO-OPEN-99" in out


def test_malformed_pytest_mark_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED,
             "harness/test_x.py": '@pytest.mark.req("opening works")\ndef test_a(): pass\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "malformed requirement citation" in out


def test_harness_req_keyword_is_read(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED,
             "harness/test_x.py": 'CASES = [dict(req=("FOO-OPEN-2",)), dict(req=["FOO-OPEN-5"])]\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1
    assert "cites unknown requirement FOO-OPEN-5" in out
    assert "FOO-OPEN-2" not in out.replace("requirements:", "")


def test_withdrawn_citation_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED + "// NPIPE_REQ: FOO-OLD-1\n"}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "cites withdrawn requirement FOO-OLD-1" in out


def test_untested_must_fails(tmp_path):
    rc, out = run_check(make_tree(tmp_path, files={}))
    assert rc == 1
    assert "requirements: 4, MUST: 1, tested: 0" in out
    assert "FOO-OPEN-1" in out and "have no conformance scenario" in out


def test_untested_must_is_a_warning_with_flag(tmp_path):
    rc, out = run_check(make_tree(tmp_path, files={}), "--allow-untested-must")
    assert rc == 0, out
    assert "warning: 1 MUST requirement(s) on POSIX have no conformance scenario" in out


def test_must_cited_outside_conformance_is_untested(tmp_path):
    files = {"reference/tests/a_test.cpp": TESTED, "harness/test_a.py": '@pytest.mark.req("FOO-OPEN-1")\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "tested: 0" in out


def test_scenario_string_counts_as_test(tmp_path):
    files = {"conformance/scenarios/foo.cpp":
             'NPIPE_SCENARIO(fifo_open, blocks, "FOO-OPEN-1", "fifo", "owner peer", "x") {}\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 0, out
    assert "tested: 1" in out


def test_scenario_ids_are_the_third_argument_wherever_lines_break(tmp_path):
    files = {"conformance/scenarios/foo.cpp":
             'NPIPE_SCENARIO(fifo_open, blocks,\n'
             '               "FOO-OPEN-1", "fifo", "owner peer", needs::posix("x (FOO-OPEN-77)"),\n'
             '               "a title naming FOO-OPEN-99") {}\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 0, out
    assert "tested: 1" in out
    assert "FOO-OPEN-99" not in out and "FOO-OPEN-77" not in out  # titles and needs cite nothing


def test_scenario_without_ids_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp":
             TESTED + 'NPIPE_SCENARIO(g, n, "", "fifo", "agent", "x") {}\n'}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "NPIPE_SCENARIO names no requirement ID" in out


def test_mutant_tags_must_exist_and_are_not_tests(tmp_path):
    files = {"conformance/mutants/a.mut": "tags: FOO-OPEN-1 FOO-OPEN-8\n"}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1
    assert "conformance/mutants/a.mut:1: cites unknown requirement FOO-OPEN-8" in out
    assert "tested: 0" in out


POSIX_ONLY_BY_LIBRARY = SPEC.replace(
    "Body of FOO-OPEN-1.",
    "Body of FOO-OPEN-1.\nNot observable through the driver protocol: it is internal.")
LIB_TEST = {"reference/tests/a_test.cpp": "// NPIPE_REQ: FOO-OPEN-1\nTEST(x, y) {}\n"}


def test_posix_must_needs_a_scenario_not_a_library_test(tmp_path):
    rc, out = run_check(make_tree(tmp_path, POSIX_ONLY_BY_LIBRARY, files=LIB_TEST))
    assert rc == 1, out
    assert "MUST requirement(s) on POSIX have no conformance scenario" in out
    assert "FOO-OPEN-1" in out


def test_posix_must_without_black_box_test_is_documented(tmp_path):
    spec = SPEC.replace("Body of FOO-OPEN-1.",
                        "Body of FOO-OPEN-1.\nNo black-box test: it is internal. "
                        "Implementations document: how they do it.")
    rc, out = run_check(make_tree(tmp_path, spec, files={}))
    assert rc == 0, out
    assert "no black-box test (documented instead, section 3.1): 1 (FOO-OPEN-1)" in out


def test_no_black_box_without_what_is_documented_fails(tmp_path):
    spec = SPEC.replace("Body of FOO-OPEN-1.", "Body of FOO-OPEN-1.\nNo black-box test: internal.")
    rc, out = run_check(make_tree(tmp_path, spec, files={}))
    assert rc == 1 and "on POSIX have no conformance scenario" in out


def test_windows_must_may_rest_on_library_tests(tmp_path):
    spec = POSIX_ONLY_BY_LIBRARY.replace("**FOO-OPEN-1** [MUST] [fifo] [all]",
                                         "**FOO-OPEN-1** [MUST] [fifo] [windows]")
    rc, out = run_check(make_tree(tmp_path, spec, files=LIB_TEST))
    assert rc == 0, out
    assert "tested by the library's tests: FOO-OPEN-1" in out


def test_examples_in_comments_are_not_citations(tmp_path):
    files = {"conformance/driver/scenario.hpp":
             "//   // NPIPE_REQ: FOO-OPEN-1\n"
             '//   NPIPE_SCENARIO(g, n, "FOO-OPEN-1", "fifo", "owner peer", "x") {\n'
             "#define NPIPE_X 1\n"}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "tested: 0" in out


def test_empty_npipe_req_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED + "// NPIPE_REQ: see above\n"}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "NPIPE_REQ: names no requirement ID" in out


def test_expectation_with_unknown_id_fails(tmp_path):
    files = {"conformance/scenarios/foo.cpp": TESTED,
             "conformance/expectations/cpython.txt": "# known deviations\nfoo.*  FAIL  FOO-OPEN-8  because\n"}
    rc, out = run_check(make_tree(tmp_path, files=files))
    assert rc == 1 and "cites unknown requirement FOO-OPEN-8" in out


def test_spec_mentioning_unknown_id_fails(tmp_path):
    rc, out = run_check(make_tree(tmp_path, SPEC + "\nSee FOO-OPEN-12 for more; CVE-2022-42919 is fine.\n"))
    assert rc == 1
    assert "mentions unknown requirement FOO-OPEN-12" in out
    assert "CVE" not in out


def test_json_output(tmp_path):
    root = make_tree(tmp_path)
    out = tmp_path / "out" / "reqs.json"
    r = subprocess.run([sys.executable, str(REGISTRY), "--root", str(root), "--json", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert [d["id"] for d in data] == ["FOO-OPEN-1", "FOO-OPEN-2", "FOO-OPEN-3", "FOO-OLD-1"]
    assert data[1] == {"id": "FOO-OPEN-2", "strength": "SHOULD", "profiles": ["fifo", "channel"],
                       "platforms": ["posix"], "title": "Opening is quick."}


# The real spec: well formed, and no requirement ID that code already cited has disappeared.
ORIGINAL_IDS = """
CHAN-ACCEPT-1 CHAN-ACCEPT-2 CHAN-AUTH-1 CHAN-AUTH-2 CHAN-AUTH-3 CHAN-AUTH-4 CHAN-AUTH-5 CHAN-AUTH-6
CHAN-AUTH-7 CHAN-AUTH-8 CHAN-AUTH-9 CHAN-CONNECT-1 CHAN-CONNECT-2 CHAN-EOF-1 CHAN-EOF-2 CHAN-EOF-3
CHAN-FRAME-1 CHAN-FRAME-2 CHAN-FRAME-3 CHAN-FRAME-4 CHAN-FRAME-5 CHAN-LIFE-1 CHAN-LIFE-2
CHAN-LISTEN-1 CHAN-LISTEN-2 CHAN-LISTEN-3 CHAN-LISTEN-4 CHAN-LISTEN-5 CHAN-RECV-1 CHAN-RECV-2
ERR-1 ERR-2 ERR-3 FIFO-CREATE-1 FIFO-CREATE-2 FIFO-CREATE-3 FIFO-CREATE-4 FIFO-EOF-1 FIFO-EOF-2
FIFO-EOF-3 FIFO-IO-1 FIFO-IO-2 FIFO-IO-3 FIFO-IO-4 FIFO-LIFE-1 FIFO-LIFE-2 FIFO-LIFE-3 FIFO-OPEN-1
FIFO-OPEN-2 FIFO-OPEN-3 FIFO-OPEN-4 FIFO-OPEN-5 FIFO-OPEN-6 FIFO-OPEN-7 FIFO-OPEN-8 FIFO-OPEN-9
FIFO-PIPE-1 FIFO-PIPE-2 FIFO-REMOVE-1 FIFO-REMOVE-2 FIFO-REMOVE-3 FIFO-REMOVE-4 FIFO-SEC-1
FIFO-SEC-2 FIFO-SEC-3 NAME-1 NAME-2 NAME-3
""".split()


def test_real_spec_is_well_formed_and_keeps_every_id():
    reg = registry.load(REPO)
    assert [str(p) for p in reg.problems] == []
    missing = [i for i in ORIGINAL_IDS if i not in reg.by_id]
    assert missing == [], "requirement IDs are never deleted or renamed (mark them WITHDRAWN)"
    for r in reg.unique():
        assert r.body.strip(), f"{r.id} has no body"
        assert "Rationale:" in r.body, f"{r.id} has no Rationale: line"
        if r.strength == "PLATFORM-DEFINED":
            assert "Allowed outcomes" in r.body, f"{r.id} does not list its allowed outcomes"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_summary_counts_unverified_marks(tmp_path):
    spec = SPEC + "\nA fact (**unverified**). Another, unverified too. `unverified` in code is not one.\n"
    rc, out = run_check(make_tree(tmp_path, spec=spec))
    assert rc == 0, out
    assert "requirements: 4, MUST: 1, tested: 1, unverified: 2" in out


def test_source_keys_must_be_defined_in_sources(tmp_path):
    spec = SPEC + "\nA fact ([XSH-open]), another ([MS-Nowhere]).\n\n## 13. Sources\n- [XSH-open]: a page\n"
    rc, out = run_check(make_tree(tmp_path, spec=spec))
    assert rc == 1
    assert "cites source [MS-Nowhere]" in out and "[XSH-open]," not in out
