#!/usr/bin/env python3
"""bench/wine.py: the Wine figures of `make bench` (issue 7), from npipe-bench-win.exe.

npipe's Windows backend, cross-built with mingw-w64 (`make bench-wine-build`, in
build/bench-windows), measured under Wine against raw Win32 calls on the same Wine. These are Wine
figures, labelled "(Wine N, not Windows)": Wine implements named pipes in user space through its
wineserver, so neither the absolute figures nor the ratios say what npipe costs on Windows. They
are informational and never part of run.py's targets.

run.py's Bench.windows() calls figures(); alone, for the Wine section only:

    python3 bench/wine.py [--exe build/bench-windows/bin/npipe-bench-win.exe] [--size smoke|full]
                          [--runs N] [--json FILE]

The whole section is ONE run of `npipe-bench-win.exe batch` through scripts/wine-run (with the
prefix of its build tree, <build>/wineprefix), fed every measurement on stdin and answering one
JSON line each; it starts one peer process for all of them (starting a Wine process costs about a
third of a second). One persistent wineserver is started here for the section and stopped at its
end (a server already running for that prefix is used and left running). Each figure is measured N
times, its variants interleaved run by run, as run.py does. Every measurement has a watchdog in
the exe and the batch a timeout. Standard library only.
"""
import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KiB, MiB = 1 << 10, 1 << 20

# The exe `make bench-wine-build` makes; NPIPE_BENCH_WIN_EXE overrides it.
DEFAULT_BUILD = os.path.join("build", "bench-windows")
EXE_NAME = "npipe-bench-win.exe"

# What one run moves, per size profile (the names of run.py's profiles). Wine's pipes are slow
# (every call goes through the wineserver) and its round trips slow down sharply with load: "full"
# took 31 s for the whole section at N = 5 on the 2-core machine at load 1.5, 70 s at load 5 (plan
# on up to 3 minutes when it is busier); "smoke" (about 4 s) only proves every figure is produced.
PROFILES = {
    # timeout: the most one measurement may take (npipe-bench-win's watchdog); section_timeout:
    # the most the whole batch may take.
    "full": {"fifo_total": 32 * MiB, "rtt_count": 500, "stream_bytes": 32 * MiB,
             "min_messages": 4, "connects": 100, "runs": 5, "timeout": 120,
             "section_timeout": 900},
    "smoke": {"fifo_total": 1 * MiB, "rtt_count": 50, "stream_bytes": 2 * MiB,
              "min_messages": 2, "connects": 5, "runs": 1, "timeout": 60,
              "section_timeout": 120},
}
FIFO_CHUNKS = [64 * KiB, 1 * MiB]
RTT_SIZES = [64, 4 * KiB]
STREAM_SIZES = [64 * KiB, 1 * MiB]


class WineBenchError(RuntimeError):
    pass


def human_size(n):
    for unit, size in (("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return "%d %s" % (n // size, unit)
    return "%d B" % n


def default_exe(root=ROOT):
    return os.environ.get("NPIPE_BENCH_WIN_EXE") or os.path.join(root, DEFAULT_BUILD, "bin",
                                                                  EXE_NAME)


def find_wine():
    """wine64 as scripts/wine-run finds it."""
    for c in (os.environ.get("NPIPE_WINE"), shutil.which("wine64"), "/usr/lib/wine/wine64",
              shutil.which("wine")):
        if c and os.access(c, os.X_OK):
            return c
    return None


def find_wineserver():
    for c in (shutil.which("wineserver"), "/usr/lib/wine/wineserver"):
        if c and os.access(c, os.X_OK):
            return c
    return None


def not_available(exe):
    """Why the Wine figures cannot be measured, or None when they can."""
    if not os.path.exists(exe):
        shown = os.path.abspath(exe)
        if shown.startswith(ROOT + os.sep):
            shown = os.path.relpath(shown, ROOT)
        return ("%s does not exist; build it with `make bench-wine-build` (mingw-w64, in %s)"
                % (shown, DEFAULT_BUILD))
    if not find_wine():
        return "no wine64 found (scripts/install-deps windows)"
    if not find_wineserver():
        return "no wineserver found (scripts/install-deps windows)"
    return None


def wine_version():
    wine = find_wine()
    out = subprocess.run([wine, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         timeout=30).stdout.decode().strip()  # "wine-8.0 (Debian 8.0~repack-4)"
    return out.split()[0] if out else "wine"


def prefix_of(exe):
    """The WINEPREFIX scripts/wine-run uses for exe: <nearest build dir above it>/wineprefix."""
    if os.environ.get("WINEPREFIX"):
        return os.environ["WINEPREFIX"]
    d = os.path.dirname(os.path.abspath(exe))
    while d != os.path.dirname(d) and not os.path.exists(os.path.join(d, "CMakeCache.txt")):
        d = os.path.dirname(d)
    if d == os.path.dirname(d):
        d = os.getcwd()
    return os.path.join(d, "wineprefix")


class WineServer:
    """One persistent wineserver for the prefix, for the whole section; stopped at the end only if
    this started it."""

    def __init__(self, prefix):
        self.env = dict(os.environ, WINEPREFIX=prefix, WINEDEBUG=os.environ.get("WINEDEBUG",
                                                                                  "-all"))
        self.server = find_wineserver()
        self.started = False
        os.makedirs(prefix, exist_ok=True)

    def __enter__(self):
        # No pipe of ours goes to the server (a daemon): it would hold it open for its lifetime.
        rc = subprocess.run([self.server, "-p"], env=self.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            timeout=60).returncode
        if rc == 0:
            self.started = True
        elif rc != 2:  # 2: a server is already running for this prefix; use it
            raise WineBenchError("wineserver -p failed (status %d)" % rc)
        return self

    def __exit__(self, *exc):
        if self.started:
            for flag in ("-k", "-w"):  # stop it, and wait until it has gone
                try:
                    subprocess.run([self.server, flag], env=self.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   timeout=60)
                except subprocess.TimeoutExpired:
                    print("bench: wineserver %s timed out" % flag, file=sys.stderr)


class WineBench:
    def __init__(self, exe, size="full", runs=0, log=sys.stderr):
        self.exe = os.path.abspath(exe)
        self.size = size
        self.p = dict(PROFILES[size])
        if runs:
            self.p["runs"] = runs
        self.log = log
        self.env = None
        self.tag = ""

    def wine_cmd(self, *args):
        return [os.path.join(ROOT, "scripts", "wine-run"), self.exe] + [str(a) for a in args]

    def hello(self):
        """Creates the prefix on its first use (~20 s), before anything is timed.

        Its output goes to a file, never a pipe: the Wine processes a first run starts
        (winedevice.exe, services) inherit it and live on, and a pipe would never see EOF."""
        with tempfile.TemporaryFile() as out:
            try:
                rc = subprocess.run(self.wine_cmd("hello"), stdout=out, stderr=out,
                                    stdin=subprocess.DEVNULL, env=self.env, timeout=300).returncode
            except subprocess.TimeoutExpired:
                rc = "timed out after 300 s"
            if rc != 0:
                out.seek(0)
                raise WineBenchError("%s hello: %s: %s" % (
                    EXE_NAME, rc, out.read().decode(errors="replace").strip()[-2000:]))

    def batch(self, lines, on_result):
        """Runs the measurements `lines` in order in ONE npipe-bench-win batch (one Wine process
        and its one peer); calls on_result(i, dict) as each JSON line arrives.

        Reads exactly len(lines) results, never "until EOF": a Wine process started along the way
        could hold the pipe open. stderr goes to a file for the same reason."""
        cmd = self.wine_cmd("batch", "--timeout", self.p["timeout"])
        budget = self.p["section_timeout"]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                    env=self.env)
            # The exe's watchdog bounds each measurement; this bounds the whole batch.
            timer = threading.Timer(budget, proc.kill)
            timer.start()
            done = 0
            rc = None
            try:
                proc.stdin.write("".join(line + "\n" for line in lines).encode())
                proc.stdin.close()
                fd = proc.stdout.fileno()
                pending = b""
                while done < len(lines):
                    # Wait for output, but notice the exe's end even if another process keeps
                    # the pipe open (then no EOF would come).
                    if not select.select([fd], [], [], 1.0)[0]:
                        if proc.poll() is not None:
                            break
                        continue
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break  # the batch ended (failed) early
                    pending += chunk
                    while b"\n" in pending and done < len(lines):
                        raw, pending = pending.split(b"\n", 1)
                        text = raw.decode(errors="replace").strip()
                        if not text:
                            continue
                        try:
                            result = json.loads(text)
                        except ValueError:
                            raise WineBenchError("unexpected output: %r" % text)
                        on_result(done, result)
                        done += 1
                try:
                    rc = proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    rc = "still running 60 s after its last result"
            finally:
                timer.cancel()
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            if done != len(lines) or rc != 0:
                err.seek(0)
                why = "killed after %d s" % budget if rc == -9 else "status %s" % rc
                raise WineBenchError("%s batch: %s after %d of %d measurements (next: %s): %s" % (
                    EXE_NAME, why, done, len(lines), lines[done] if done < len(lines) else "-",
                    err.read().decode(errors="replace").strip()[-2000:]))

    # -- the figures: each group is (spec, [(variant name, measurement line)]) -----------------

    def fifo(self):
        total = self.p["fifo_total"]
        floor = "raw CreateNamedPipe + ReadFile/WriteFile loop (floor)"
        for chunk in FIFO_CHUNKS:
            line = "fifo --impl %%s --chunk %d --total %d" % (chunk, total)
            yield (dict(group="wine_fifo_%s" % human_size(chunk).replace(" ", ""),
                        value_key="bytes_per_s", unit="MB/s", better="higher", floor=floor,
                        label="FIFO throughput, %s chunks, %s per run %s" % (
                            human_size(chunk), human_size(total), self.tag)),
                   [(floor, line % "raw"), ("npipe -> npipe", line % "npipe")])

    def latency(self):
        count = self.p["rtt_count"]
        floor = "raw message-mode WriteFile/ReadFile ping-pong (floor)"
        for size in RTT_SIZES:
            line = "rtt --impl %%s --size %d --count %d --into %%d" % (size, count)
            yield (dict(group="wine_rtt_%s" % human_size(size).replace(" ", ""),
                        value_key="median_us", unit="us", better="lower", floor=floor,
                        label="Channel round trip, %s messages, %d round trips per run %s" % (
                            human_size(size), count, self.tag)),
                   [(floor, line % ("raw", 0)), ("npipe <-> npipe", line % ("npipe", 0)),
                    ("npipe <-> npipe (recv_bytes_into)", line % ("npipe", 1))])

    def throughput(self):
        floor = "raw message-mode WriteFile/ReadFile, reused buffer (floor)"
        for size in STREAM_SIZES:
            count = max(self.p["min_messages"], self.p["stream_bytes"] // size)
            line = "stream --impl %%s --size %d --count %d --into %%d" % (size, count)
            yield (dict(group="wine_stream_%s" % human_size(size).replace(" ", ""),
                        value_key="bytes_per_s", unit="MB/s", better="higher", floor=floor,
                        label="Channel throughput, %s messages one way, %d per run %s" % (
                            human_size(size), count, self.tag)),
                   [(floor, line % ("raw", 0)), ("npipe <-> npipe", line % ("npipe", 0)),
                    ("npipe <-> npipe (recv_bytes_into)", line % ("npipe", 1))])

    def handshakes(self):
        count = self.p["connects"]
        floor = "npipe <-> npipe, no authkey (floor: connect alone)"
        line = "connect --count %d" % count
        yield (dict(group="wine_handshake", value_key="per_s", unit="conn/s", better="higher",
                    floor=floor,
                    label="Connect + handshake, %d connections per run; no CPython under Wine, "
                          "so the floor is npipe's connect without authkey %s" % (count, self.tag)),
               [(floor, line),
                ("npipe <-> npipe, {sha256} challenge",
                 line + " --authkey bench-key --form sha256"),
                ("npipe <-> npipe, legacy MD5 challenge",
                 line + " --authkey bench-key --form md5")])

    def figures_of(self, spec, variants, results):
        """As run.py's Bench.measure: one figure per variant, from its runs' results."""
        samples = {name: [float(r[spec["value_key"]]) for r in results[name]]
                   for name, _ in variants}
        floor = spec["floor"]
        floor_median = statistics.median(samples[floor]) if floor else None
        out = []
        for name, _ in variants:
            values = samples[name]
            med = statistics.median(values)
            fig = {
                "group": spec["group"], "label": spec["label"], "name": name,
                "unit": spec["unit"], "better": spec["better"], "median": med,
                "min": min(values), "max": max(values), "runs": values, "floor": floor,
                "ratio_to_floor": (med / floor_median) if floor_median else None,
            }
            if spec["value_key"] == "median_us":  # latency: keep p99 beside the median
                p99 = [float(r["p99_us"]) for r in results[name]]
                fig["p99_median"] = statistics.median(p99)
                fig["p99_min"], fig["p99_max"] = min(p99), max(p99)
                if floor:
                    floor_p99 = statistics.median(float(r["p99_us"]) for r in results[floor])
                    fig["p99_ratio_to_floor"] = fig["p99_median"] / floor_p99
            out.append(fig)
        return out

    def run(self):
        reason = not_available(self.exe)
        if reason:
            raise WineBenchError(reason)
        version = wine_version()  # "wine-8.0"
        major = version.split("-", 1)[-1].split(".")[0]
        self.tag = "(Wine %s, not Windows)" % major
        groups = [g for step in (self.fifo, self.latency, self.throughput, self.handshakes)
                  for g in step()]
        # The plan: group by group, each variant once per run, interleaved run by run.
        plan = [(gi, name, line) for gi, (_, variants) in enumerate(groups)
                for _ in range(self.p["runs"]) for name, line in variants]
        results = [{name: [] for name, _ in variants} for _, variants in groups]
        t0 = time.perf_counter()
        last = [t0]

        def on_result(i, result):
            gi, name, _ = plan[i]
            results[gi][name].append(result)
            if i + 1 == len(plan) or plan[i + 1][0] != gi:
                now = time.perf_counter()
                print("bench: wine %s done in %.1f s" % (groups[gi][0]["group"], now - last[0]),
                      file=self.log, flush=True)
                last[0] = now

        with WineServer(prefix_of(self.exe)) as server:
            self.env = server.env
            self.hello()
            last[0] = time.perf_counter()
            self.batch([line for _, _, line in plan], on_result)
        figs = []
        for gi, (spec, variants) in enumerate(groups):
            figs += self.figures_of(spec, variants, results[gi])
        print("bench: wine section (%s, %s profile, N = %d, %d measurements) done in %.1f s" % (
            version, self.size, self.p["runs"], len(plan), time.perf_counter() - t0),
            file=self.log, flush=True)
        return figs


def figures(exe=None, size="full", runs=0, log=sys.stderr):
    """Every Wine figure, as figure dicts of run.py's Bench.measure() shape, in table order.

    exe: npipe-bench-win.exe (default: default_exe()); size: "full" or "smoke"; runs: N (0: the
    profile's). Raises WineBenchError when the figures cannot be measured or a run fails.
    """
    try:
        return WineBench(exe or default_exe(), size, runs, log).run()
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        raise WineBenchError("%s: %s" % (type(e).__name__, e)) from e


def markdown(figs):
    """A table of the figures alone (run.py prints them in its own table)."""
    lines = []
    group = None
    for f in figs:
        if f["group"] != group:
            group = f["group"]
            lines += ["", "### " + f["label"], ""]
            if f["unit"] == "us":
                lines += ["| pair | median us | spread | ratio | p99 us | p99 spread | p99 ratio |",
                          "|---|---:|---|---:|---:|---|---:|"]
            else:
                lines += ["| variant | %s | spread | ratio to floor |" % f["unit"],
                          "|---|---:|---|---:|"]

        def fmt(v):
            if f["unit"] == "MB/s":
                return "%.0f" % (v / 1e6)
            if f["unit"] == "conn/s":
                return "%.0f" % v
            return "%.1f" % v
        ratio = "%.2f" % f["ratio_to_floor"] if f["ratio_to_floor"] is not None else "-"
        row = "| %s | %s | %s..%s | %s |" % (f["name"], fmt(f["median"]), fmt(f["min"]),
                                             fmt(f["max"]), ratio)
        if f["unit"] == "us":
            row += " %.1f | %.1f..%.1f | %s |" % (
                f["p99_median"], f["p99_min"], f["p99_max"],
                "%.2f" % f["p99_ratio_to_floor"] if "p99_ratio_to_floor" in f else "-")
        lines.append(row)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exe", default=default_exe())
    ap.add_argument("--size", choices=sorted(PROFILES), default="full")
    ap.add_argument("--runs", type=int, default=0, help="N (default: the profile's)")
    ap.add_argument("--json", help="also write the figures to this file")
    opts = ap.parse_args()
    try:
        figs = figures(opts.exe, opts.size, opts.runs)
    except WineBenchError as e:
        raise SystemExit("wine: not measured: %s" % e)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(figs, f, indent=1)
    sys.stdout.write(markdown(figs))


if __name__ == "__main__":
    main()
