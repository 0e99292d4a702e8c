#!/usr/bin/env python3
"""Mutation testing of the conformance suite: does it reject plausible wrong implementations?

Each conformance/mutants/*.mut is one small, plausible mistake patched into the reference (see
README.md there). For every mutant this script patches a private copy of the sources, builds the
agent incrementally in one build tree per backend, reverts, and runs the whole suite against the
mutated agent (partnered by the clean reference, both role orders, as `--impl` users are). A mutant
is KILLED when some run it takes part in is unexpected; the report names the scenarios and
requirement IDs that caught it and whether they include the IDs the mutant is tagged with.

    python3 conformance/mutants/run_mutants.py                 # every mutant (make mutants)
    python3 conformance/mutants/run_mutants.py --sample 5      # 5 of them, rotating daily (make test)
    python3 conformance/mutants/run_mutants.py --only fifo-open-reader-nonblocking
    python3 conformance/mutants/run_mutants.py --list

Exit status 0 when every mutant is killed with attribution, except those of equivalent.txt
(conformant variants), which must survive; 1 otherwise; 2 when a mutant does not apply or build,
or the clean reference itself fails (a harness problem, named loudly). Standard library only.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SNAPSHOT_PATHS = ("CMakeLists.txt", "cmake", "reference")
ID_RE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-[1-9][0-9]*\b")


class MutantError(Exception):
    """A mutant that cannot be used as written: the run stops and names it."""


# ---------------------------------------------------------------------------------------------
# The .mut format

class Block:
    def __init__(self, path, find, replace, line):
        self.path, self.find, self.replace, self.line = path, find, replace, line


class Mutant:
    def __init__(self, path):
        self.file = path
        self.id = path.stem
        self.tags, self.backend, self.why, self.blocks = [], "posix", "", []
        self._parse(path.read_text(encoding="utf-8"))

    def _parse(self, text):
        lines = text.split("\n")
        i, target = 0, None
        why = []
        while i < len(lines):
            line = lines[i]
            if line.startswith("--- "):
                target = line[4:].strip()
            elif line == "@@ find":
                if target is None:
                    raise MutantError(f"{self.file}:{i + 1}: '@@ find' before any '--- FILE' line")
                start = i + 1
                j = start
                while j < len(lines) and lines[j] != "@@ replace":
                    j += 1
                k = j + 1
                while k < len(lines) and lines[k] != "@@ end":
                    k += 1
                if k >= len(lines):
                    raise MutantError(f"{self.file}:{i + 1}: block not closed ('@@ replace' then "
                                      "'@@ end')")
                find = "\n".join(lines[start:j])
                if not find.strip():
                    raise MutantError(f"{self.file}:{i + 1}: empty snippet to find")
                self.blocks.append(Block(target, find, "\n".join(lines[j + 1:k]), i + 1))
                i = k
            elif target is None and not line.startswith("#") and ":" in line:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "tags":
                    self.tags = ID_RE.findall(value)
                elif key == "backend":
                    self.backend = value
                elif key == "why":
                    why.append(value)
                else:
                    raise MutantError(f"{self.file}:{i + 1}: unknown field {key!r}")
            elif target is None and line.startswith("    ") and why:
                why.append(line.strip())  # continuation of why:
            i += 1
        self.why = " ".join(why)
        if not self.tags:
            raise MutantError(f"{self.file}: no tags: line naming the requirement IDs it violates")
        if self.backend not in ("posix", "windows"):
            raise MutantError(f"{self.file}: backend must be posix or windows, not {self.backend!r}")
        if not self.blocks:
            raise MutantError(f"{self.file}: no '@@ find' / '@@ replace' / '@@ end' block")
        if not self.why:
            raise MutantError(f"{self.file}: no why: line (the mistake, and who would make it)")


def load_mutants():
    return sorted((Mutant(p) for p in HERE.glob("*.mut")), key=lambda m: m.id)


def load_equivalent():
    """equivalent.txt: MUTANT-ID reason... (conformant variants that must survive)."""
    out = {}
    path = HERE / "equivalent.txt"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        mid, _, reason = line.strip().partition(" ")
        if not reason.strip():
            raise MutantError(f"{path}:{n}: {mid} has no reason")
        out[mid] = reason.strip()
    return out


# ---------------------------------------------------------------------------------------------
# Sources, patches, builds

def sync_snapshot(src):
    """Copies the build inputs of the agent into `src`, touching only files whose bytes differ
    (so the build tree stays incremental), and removes files that are gone from the checkout."""
    wanted = set()
    for top in SNAPSHOT_PATHS:
        p = ROOT / top
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files:
            rel = f.relative_to(ROOT)
            if any(part.startswith("build") or part == "__pycache__" for part in rel.parts):
                continue
            wanted.add(rel)
            dst = src / rel
            data = f.read_bytes()
            if not dst.exists() or dst.read_bytes() != data:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(data)
    for top in SNAPSHOT_PATHS:
        p = src / top
        if p.is_dir():
            for f in p.rglob("*"):
                if f.is_file() and f.relative_to(src) not in wanted:
                    f.unlink()


def apply(mutant, src):
    """Patches the snapshot; returns {path: original text} for revert. Every snippet must occur
    exactly once in its file: anything else is a mutant to re-target (README.md)."""
    originals = {}
    for b in mutant.blocks:
        f = src / b.path
        if not f.exists():
            raise MutantError(f"mutant {mutant.id} does not apply: {b.path} does not exist "
                              f"({mutant.file.name}:{b.line}; re-target it, see README.md)")
        text = f.read_text(encoding="utf-8")
        originals.setdefault(b.path, text)
        n = text.count(b.find)
        if n != 1:
            raise MutantError(
                f"mutant {mutant.id} does not apply: the snippet of {mutant.file.name}:{b.line} "
                f"occurs {n} times in {b.path}, not once (re-target it, see README.md)")
        f.write_text(text.replace(b.find, b.replace), encoding="utf-8")
    return originals


def revert(src, originals):
    for path, text in originals.items():
        (src / path).write_text(text, encoding="utf-8")


def configure(backend, src, tree, log):
    if (tree / "CMakeCache.txt").exists():
        return
    args = ["cmake", "-S", str(src), "-B", str(tree), "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
            "-DNPIPE_BUILD_TESTS=OFF", "-DNPIPE_BUILD_CONFORMANCE=OFF", "-DNPIPE_BUILD_FUZZ=OFF",
            "-DNPIPE_BUILD_STRESS=OFF", "-DNPIPE_BUILD_BENCH=OFF"]
    if backend == "windows":
        args.append("-DCMAKE_TOOLCHAIN_FILE=" + str(src / "cmake" / "mingw-w64-x86_64.cmake"))
    env = dict(os.environ)
    env.setdefault("CMAKE_CXX_COMPILER_LAUNCHER", "ccache" if shutil.which("ccache") else "")
    r = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        raise MutantError(f"cannot configure the {backend} mutant build in {tree} (see {log.name})")


def build_agent(backend, tree, jobs, log):
    # Not niced below the suite runs: the builder feeds them, and is the slower of the two.
    r = subprocess.run(["cmake", "--build", str(tree), "-j", str(jobs), "--target", "npipe-agent"],
                       stdout=log, stderr=subprocess.STDOUT)
    return r.returncode == 0


def agent_binary(backend, tree):
    return tree / "bin" / ("npipe-agent.exe" if backend == "windows" else "npipe-agent")


# ---------------------------------------------------------------------------------------------
# Runs of the suite

def write_conf(path, backend, agent, clean, prefix):
    if backend == "windows":
        wine = ROOT / "scripts" / "wine-run"
        line = lambda name, kind, exe: (f"{name}  linux  {kind}  wineprefix={prefix} slow=2  "
                                        f"env WINEPREFIX={prefix} {wine} {exe}\n")
        text = line("mutant", "impl", agent) + line("reference-windows", "reference", clean)
    else:
        text = f"mutant  posix  impl  {agent}\nreference-posix  posix  reference  {clean}\n"
    path.write_text(text)


def expectations_dir(work, backend):
    """The project's expectations plus mutant.txt: the mutant inherits the reference's known
    deviations of its backend (Wine's, for windows), never more."""
    d = work / ("expectations-" + backend)
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(ROOT / "conformance" / "expectations", d)
    (d / "mutant.txt").write_text(f"@include reference-{backend}.txt\n")
    return d


def run_suite(driver, conf, expectations, report_dir, timeout):
    t0 = time.monotonic()
    args = [driver, "--conf", str(conf), "--only", "mutant", "--no-cpython",
            "--expectations", str(expectations), "--report-dir", str(report_dir)]
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out, rc = p.stdout.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired:
        out, rc = "suite run exceeded %d s" % timeout, -1
    try:
        report = json.loads((report_dir / "report.json").read_text())
    except (OSError, ValueError):
        report = None
    return rc, report, out, time.monotonic() - t0


def verdict(mutant, report, rc, out, equivalent):
    """What the suite did to one mutant."""
    catches = []
    if report:
        for r in report.get("results", []):
            if r.get("unexpected") and "mutant" in r.get("roles", {}).values():
                catches.append({"test": r["test"], "roles": r["roles"], "status": r["status"],
                                "requirements": r.get("requirements", []),
                                "message": r.get("message", "")[:300]})
        for i in report.get("implementations", []):
            if i.get("name") == "mutant" and i.get("error"):
                catches.append({"test": "(probe)", "roles": {}, "status": "ERROR",
                                "requirements": [], "message": i["error"][:300]})
    ids = sorted({q for c in catches for q in c["requirements"]})
    killed = bool(catches)
    attributed = bool(set(ids) & set(mutant.tags))
    if report is None:
        status = "error"
    elif mutant.id in equivalent:
        status = "false-positive" if killed else "conformant"
    else:
        status = "killed" if killed else "survived"
    return {"id": mutant.id, "backend": mutant.backend, "tags": mutant.tags, "why": mutant.why,
            "status": status, "caught_by": catches, "caught_ids": ids,
            "attributed": attributed if killed else None,
            "equivalent_reason": equivalent.get(mutant.id, ""),
            "suite_exit": rc, "suite_output_tail": "" if report else out[-1500:]}


# ---------------------------------------------------------------------------------------------

def rotating_sample(mutants, n, day=None):
    """n mutants, the same all day (UTC), a different window each day, every mutant in turn."""
    if not mutants or n >= len(mutants):
        return mutants
    day = day or datetime.datetime.now(datetime.timezone.utc).date()
    start = (day.toordinal() * n) % len(mutants)
    return [mutants[(start + i) % len(mutants)] for i in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=str(ROOT / "build" / "mutants"))
    ap.add_argument("--driver", default=str(ROOT / "build" / "posix" / "bin" / "npipe-conformance"))
    ap.add_argument("--only", action="append", default=[], help="mutant id (repeatable)")
    ap.add_argument("--backend", choices=("posix", "windows"), action="append", default=[])
    ap.add_argument("--sample", type=int, help="run N mutants, rotating once a day")
    ap.add_argument("--jobs", type=int, default=3, help="suite runs at once (default 3)")
    ap.add_argument("--build-jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    ap.add_argument("--run-timeout", type=int, default=600)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--check", action="store_true",
                    help="only check that every mutant still applies to the sources (no build)")
    opts = ap.parse_args()

    try:
        mutants = load_mutants()
        equivalent = load_equivalent()
    except MutantError as e:
        print("mutants: " + str(e), file=sys.stderr)
        return 2
    known = {m.id for m in mutants}
    for mid in equivalent:
        if mid not in known:
            print(f"mutants: equivalent.txt names {mid}, which is no mutant", file=sys.stderr)
            return 2
    if opts.list:
        for m in mutants:
            eq = "  [conformant variant]" if m.id in equivalent else ""
            print(f"{m.id:<46} {m.backend:<8} {' '.join(m.tags)}{eq}")
        return 0
    if opts.only:
        missing = [o for o in opts.only if o not in known]
        if missing:
            print("mutants: no such mutant: " + " ".join(missing), file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.id in opts.only]
    if opts.backend:
        mutants = [m for m in mutants if m.backend in opts.backend]
    if opts.sample:
        mutants = rotating_sample(mutants, opts.sample)
        day = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
        print(f"mutants: the sample of {day} ({len(mutants)}): " + " ".join(m.id for m in mutants))

    work = Path(opts.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if opts.check:
        src = work / "src"
        sync_snapshot(src)
        bad = []
        for m in mutants:
            try:
                revert(src, apply(m, src))
            except MutantError as e:
                bad.append(str(e))
        for b in bad:
            print(b)
        print(f"mutants: {len(mutants) - len(bad)} of {len(mutants)} apply")
        return 2 if bad else 0
    if not os.access(opts.driver, os.X_OK):
        print(f"mutants: no conformance driver at {opts.driver} (make build)", file=sys.stderr)
        return 2
    t_start = time.monotonic()
    src = work / "src"
    sync_snapshot(src)
    backends = sorted({m.backend for m in mutants})
    trees, cleans, expect, prefix = {}, {}, {}, work / "wineprefix"
    logs = work / "logs"
    logs.mkdir(exist_ok=True)

    # The clean agent of each backend, built from the same snapshot: the partner of every run,
    # and first itself under test, so a harness problem is never counted as a kill.
    for b in backends:
        trees[b] = work / b
        with open(logs / f"build-{b}.log", "w") as log:
            try:
                configure(b, src, trees[b], log)
            except MutantError as e:
                print("mutants: " + str(e), file=sys.stderr)
                return 2
            if not build_agent(b, trees[b], opts.build_jobs, log):
                print(f"mutants: the clean {b} agent does not build (see {log.name})", file=sys.stderr)
                return 2
        cleans[b] = work / "agents" / ("clean-" + b) / agent_binary(b, trees[b]).name
        cleans[b].parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(agent_binary(b, trees[b]), cleans[b])
        expect[b] = expectations_dir(work, b)
        conf = work / "conf" / f"clean-{b}.conf"
        conf.parent.mkdir(exist_ok=True)
        write_conf(conf, b, cleans[b], cleans[b], prefix)
        rc, report, out, took = run_suite(opts.driver, conf, expect[b], work / "runs" / ("clean-" + b),
                                          opts.run_timeout)
        bad = [r for r in (report or {}).get("results", []) if r.get("unexpected")]
        if report is None or rc != 0 or bad:
            print(f"mutants: the CLEAN {b} agent is not green under this harness (exit {rc}); "
                  "no mutant can be judged:", file=sys.stderr)
            for r in bad[:10]:
                print(f"  {r['status']} {r['test']}: {r['message'][:200]}", file=sys.stderr)
            if report is None:
                print(out[-2000:], file=sys.stderr)
            return 2
        print(f"mutants: clean {b} agent: {len(report['results'])} runs, all as expected "
              f"({took:.0f} s)")

    # One builder (one tree per backend: patch, build, copy the agent out, revert) feeding the
    # suite runs, which go on in parallel on the copies.
    ready = queue.Queue()
    problems = []

    def builder():
        # Windows mutants first: their runs share one Wine prefix and so go one at a time; started
        # early, they overlap the POSIX ones.
        for m in sorted(mutants, key=lambda m: m.backend != "windows"):
            tree = trees[m.backend]
            with open(logs / f"build-{m.id}.log", "w") as log:
                try:
                    originals = apply(m, src)
                except MutantError as e:
                    problems.append(str(e))
                    ready.put((m, None))
                    continue
                try:
                    ok = build_agent(m.backend, tree, opts.build_jobs, log)
                    if ok:
                        dst = work / "agents" / m.id / agent_binary(m.backend, tree).name
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(agent_binary(m.backend, tree), dst)
                finally:
                    revert(src, originals)
            if not ok:
                problems.append(f"mutant {m.id} does not build (see {log.name}): write it as code "
                                "that compiles without warnings, as a real implementer's would")
                ready.put((m, None))
            else:
                ready.put((m, dst))
        # Leave the tree built from the clean sources.
        for b in backends:
            with open(logs / f"build-{b}.log", "a") as log:
                build_agent(b, trees[b], opts.build_jobs, log)

    results = {}

    def judge(m, agent):
        conf = work / "conf" / f"{m.id}.conf"
        write_conf(conf, m.backend, agent, cleans[m.backend], prefix)
        rc, report, out, took = run_suite(opts.driver, conf, expect[m.backend], work / "runs" / m.id,
                                          opts.run_timeout)
        v = verdict(m, report, rc, out, equivalent)
        v["seconds"] = round(took, 1)
        results[m.id] = v
        mark = {"killed": "killed", "survived": "SURVIVED", "conformant": "survived (conformant)",
                "false-positive": "FLAGGED A CONFORMANT VARIANT", "error": "ERROR"}[v["status"]]
        print(f"  {m.id:<46} {mark:<28} {took:5.0f} s  " + " ".join(v["caught_ids"][:6]),
              flush=True)

    threading.Thread(target=builder, daemon=True).start()
    # Windows runs wait for each other (one Wine prefix, locked by the driver): one worker of
    # their own, so they never hold up the POSIX ones.
    with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as pool, \
            concurrent.futures.ThreadPoolExecutor(max_workers=1) as wine_pool:
        futures = []
        for _ in mutants:
            m, agent = ready.get()
            if agent is not None:
                target = wine_pool if m.backend == "windows" else pool
                futures.append(target.submit(judge, m, agent))
        for f in futures:
            f.result()
    total_s = time.monotonic() - t_start

    return report_all(mutants, results, problems, equivalent, work, total_s, bool(opts.sample))


def current_commit():
    """The checkout's commit for the report, or None: a source tree without git (a release
    tarball, or a fresh machine that never installed it) is as good a tree to test."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def report_all(mutants, results, problems, equivalent, work, total_s, sample):
    ordered = [results[m.id] for m in mutants if m.id in results]
    deviations = [r for r in ordered if r["id"] not in equivalent]
    killed = [r for r in deviations if r["status"] == "killed"]
    survived = [r for r in deviations if r["status"] == "survived"]
    unattributed = [r for r in killed if not r["attributed"]]
    conformant = [r for r in ordered if r["status"] == "conformant"]
    flagged = [r for r in ordered if r["status"] == "false-positive"]
    errors = [r for r in ordered if r["status"] == "error"]

    print()
    print(f"{'mutant':<46} {'backend':<8} {'result':<12} {'tags':<28} caught by")
    for r in ordered:
        tags = " ".join(r["tags"])
        # The tagged IDs that caught it first, and the scenarios citing them.
        tagged = [q for q in r["caught_ids"] if q in r["tags"]]
        others = [q for q in r["caught_ids"] if q not in r["tags"]]
        scen = sorted({c["test"] for c in r["caught_by"] if set(c["requirements"]) & set(tagged)}
                      or {c["test"] for c in r["caught_by"]})
        what = r["status"]
        if r["status"] == "killed":
            what += "" if r["attributed"] else " (unattributed)"
        ids = " ".join(tagged or others[:3]) + (f" (+{len(others)} more)" if others else "")
        caught = (ids + "  <- " + ", ".join(scen[:2])
                  + (f" (+{len(scen) - 2} more)" if len(scen) > 2 else "")) if scen else "-"
        print(f"{r['id']:<46} {r['backend']:<8} {what:<12} {tags:<28} {caught}")
    pct = 100.0 * len(killed) / len(deviations) if deviations else 0.0
    score = (f"mutants: {len(killed)} of {len(deviations)} killed ({pct:.1f}%), "
             f"{len(killed) - len(unattributed)} attributed to a requirement the mutant violates; "
             f"{len(conformant)} of {len(conformant) + len(flagged)} conformant variants accepted; "
             f"{total_s / 60:.1f} min")
    print()
    print(score)
    for r in survived:
        print(f"SURVIVED: {r['id']} ({' '.join(r['tags'])}): {r['why']}")
    for r in unattributed:
        print(f"UNATTRIBUTED: {r['id']} is tagged {' '.join(r['tags'])} but was caught only by "
              f"{' '.join(r['caught_ids']) or 'a failure naming no requirement'}")
    for r in flagged:
        print(f"FLAGGED A CONFORMANT VARIANT: {r['id']} ({equivalent[r['id']]}), caught by "
              + ", ".join(sorted({c['test'] for c in r['caught_by']})))
    for r in errors:
        print(f"ERROR: {r['id']}: the suite gave no report\n{r['suite_output_tail']}")
    for p in problems:
        print("PROBLEM: " + p)

    rep = {"format": "npipe-mutants-report", "format_version": 1,
           "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "commit": current_commit(),
           "sample": sample, "minutes": round(total_s / 60, 2), "score": score,
           "counts": {"mutants": len(ordered), "deviations": len(deviations),
                      "killed": len(killed), "survived": len(survived),
                      "unattributed": len(unattributed), "conformant_accepted": len(conformant),
                      "conformant_flagged": len(flagged), "errors": len(errors),
                      "problems": len(problems)},
           "problems": problems, "mutants": ordered}
    (work / "report.json").write_text(json.dumps(rep, indent=1) + "\n")
    print(f"report: {work / 'report.json'}")
    if problems or errors:
        return 2
    return 1 if (survived or unattributed or flagged) else 0


if __name__ == "__main__":
    sys.exit(main())
