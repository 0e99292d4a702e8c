#!/usr/bin/env python3
"""Checks the npipe requirement registry against the code and tests that cite it.

Run from the repository root (as `make test` does):

    /usr/bin/python3 spec/tools/check_requirements.py [--allow-untested-must] [--matrix] [--root DIR]

Fails (exit 1, one line per problem) when
  * a requirement line under spec/ is malformed, or an ID is defined twice;
  * the spec's own prose mentions an ID of a known family that does not exist;
  * a citation names an ID that does not exist, or a WITHDRAWN one;
  * a MUST requirement has no citation under conformance/ (a warning only, exit 0, with
    --allow-untested-must: the suite is still being written);
  * a MUST that applies to POSIX (platforms all, posix, linux or darwin) is not checked by a
    conformance scenario and its body does not say "No black-box test: <why>." together with
    "Implementations document: <what>." (spec/npipe.md section 3.1; --allow-untested-must makes
    it a warning too).

Citations (see spec/README.md):
  reference/, conformance/, harness/: any line containing `NPIPE_REQ:` followed by IDs, e.g.
      // NPIPE_REQ: FIFO-OPEN-1 FIFO-OPEN-3
  conformance/expectations/*: the REQUIREMENT-ID column must exist (it is not a test)
  conformance/ (C++): the third argument of every NPIPE_SCENARIO(GROUP, NAME, "IDS", ...), wherever
      its line breaks fall: a test by a conformance scenario
  conformance/mutants/*.mut: the IDs of a `tags:` line must exist (not a test)
  harness/ (*.py): @pytest.mark.req("ID", ...) and req=("ID", ...) / req=["ID", ...] / req="ID"

A MUST counts as tested only when it is cited under conformance/, or, when its body says
"Not observable through the driver protocol: <why>." and it applies to Windows only, when it is
cited under reference/.
Standard library only; Python 3.8+.
"""

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, NamedTuple

sys.dont_write_bytecode = True  # keep spec/tools/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import requirements as registry  # noqa: E402

SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", "node_modules", ".venv", "venv"}
TEXT_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc", ".ipp", ".py",
                 ".json", ".jsonl", ".mut", ".yaml", ".yml", ".toml", ".txt", ".cmake", ".md", ".sh"}

# A comment that starts with NPIPE_REQ: (C++ //, /* or a block's leading *, or # outside C/C++).
REQ_MARK_RE = re.compile(r"(//+|/\*+|#+|^\s*\*+)[ \t]*NPIPE_REQ:(.*)$")
C_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc", ".ipp"}
QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"' + r"|'((?:[^'\\]|\\.)*)'")
PYTEST_REQ_RE = re.compile(r"pytest\.mark\.req\(([^)]*)\)", re.S)
PY_REQ_KW_RE = re.compile(r"\breq\s*=\s*(\([^)]*\)|\[[^\]]*\]|\"[^\"]*\"|'[^']*')", re.S)


class Citation(NamedTuple):
    id: str
    file: str
    line: int
    area: str  # reference, conformance or harness


def _walk(base: Path):
    if not base.is_dir():
        return
    for p in sorted(base.rglob("*")):
        rel = p.relative_to(base)
        if any(part in SKIP_DIRS or part.startswith("build") for part in rel.parts[:-1]):
            continue
        if p.is_file() and p.suffix in TEXT_SUFFIXES:
            yield p


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _is_comment(line: str, hash_comments: bool) -> bool:
    s = line.lstrip()
    return s.startswith(("//", "/*", "*")) or (hash_comments and s.startswith("#"))


def _inside_comment(prefix: str, hash_comments: bool) -> bool:
    """True when the text before a comment marker is itself in a comment."""
    if "//" in prefix or "/*" in prefix or prefix.lstrip().startswith("*"):
        return True
    return hash_comments and "#" in prefix


def _tokens(s: str):
    return registry.ID_TOKEN_RE.findall(s)


def _strip_c_comments(text: str) -> str:
    """The text with C/C++ comments blanked (newlines kept, so line numbers hold)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


SCENARIO_RE = re.compile(r"\bNPIPE_SCENARIO\s*\(")


def _macro_args(text: str, start: int):
    """The top-level arguments of a macro call whose '(' ends just before `start`."""
    args, depth, i, a = [], 0, start, start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append((a, i))
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append((a, i))
            a = i + 1
        i += 1
    return args


def scenario_citations(text: str):
    """(line, [IDs]) of each NPIPE_SCENARIO's third argument, the scenario's requirements."""
    code = _strip_c_comments(text)
    for m in SCENARIO_RE.finditer(code):
        before = code[:m.start()].rstrip()
        if before.endswith("define"):
            continue  # the macro's own definition
        args = _macro_args(code, m.end())
        if len(args) < 3:
            yield _line_of(code, m.start()), None
            continue
        a, b = args[2]
        strings = [q.group(1) or "" for q in QUOTED_RE.finditer(code[a:b])]
        yield _line_of(code, a), [t for s in strings for t in _tokens(s)]


def scan(root: Path, first_words) -> (List[Citation], List[registry.Problem]):
    """Finds every citation under reference/, conformance/ and harness/."""
    cites: List[Citation] = []
    refs = cites  # expectation lines are checked like citations but never count as tests
    problems: List[registry.Problem] = []
    for area in ("reference", "conformance", "harness"):
        for p in _walk(root / area):
            try:
                text = p.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            rel = str(p.relative_to(root))
            hash_comments = p.suffix not in C_SUFFIXES
            for n, line in enumerate(text.splitlines(), start=1):
                m = REQ_MARK_RE.search(line)
                if m and "#" in m.group(1) and not hash_comments:
                    m = None  # '#' is the preprocessor in C/C++, not a comment
                if m and _inside_comment(line[:m.start()], hash_comments):
                    continue  # an example inside a comment: "//   // NPIPE_REQ: ID"
                if m:
                    ids = _tokens(m.group(2))
                    if not ids:
                        problems.append(registry.Problem(rel, n, "NPIPE_REQ: names no requirement ID"))
                    cites += [Citation(i, rel, n, area) for i in ids]
            if area == "conformance" and not hash_comments:
                for n, ids in scenario_citations(text):
                    if not ids:
                        problems.append(registry.Problem(rel, n, "NPIPE_SCENARIO names no requirement "
                                                         "ID in its third argument"))
                        continue
                    cites += [Citation(i, rel, n, "scenario") for i in ids]
            if area == "conformance" and "mutants" in p.relative_to(root / area).parts[:-1]:
                # conformance/mutants/*.mut: "tags: ID ..." must exist; a mutant is not a test.
                for n, line in enumerate(text.splitlines(), start=1):
                    if line.startswith("tags:"):
                        ids = _tokens(line[5:])
                        if not ids:
                            problems.append(registry.Problem(rel, n, "tags: names no requirement ID"))
                        refs += [Citation(i, rel, n, "mutants") for i in ids]
            if area == "conformance" and "expectations" in p.relative_to(root / area).parts[:-1]:
                # SCENARIO[@ROLE] STATUS REQUIREMENT-ID reason: the ID must exist; not a test.
                for n, line in enumerate(text.splitlines(), start=1):
                    f = line.split()
                    if len(f) >= 3 and not line.lstrip().startswith("#") and _tokens(f[2]) == [f[2]]:
                        refs.append(Citation(f[2], rel, n, "expectations"))
            if area == "harness" and p.suffix == ".py":
                for rx in (PYTEST_REQ_RE, PY_REQ_KW_RE):
                    for m in rx.finditer(text):
                        n = _line_of(text, m.start())
                        strings = [q.group(1) if q.group(1) is not None else q.group(2)
                                   for q in QUOTED_RE.finditer(m.group(1))]
                        if not strings:
                            problems.append(registry.Problem(rel, n, "req citation names no requirement ID"))
                        for s in strings:
                            ids = _tokens(s)
                            rest = registry.ID_TOKEN_RE.sub("", s).replace(",", " ").strip()
                            if not ids or rest:
                                problems.append(registry.Problem(rel, n, f"malformed requirement citation {s!r}"))
                            cites += [Citation(i, rel, n, area) for i in ids]
    return cites, problems


def spec_mentions(root: Path, reg: registry.Registry, first_words) -> List[registry.Problem]:
    """IDs of a known family mentioned in the spec's prose and tables that are not defined."""
    problems = []
    for p in registry.spec_files(root / "spec"):
        rel = str(p.relative_to(root))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
            for tok in _tokens(line):
                if tok.split("-", 1)[0] in first_words and tok not in reg.by_id:
                    # Wildcards and ranges in prose ("FIFO-OPEN-*") do not match the token pattern.
                    problems.append(registry.Problem(rel, n, f"mentions unknown requirement {tok}"))
    return problems


UNVERIFIED_RE = re.compile(r"\bunverified\b", re.I)
# A source key: "[XSH-open]", "[MS-CreateNamedPipe]", "[unix.7]" (section 3.3); not a Markdown link.
SOURCE_KEY_RE = re.compile(r"\[([A-Za-z][A-Za-z0-9_.]*(?:-[A-Za-z0-9_.]+)*)\](?![(\[])")
NOT_KEYS = set(registry.STRENGTHS) | set(registry.PROFILES) | set(registry.PLATFORMS)
SOURCES_HEADING = re.compile(r"^## \d+\. Sources\s*$")


def _prose_lines(p: Path):
    """(line number, text) of a spec file outside fenced code blocks, inline code removed."""
    fenced = False
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if registry.FENCE_RE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, re.sub(r"`[^`]*`", "", line)


def count_unverified(root: Path) -> int:
    """The **unverified** marks of the spec: facts neither observed nor read in a primary source."""
    return sum(len(UNVERIFIED_RE.findall(t)) for p in registry.spec_files(root / "spec")
               for _, t in _prose_lines(p))


def source_keys(root: Path) -> List[registry.Problem]:
    """Every source key used in the spec is defined in a "Sources" section (so nothing cited is
    outside the repository's own list of public sources)."""
    defined, used = set(), []
    for p in registry.spec_files(root / "spec"):
        rel = str(p.relative_to(root))
        in_sources = False
        for n, text in _prose_lines(p):
            if text.startswith("## "):
                in_sources = bool(SOURCES_HEADING.match(text))
            for m in SOURCE_KEY_RE.finditer(text):
                key = m.group(1)
                if key in NOT_KEYS or not any(c.isupper() or c == "." for c in key):
                    continue
                if in_sources:
                    defined.add(key)
                else:
                    used.append((rel, n, key))
    if not defined:
        return []
    return [registry.Problem(rel, n, f"cites source [{key}], which no Sources section defines")
            for rel, n, key in used if key not in defined]


NOT_OBSERVABLE = "Not observable through the driver protocol:"
NOT_TESTABLE = "Not testable:"
# spec/npipe.md section 3.1: a MUST that applies to POSIX is checked by a conformance scenario,
# or its body says why no black-box test can exist and what an implementation documents instead.
NO_BLACK_BOX = "No black-box test:"
DOCUMENTS = "Implementations document:"
POSIX_PLATFORMS = {"all", "posix", "linux", "darwin"}  # a MUST on POSIX needs a scenario


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Check the npipe requirement registry and its citations.")
    ap.add_argument("--root", type=Path, default=registry.default_root(),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("--allow-untested-must", action="store_true",
                    help="report MUST requirements without a conformance test as warnings, not errors")
    ap.add_argument("--matrix", action="store_true", help="print every requirement with its citations")
    args = ap.parse_args(argv)
    root = args.root.resolve()

    reg = registry.load(root)
    problems = list(reg.problems)
    if not reg.requirements:
        problems.append(registry.Problem("spec", 0, "no requirement found under spec/"))
    first_words = {r.id.split("-", 1)[0] for r in reg.requirements}
    cites, cite_problems = scan(root, first_words)
    problems += cite_problems
    problems += spec_mentions(root, reg, first_words)
    problems += source_keys(root)

    by_id: Dict[str, List[Citation]] = defaultdict(list)
    for c in cites:
        r = reg.by_id.get(c.id)
        if r is None:
            problems.append(registry.Problem(c.file, c.line, f"cites unknown requirement {c.id}"))
        elif r.strength == "WITHDRAWN":
            problems.append(registry.Problem(c.file, c.line, f"cites withdrawn requirement {c.id}"))
        else:
            by_id[c.id].append(c)

    reqs = reg.unique()
    musts = [r for r in reqs if r.strength == "MUST"]
    # spec/npipe.md 3.1: a MUST on POSIX is checked by a conformance scenario, or its body says
    # "No black-box test: <why>. Implementations document: <what>." A Windows-only MUST that the
    # Linux-hosted driver cannot observe says "Not observable through the driver protocol: <why>."
    # and is then tested when the library's own tests cite it.
    def by_scenario(r) -> bool:
        return any(c.area == "scenario" for c in by_id[r.id])

    def on_posix(r) -> bool:
        return any(p in POSIX_PLATFORMS for p in r.platforms)

    def documented(r) -> bool:
        return NO_BLACK_BOX in r.body and DOCUMENTS in r.body

    def is_tested(r) -> bool:
        if any(c.area in ("conformance", "scenario") for c in by_id[r.id]):
            return True
        return (NOT_OBSERVABLE in r.body and not on_posix(r)
                and any(c.area == "reference" for c in by_id[r.id]))

    # A MUST that no test can check (a timing property, a flag handed to the OS that nothing here
    # can read back) says "Not testable: <why>; verified by review of <where>." It is then listed
    # as reviewed, never counted as tested.
    reviewed = [r for r in musts if not is_tested(r) and NOT_TESTABLE in r.body and not on_posix(r)]
    tested = [r for r in musts if is_tested(r)]
    library_only = [r for r in tested if not any(c.area in ("conformance", "scenario")
                                                 for c in by_id[r.id])]
    posix_musts = [r for r in musts if on_posix(r)]
    posix_by_scenario = [r for r in posix_musts if by_scenario(r)]
    posix_documented = [r for r in posix_musts if not by_scenario(r) and documented(r)]
    posix_missing = [r for r in posix_musts if not by_scenario(r) and not documented(r)]
    untested = [r for r in musts if r not in tested and r not in reviewed and not on_posix(r)]

    print(f"requirements: {len(reqs)}, MUST: {len(musts)}, tested: {len(tested)}, "
          f"unverified: {count_unverified(root)}")
    print(f"  MUSTs on POSIX: {len(posix_musts)}, tested by a conformance scenario: "
          f"{len(posix_by_scenario)}" + (
              f", no black-box test (documented instead, section 3.1): {len(posix_documented)} ("
              + " ".join(r.id for r in posix_documented) + ")" if posix_documented else ""))
    if reviewed:
        print(f"  not testable, verified by review only ({len(reviewed)}): "
              + " ".join(r.id for r in reviewed))
    if library_only:
        print(f"  of which {len(library_only)} not observable through the driver protocol, "
              "tested by the library's tests: " + " ".join(r.id for r in library_only))
    if args.matrix:
        for r in reqs:
            where = ", ".join(sorted({f"{c.file}:{c.line}" for c in by_id[r.id]})) or "-"
            print(f"  {r.id:<16} {r.strength:<16} {where}")
    kind = "warning" if args.allow_untested_must else "error"
    if untested:
        print(f"{kind}: {len(untested)} MUST requirement(s) have no test under conformance/:")
        for r in untested:
            print(f"  {r.id:<16} {r.file}:{r.line}  {r.title}")
        if not args.allow_untested_must:
            problems.append(registry.Problem("conformance", 0,
                                             f"{len(untested)} MUST requirement(s) untested "
                                             "(see the list above; --allow-untested-must to warn only)"))
    if posix_missing:
        print(f"{kind}: {len(posix_missing)} MUST requirement(s) on POSIX have no conformance "
              f"scenario and no \"{NO_BLACK_BOX}\" + \"{DOCUMENTS}\" in their body:")
        for r in posix_missing:
            print(f"  {r.id:<16} {r.file}:{r.line}  {r.title}")
        if not args.allow_untested_must:
            problems.append(registry.Problem("conformance", 0,
                                             f"{len(posix_missing)} MUST requirement(s) on POSIX "
                                             "without a conformance scenario (spec/npipe.md 3.1)"))
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        print(f"check_requirements: FAILED with {len(problems)} error(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
