"""Tests of spec/tools/errors_table.py and spec/tools/vectors.py: the real files pass, and a
corrupted copy of each is caught (so `make test-spec` can fail)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parents[1]


def run(tool, root, *args):
    r = subprocess.run([sys.executable, str(TOOLS / tool), "--root", str(root), *args],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def copy_spec(tmp_path):
    shutil.copytree(ROOT / "spec", tmp_path / "spec", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_repository_files_pass():
    assert run("errors_table.py", ROOT, "--check")[0] == 0
    assert run("vectors.py", ROOT, "--check")[0] == 0


def test_a_changed_mapping_makes_section_5_1_stale(tmp_path):
    root = copy_spec(tmp_path)
    p = root / "spec" / "errors.json"
    doc = json.loads(p.read_text())
    doc["maps"][0]["when"] += " (changed)"
    p.write_text(json.dumps(doc))
    rc, out = run("errors_table.py", root, "--check")
    assert rc == 1 and "section 5.1 differs" in out
    assert run("errors_table.py", root, "--write")[0] == 0
    assert run("errors_table.py", root, "--check")[0] == 0


def test_an_unknown_portable_error_or_source_is_refused(tmp_path):
    root = copy_spec(tmp_path)
    p = root / "spec" / "errors.json"
    doc = json.loads(p.read_text())
    doc["maps"][0]["portable"] = "no_such_error"
    doc["maps"][1]["source"] = "[Nowhere-page]"
    p.write_text(json.dumps(doc))
    rc, out = run("errors_table.py", root, "--check")
    assert rc == 1 and "no_such_error is neither" in out and "[Nowhere-page]" in out


def test_a_wrong_byte_in_a_vector_is_caught(tmp_path):
    root = copy_spec(tmp_path)
    p = root / "spec" / "vectors" / "handshake.json"
    doc = json.loads(p.read_text())
    answer = doc["responder"][0]["answer_hex"]
    doc["responder"][0]["answer_hex"] = ("0" if answer[0] != "0" else "1") + answer[1:]
    p.write_text(json.dumps(doc))
    rc, out = run("vectors.py", root, "--check")
    assert rc == 1 and "responder" in out
    p = root / "spec" / "vectors" / "framing.json"
    doc = json.loads(p.read_text())
    case = next(c for c in doc["cases"] if c["name"] == "EOF after a complete header")
    case["result"] = {"messages_hex": [], "then": "eof"}
    p.write_text(json.dumps(doc))
    rc, out = run("vectors.py", root, "--check")
    assert rc == 1 and "EOF after a complete header" in out
