#!/usr/bin/env python3
"""The npipe requirement registry: the one source of truth for requirement IDs.

Parses every requirement line of the Markdown files under spec/ (spec/tools/ excluded, fenced code
blocks skipped). A requirement line is exactly

    **ID** [STRENGTH] [profiles] [platforms] — title

at the start of a line, followed by its body paragraphs (up to the next requirement line or
heading). See spec/README.md.

    python3 spec/tools/requirements.py                 # prints the registry, one line each
    python3 spec/tools/requirements.py --json OUT      # writes [{id,strength,profiles,platforms,title}]

Standard library only; Python 3.8+.
"""

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

STRENGTHS = ("MUST", "SHOULD", "MAY", "PLATFORM-DEFINED", "WITHDRAWN")
PROFILES = ("fifo", "channel")
PLATFORMS = ("all", "posix", "linux", "darwin", "windows")

# An ID: upper-case words joined by '-', ending with a positive number: FIFO-OPEN-3, ERR-1.
ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-[1-9][0-9]*$")
# A token that looks like an ID where prose or code mentions one (no letters, digits, '-' or '_'
# right before or after it, so "CVE-2022-42919" and "X_FIFO-OPEN-1" are not taken).
ID_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-[0-9]+(?![A-Za-z0-9_-])")
# Any line that starts like a requirement: "**something**" then " [". Checked strictly below.
CANDIDATE_RE = re.compile(r"^\*\*([^*]+)\*\*\s*\[")
LINE_RE = re.compile(
    r"^\*\*(?P<id>[^*]+)\*\* \[(?P<strength>[^\]]*)\] \[(?P<profiles>[^\]]*)\] "
    r"\[(?P<platforms>[^\]]*)\] — (?P<title>\S.*)$"
)
FENCE_RE = re.compile(r"^\s*(```|~~~)")
HEADING_RE = re.compile(r"^#{1,6}\s")


class Requirement(NamedTuple):
    id: str
    strength: str
    profiles: Tuple[str, ...]
    platforms: Tuple[str, ...]
    title: str
    file: str
    line: int
    body: str

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "strength": self.strength,
            "profiles": list(self.profiles),
            "platforms": list(self.platforms),
            "title": self.title,
        }


class Problem(NamedTuple):
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def _split_list(text: str) -> List[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def spec_files(spec_dir: Path) -> List[Path]:
    """Every Markdown file under spec/, spec/tools/ excluded, in a stable order."""
    out = []
    for p in sorted(spec_dir.rglob("*.md")):
        rel = p.relative_to(spec_dir)
        if rel.parts and rel.parts[0] == "tools":
            continue
        out.append(p)
    return out


def parse_text(text: str, filename: str) -> Tuple[List[Requirement], List[Problem]]:
    """Parses one Markdown text. Returns its requirements and the malformed lines."""
    reqs: List[Requirement] = []
    problems: List[Problem] = []
    in_fence = False
    current: Optional[dict] = None
    body: List[str] = []

    def finish():
        nonlocal current, body
        if current is not None:
            current["body"] = "\n".join(body).strip()
            reqs.append(Requirement(**current))
        current, body = None, []

    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if FENCE_RE.match(line):
            in_fence = not in_fence
            if current is not None:
                body.append(line)
            continue
        if in_fence:
            if current is not None:
                body.append(line)
            continue
        if HEADING_RE.match(line):
            finish()
            continue
        if not CANDIDATE_RE.match(line):
            if current is not None:
                body.append(line)
            continue
        finish()
        m = LINE_RE.match(line)
        if not m:
            problems.append(Problem(filename, n, "malformed requirement line (expected "
                                    "'**ID** [STRENGTH] [profiles] [platforms] — title'): " + line))
            continue
        rid = m.group("id")
        strength = m.group("strength")
        profiles = _split_list(m.group("profiles"))
        platforms = _split_list(m.group("platforms"))
        bad = []
        if not ID_RE.match(rid):
            bad.append(f"malformed ID {rid!r} (expected upper-case words joined by '-' and a "
                       "number from 1, e.g. FIFO-OPEN-3)")
        if strength not in STRENGTHS:
            bad.append(f"{rid}: unknown strength {strength!r} (one of {', '.join(STRENGTHS)})")
        if not profiles or any(p not in PROFILES for p in profiles) or len(set(profiles)) != len(profiles):
            bad.append(f"{rid}: bad profiles {m.group('profiles')!r} (from {', '.join(PROFILES)})")
        if (not platforms or any(p not in PLATFORMS for p in platforms)
                or len(set(platforms)) != len(platforms)
                or ("all" in platforms and len(platforms) > 1)):
            bad.append(f"{rid}: bad platforms {m.group('platforms')!r} (from {', '.join(PLATFORMS)}; "
                       "'all' stands alone)")
        if bad:
            for b in bad:
                problems.append(Problem(filename, n, b))
            continue
        current = dict(id=rid, strength=strength, profiles=tuple(profiles),
                       platforms=tuple(platforms), title=m.group("title").strip(),
                       file=filename, line=n)
    finish()
    return reqs, problems


class Registry:
    def __init__(self, requirements: List[Requirement], problems: List[Problem]):
        self.requirements = requirements
        self.problems = list(problems)
        self.by_id: Dict[str, Requirement] = {}
        for r in requirements:
            first = self.by_id.get(r.id)
            if first is not None:
                self.problems.append(Problem(r.file, r.line, f"duplicate ID {r.id} (first defined at "
                                                             f"{first.file}:{first.line})"))
            else:
                self.by_id[r.id] = r

    @property
    def prefixes(self):
        return {r.id.rsplit("-", 1)[0] for r in self.requirements}

    def unique(self) -> List[Requirement]:
        return list(self.by_id.values())


def load(root: Path) -> Registry:
    """Loads the registry of the repository at `root` (the directory that holds spec/)."""
    spec_dir = root / "spec"
    reqs: List[Requirement] = []
    problems: List[Problem] = []
    for p in spec_files(spec_dir):
        r, pr = parse_text(p.read_text(encoding="utf-8"), str(p.relative_to(root)))
        reqs += r
        problems += pr
    return Registry(reqs, problems)


def default_root() -> Path:
    return Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=default_root(), help="repository root (holds spec/)")
    ap.add_argument("--json", metavar="OUT", help="write the registry as JSON to OUT ('-' for stdout)")
    args = ap.parse_args(argv)
    reg = load(args.root)
    for p in reg.problems:
        print(f"error: {p}", file=sys.stderr)
    data = [r.to_json() for r in reg.unique()]
    if args.json:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text, encoding="utf-8")
    else:
        for r in reg.unique():
            print(f"{r.id}\t{r.strength}\t{','.join(r.profiles)}\t{','.join(r.platforms)}\t{r.title}")
    return 1 if reg.problems else 0


if __name__ == "__main__":
    sys.exit(main())
