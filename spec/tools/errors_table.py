#!/usr/bin/env python3
"""spec/errors.json: checks it and keeps section 5.1 of spec/npipe.md generated from it.

    /usr/bin/python3 spec/tools/errors_table.py --check   # as make test does: the file is well
                                                          # formed and section 5.1 matches it
    /usr/bin/python3 spec/tools/errors_table.py --write   # regenerates section 5.1 from the file

Section 5.1's tables sit between the lines `<!-- generated from spec/errors.json: begin -->` and
`<!-- generated from spec/errors.json: end -->`. The schema is in spec/README.md. Standard
library only; Python 3.8+.
"""

import argparse
import json
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- generated from spec/errors.json: begin -->"
END = "<!-- generated from spec/errors.json: end -->"
NATIVE_RE = re.compile(r"^(E[A-Z0-9]+|ERROR_[A-Z0-9_]+|WAIT_TIMEOUT)$")
SOURCE_KEY_RE = re.compile(r"\[([A-Za-z][A-Za-z0-9_.]*(?:-[A-Za-z0-9_.]+)*)\]")
PLATFORM_FAMILY = {"posix": "posix", "linux": "posix", "darwin": "posix", "windows": "windows"}


def load(root: Path) -> dict:
    return json.loads((root / "spec" / "errors.json").read_text(encoding="utf-8"))


def validate(doc: dict, defined_keys) -> list:
    """Every problem of the file, one string each."""
    p = []
    if doc.get("schema") != 1:
        p.append("schema must be 1")
    names = [e.get("name") for e in doc.get("errors", [])]
    if len(set(names)) != len(names):
        p.append("an error name is listed twice")
    for i, e in enumerate(doc.get("errors", []), start=1):
        if e.get("number") != i or e.get("exit") != 9 + i:
            p.append(f"error {e.get('name')}: number must be {i} and exit {9 + i} (ERR-3)")
    vocabulary = set(names) | set(doc.get("outcomes", {}))
    ops, plats = set(doc.get("operations", {})), set(doc.get("platforms", {}))
    for fam, table in doc.get("defaults", {}).items():
        if fam not in ("posix", "windows"):
            p.append(f"defaults: unknown platform family {fam}")
        for native, portable in table.items():
            if not NATIVE_RE.match(native):
                p.append(f"defaults.{fam}: {native} is not a native code name")
            if portable not in names:
                p.append(f"defaults.{fam}.{native}: {portable} is not a portable error")
    seen = set()
    for m in doc.get("maps", []):
        where = f"maps {m.get('op')}/{m.get('platform')}/{m.get('native')}"
        if m.get("op") not in ops:
            p.append(f"{where}: unknown operation")
        if m.get("platform") not in plats:
            p.append(f"{where}: unknown platform")
        if m.get("portable") not in vocabulary:
            p.append(f"{where}: {m.get('portable')} is neither a portable error nor an outcome")
        if not NATIVE_RE.match(m.get("native", "")):
            p.append(f"{where}: not a native code name")
        key = (m.get("op"), m.get("platform"), m.get("native"), m.get("when"))
        if key in seen:
            p.append(f"{where}: listed twice with the same condition")
        seen.add(key)
        fam = PLATFORM_FAMILY.get(m.get("platform"), "")
        if m.get("portable") in names and m.get("native") not in doc.get("defaults", {}).get(fam, {}):
            p.append(f"{where}: not in defaults.{fam} (every error code a backend maps is there)")
        if not m.get("source"):
            p.append(f"{where}: no source")
        for k in SOURCE_KEY_RE.findall(m.get("source", "")):
            if defined_keys is not None and k not in defined_keys:
                p.append(f"{where}: source [{k}] is not defined in spec/npipe.md's Sources")
    return p


def _cell(entries, defaults_for_error):
    parts = []
    for m in entries:
        plat = "" if m["platform"] in ("posix", "windows") else f"{m['platform']}, "
        when = f": {m['when']}" if m["when"] else ""
        parts.append(f"`{m['native']}` ({plat}{m['op']}{when})")
    named = {m["native"] for m in entries}
    rest = [n for n in defaults_for_error if n not in named]
    if rest:
        parts.append("out of context: " + ", ".join(f"`{n}`" for n in rest))
    return "; ".join(parts) if parts else "none"


def render(doc: dict) -> str:
    maps = doc["maps"]
    lines = [BEGIN,
             "| # | portable error | exit | meaning | errno (POSIX) | Win32 | CPython in the same situation |",
             "|---|---|---|---|---|---|---|"]
    for e in doc["errors"]:
        cols = []
        for fam in ("posix", "windows"):
            ent = [m for m in maps if m["portable"] == e["name"] and PLATFORM_FAMILY[m["platform"]] == fam]
            dflt = [n for n, v in doc["defaults"][fam].items() if v == e["name"]]
            cols.append(_cell(ent, dflt))
        lines.append(f"| {e['number']} | `{e['name']}` | {e['exit']} | {e['meaning']} | {cols[0]} | "
                     f"{cols[1]} | {e['cpython']} |")
    lines += ["", "Native codes that are not errors in their context:", "",
              "| outcome | meaning | native codes (platform, operation: condition) |", "|---|---|---|"]
    for name, meaning in doc["outcomes"].items():
        ent = [m for m in maps if m["portable"] == name]
        lines.append(f"| `{name}` | {meaning} | {_cell(ent, [])} |")
    lines.append(END)
    return "\n".join(lines)


def defined_source_keys(spec_text: str):
    m = re.search(r"^## \d+\. Sources\s*$(.*?)(?=^## |\Z)", spec_text, re.M | re.S)
    return set(SOURCE_KEY_RE.findall(m.group(1))) if m else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true")
    g.add_argument("--write", action="store_true")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    spec_path = args.root / "spec" / "npipe.md"
    text = spec_path.read_text(encoding="utf-8")
    doc = load(args.root)
    problems = validate(doc, defined_source_keys(text))
    if BEGIN not in text or END not in text:
        problems.append(f"{spec_path}: no generated section ({BEGIN} ... {END})")
    else:
        start, end = text.index(BEGIN), text.index(END) + len(END)
        table = render(doc)
        if args.write:
            spec_path.write_text(text[:start] + table + text[end:], encoding="utf-8")
        elif text[start:end] != table:
            problems.append(f"{spec_path}: section 5.1 differs from spec/errors.json "
                            "(run spec/tools/errors_table.py --write)")
    maps = doc.get("maps", [])
    print(f"errors.json: {len(doc.get('errors', []))} portable errors, {len(maps)} mapped codes in "
          f"{len({m.get('op') for m in maps})} operations, {sum(len(t) for t in doc.get('defaults', {}).values())} "
          "context-free codes")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
