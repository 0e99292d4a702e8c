#!/usr/bin/env python3
"""bench/run.py: the benchmarks of issue 7 in one run (`make bench`, `make bench-smoke`).

Every figure is measured N times, the variants of one comparison interleaved run by run (so a
burst of load on a shared machine hits all of them alike), and reported as the median with its
spread (min..max). Each figure's ratio to its floor (the plain C loop over the same kernel object,
or CPython for the handshake) is the ratio of the medians. Outputs, in --out:
  bench.md    the Markdown table (also printed on stdout)
  bench.json  every figure with its runs, spread and ratio, and `targets`
  bench.svg   a chart of the target ratios

Standard library only; runs on the system python3. CPython peers run under --python.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree

import wine  # bench/wine.py: the Wine figures (windows())

HERE = os.path.dirname(os.path.abspath(__file__))
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# What one run moves, per size profile. "smoke" only proves every figure is produced.
PROFILES = {
    "full": {
        "fifo_total": 1 * GiB,
        "rtt_count": 10000,
        "stream_bytes": 256 * MiB,  # per run, per message size, at least 4 messages
        "small_stream_count": 100000,  # 64-byte messages
        "connects": 300,
        "mem_size": 64 * MiB,
        "runs": 5,
        "min_messages": 4,
        "big_message": 64 * MiB,
    },
    "smoke": {
        "fifo_total": 4 * MiB,
        "rtt_count": 100,
        "stream_bytes": 4 * MiB,
        "small_stream_count": 500,
        "connects": 10,
        "mem_size": 4 * MiB,
        "runs": 1,
        "min_messages": 1,
        "big_message": 4 * MiB,
    },
}
FIFO_CHUNKS = [64 * KiB, 1 * MiB]
RTT_SIZES = [64, 4 * KiB]
STREAM_SIZES = [64, 64 * KiB, 1 * MiB]  # and the profile's big_message
FRESH_FLOOR = "C, a new malloc'd buffer per message (floor of recv_bytes)"
# Where the two processes of a Channel pair (and of its floor) run; see Bench.placer.
LISTENER_CPU, CLIENT_CPU = 0, 1
PLACE = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2 and \
    {LISTENER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0)
MAXLEN = "npipe <-> npipe (recv_bytes with maxlength)"


def human_size(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return "%d %s" % (n // size, unit)
    return "%d B" % n


class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.p = dict(PROFILES[opts.size])
        if opts.runs:
            self.p["runs"] = opts.runs
        self.tmp = tempfile.mkdtemp(prefix="npipe-bench-")
        self.seq = 0
        self.figures = []  # dicts, in table order
        self.notes = []

    # -- running things -------------------------------------------------------------------------

    def path(self, stem):
        self.seq += 1
        return os.path.join(self.tmp, "%s-%d" % (stem, self.seq))

    def tool(self, impl):
        """The command prefix of a peer: npipe-bench (C++) or py_peer.py under a CPython."""
        if impl == "cpython":
            return [self.opts.python, os.path.join(HERE, "py_peer.py")]
        if impl == "cpython-legacy":
            return [self.opts.python_legacy, os.path.join(HERE, "py_peer.py")]
        return [self.opts.bin]

    def run_json(self, cmd, timeout=300, cpu=None):
        out = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=timeout, check=True,
                             preexec_fn=self.placer(cpu)).stdout
        return json.loads(out.decode().strip().splitlines()[-1])

    def placer(self, cpu):
        """Channel pairs and their floors run client and listener on two fixed CPUs (when the
        machine has two): otherwise the scheduler places each pair its own way, and a ratio of
        medians measures that placement as much as the code (round trips moved by 1.15-1.4x
        from run to run here before)."""
        if cpu is None or not PLACE:
            return None
        return lambda: os.sched_setaffinity(0, {cpu})

    def floor_args(self):
        return ["--cpu-child", str(LISTENER_CPU)] if PLACE else []

    def pair(self, server_impl, server_args, client_impl, client_args, into=False):
        """Starts a listener, waits for its "ready", runs the client, returns the client's JSON."""
        addr = self.path("chan") + ".sock"
        extra = {False: [], True: ["--into", "1"], "maxlength": ["--maxlength", "1"]}[into]
        server = subprocess.Popen(
            self.tool(server_impl) + ["serve", "--impl", "npipe", "--addr", addr] + server_args
            + (extra if server_impl == "npipe" else []),
            stdout=subprocess.PIPE, preexec_fn=self.placer(LISTENER_CPU))
        try:
            line = server.stdout.readline().decode().strip()
            if line != "ready":
                raise RuntimeError("listener did not start: %r" % line)
            result = self.run_json(self.tool(client_impl) + [
                "client", "--impl", "npipe", "--addr", addr] + client_args
                + (extra if client_impl == "npipe" else []), cpu=CLIENT_CPU)
            if server.wait(timeout=120) != 0:
                raise RuntimeError("listener failed")
            return result
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            if os.path.exists(addr):
                os.unlink(addr)

    def measure(self, group, variants, value_key, unit, better, floor=None, label=None,
                runs=None):
        """Runs each variant runs times, interleaved; records one figure per variant.

        variants: list of (name, fn) where fn() returns a result dict holding value_key.
        better: "higher" or "lower". floor: the name of the variant the ratios are taken against.
        """
        samples = {name: [] for name, _ in variants}
        extra = {name: [] for name, _ in variants}
        for _ in range(runs or self.p["runs"]):
            for name, fn in variants:
                r = fn()
                samples[name].append(float(r[value_key]))
                extra[name].append(r)
        floor_median = statistics.median(samples[floor]) if floor else None
        out = {}
        for name, _ in variants:
            values = samples[name]
            med = statistics.median(values)
            fig = {
                "group": group, "label": label or group, "name": name, "unit": unit,
                "better": better, "median": med, "min": min(values), "max": max(values),
                "runs": values, "floor": floor,
                "ratio_to_floor": (med / floor_median) if floor_median else None,
            }
            if value_key == "median_us":  # latency: keep p99 beside the median
                p99 = [float(r["p99_us"]) for r in extra[name]]
                fig["p99_median"] = statistics.median(p99)
                fig["p99_min"], fig["p99_max"] = min(p99), max(p99)
                if floor:
                    floor_p99 = statistics.median(float(r["p99_us"]) for r in extra[floor])
                    fig["p99_ratio_to_floor"] = fig["p99_median"] / floor_p99
            self.figures.append(fig)
            out[name] = fig
        return out

    def not_measured(self, group, why):
        self.figures.append({"group": group, "label": group, "name": "-", "not_measured": why})

    # -- the measurements -----------------------------------------------------------------------

    def selfcheck(self):
        """Not a figure: recv_bytes_into must behave before its speed means anything."""
        self.run_json([self.opts.bin, "selfcheck", "--addr", self.path("check") + ".sock"])

    def fifo(self):
        total = self.p["fifo_total"]
        for chunk in FIFO_CHUNKS:
            args = ["--chunk", str(chunk), "--total", str(total)]

            def native(impl, pipe_size=0):
                return lambda: self.run_json(
                    [self.opts.bin, "fifo", "--impl", impl, "--path", self.path("fifo"),
                     "--pipe-size", str(pipe_size)] + args)

            def dd_cat():
                path = self.path("fifo")
                os.mkfifo(path, 0o600)
                t0 = time.perf_counter()
                cat = subprocess.Popen(["cat", path], stdout=subprocess.DEVNULL)
                subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=%d" % chunk,
                                "count=%d" % (total // chunk), "status=none"], check=True)
                if cat.wait() != 0:
                    raise RuntimeError("cat failed")
                s = time.perf_counter() - t0
                os.unlink(path)
                return {"bytes_per_s": total / s}

            def cpython():
                return self.run_json(self.tool("cpython") + [
                    "fifo", "--path", self.path("fifo")] + args)

            self.measure(
                "fifo_%s" % human_size(chunk).replace(" ", ""),
                [("C read/write loop (floor)", native("c")), ("npipe -> npipe", native("npipe")),
                 ("C loop, SIGPIPE blocked around each write (FIFO-PIPE-1's least cost)",
                  native("c-nosigpipe")),
                 ("dd of=FIFO + cat FIFO", dd_cat), (self.py_name + " os.mkfifo+open", cpython),
                 ("C loop, F_SETPIPE_SZ 1 MiB", native("c", MiB)),
                 ("npipe, fifo_options::pipe_size 1 MiB", native("npipe", MiB))],
                "bytes_per_s", "MB/s", "higher", floor="C read/write loop (floor)",
                label="FIFO throughput, %s chunks, %s per run" % (human_size(chunk),
                                                                   human_size(total)))

    def stream_sizes(self):
        return STREAM_SIZES + [self.p["big_message"]]

    def channel_pairs(self):
        """The Channel pairs: (name, server impl, client impl, into)."""
        py = self.py_name
        return [
            ("npipe <-> npipe", "npipe", "npipe", False),
            ("npipe <-> npipe (recv_bytes_into)", "npipe", "npipe", True),
            ("npipe client -> %s listener" % py, "cpython", "npipe", False),
            ("%s client -> npipe listener" % py, "npipe", "cpython", False),
            ("%s <-> %s" % (py, py), "cpython", "cpython", False),
        ]

    def latency(self):
        count = self.p["rtt_count"]
        for size in RTT_SIZES:
            variants = [("C socketpair ping-pong (floor)", lambda size=size: self.run_json([
                self.opts.bin, "floor-pingpong", "--size", str(size), "--count", str(count)]
                + self.floor_args(), cpu=CLIENT_CPU)),
                        ("C ping-pong reading header, then payload (no read-ahead)",
                         lambda size=size: self.run_json([
                             self.opts.bin, "floor-pingpong", "--size", str(size), "--count",
                             str(count), "--split", "1"] + self.floor_args(), cpu=CLIENT_CPU))]
            for name, server, client, into in self.channel_pairs():
                variants.append((name, lambda s=server, c=client, i=into, size=size: self.pair(
                    s, ["--mode", "echo", "--size", str(size)], c,
                    ["--mode", "echo", "--size", str(size), "--count", str(count)], into=i)))
            self.measure("rtt_%s" % human_size(size).replace(" ", ""), variants, "median_us",
                         "us", "lower", floor="C socketpair ping-pong (floor)",
                         label="Channel round trip, %s messages, %d round trips per run" % (
                             human_size(size), count))

    def throughput(self):
        for size in self.stream_sizes():
            if size == 64:
                count = self.p["small_stream_count"]
            else:
                count = max(self.p["min_messages"], self.p["stream_bytes"] // size)
            def floor(fresh, size=size, count=count):
                return lambda: self.run_json([self.opts.bin, "floor-stream", "--size", str(size),
                                              "--count", str(count), "--fresh", str(int(fresh))]
                                             + self.floor_args(), cpu=CLIENT_CPU)
            variants = [("C socketpair writev/read (floor)", floor(False)),
                        (FRESH_FLOOR, floor(True))]
            pairs = self.channel_pairs()
            pairs.insert(1, (MAXLEN, "npipe", "npipe", "maxlength"))
            for name, server, client, into in pairs:
                variants.append((name, lambda s=server, c=client, i=into, size=size, count=count:
                                 self.pair(s, ["--mode", "sink", "--size", str(size)], c,
                                           ["--mode", "stream", "--size", str(size),
                                            "--count", str(count)], into=i)))
            key, unit = ("messages_per_s", "msg/s") if size == 64 else ("bytes_per_s", "MB/s")
            figs = self.measure("stream_%s" % human_size(size).replace(" ", ""), variants, key, unit,
                         "higher", floor="C socketpair writev/read (floor)",
                         label="Channel throughput, %s messages one way, %d per run" % (
                             human_size(size), count))
            # recv_bytes returns a new buffer per message: its floor is the C loop that does too.
            fresh = figs[FRESH_FLOOR]["median"]
            for name in ("npipe <-> npipe", MAXLEN):
                figs[name]["ratio_to_fresh_floor"] = figs[name]["median"] / fresh

    def handshakes(self):
        count = self.p["connects"]
        for form, py_impl, py_name in (("sha256", "cpython", self.py_name),
                                       ("md5", "cpython-legacy", self.py_legacy_name)):
            auth = ["--authkey", "bench-key", "--form", form]
            base = "%s <-> %s (baseline)" % (py_name, py_name)

            warmup = max(1, count // 10)  # off the clock: one-time costs are not the rate

            def connects(server, client):
                return lambda: self.pair(
                    server, ["--mode", "accept", "--count", str(count + warmup)] + auth,
                    client, ["--mode", "connect", "--count", str(count), "--warmup", str(warmup),
                             "--size", "0"] + auth)
            self.measure(
                "handshake_%s" % form,
                [(base, connects(py_impl, py_impl)),
                 ("npipe <-> npipe", connects("npipe", "npipe")),
                 ("npipe client -> %s listener" % py_name, connects(py_impl, "npipe")),
                 ("%s client -> npipe listener" % py_name, connects("npipe", py_impl))],
                "per_s", "conn/s", "higher", floor=base,
                label="Connect + %s handshake, %d connections per run (%s challenges with %s)" % (
                    form, count, "npipe" if form == "sha256" else "each side", form))

    def memory(self):
        size = self.p["mem_size"]

        def npipe(how):
            return lambda: self.run_json([self.opts.bin, "mem-recv", "--impl", "npipe",
                                          "--addr", self.path("mem") + ".sock",
                                          "--size", str(size)] + how)

        def cpython():
            return self.run_json(self.tool("cpython") + [
                "mem-recv", "--addr", self.path("mem") + ".sock", "--size", str(size)])

        figs = self.measure(
            "memory", [("npipe recv_bytes", npipe([])),
                       ("npipe recv_bytes(maxlength)", npipe(["--maxlength", "1"])),
                       ("npipe recv_bytes_into", npipe(["--into", "1"])),
                       (self.py_name + " recv_bytes", cpython)],
            "peak_delta_bytes", "MiB", "lower",
            label="Peak RSS growth receiving one %s message" % human_size(size))
        for fig in figs.values():  # ratio to the payload: 1.0 is payload + nothing
            fig["ratio_to_floor"] = fig["median"] / size
            fig["floor"] = "payload (%s)" % human_size(size)

    def conformance(self):
        exe = self.opts.conformance_bin or os.path.join(
            self.opts.root, "build", "posix", "bin", "npipe-conformance")
        if not os.path.exists(exe):
            self.not_measured("conformance", "%s does not exist (make build makes it)" % exe)
            return
        columns = self.opts.conformance_columns.split(",") if self.opts.conformance_columns else []
        if not columns and self.opts.size == "smoke":
            columns = ["reference-posix"]  # smoke: only that the figure is produced
        if not columns:
            minor = self.py_version.rsplit(".", 1)[0]  # columns are named by 3.X
            columns = ["reference-posix", "cpython-fifo-%s" % minor, "cpython-connection-%s" % minor]
        for column in columns:
            def run(column=column):
                report = tempfile.mkdtemp(dir=self.tmp)
                t0 = time.perf_counter()
                rc = subprocess.run([exe, "--only", column, "--report-dir", report],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
                s = time.perf_counter() - t0
                if rc not in (0, 1):  # 1: some scenario failed; still a wall time
                    raise RuntimeError("npipe-conformance --only %s: exit %d" % (column, rc))
                return {"seconds": s}
            # A column takes up to a minute: at most 3 runs each, said in the label.
            runs = min(3, self.p["runs"])
            self.measure("conformance", [(column, run)], "seconds", "s", "lower",
                         label="Conformance suite wall time per column (median of %d runs)" % runs,
                         runs=runs)

    def windows(self):
        """The Wine figures (bench/wine.py): informational, labelled Wine, never in targets."""
        exe = wine.default_exe(self.opts.root)
        reason = wine.not_available(exe)
        if reason:
            self.not_measured("windows (Wine)", reason)
            return
        try:
            self.figures += wine.figures(exe, self.opts.size, self.p["runs"])
        except wine.WineBenchError as e:
            if self.opts.smoke_check:  # bench-smoke: a figure that cannot be made is a failure
                raise
            print("bench: WINE SECTION FAILED: %s" % e, file=sys.stderr, flush=True)
            self.not_measured("windows (Wine)", "FAILED: %s" % e)

    # -- targets and output ---------------------------------------------------------------------

    def find(self, group, name):
        for f in self.figures:
            if f["group"] == group and f["name"] == name:
                return f
        raise KeyError((group, name))

    NPN = "npipe <-> npipe"
    INTO = "npipe <-> npipe (recv_bytes_into)"

    def fifo_targets(self):
        return [{"name": "FIFO throughput %s chunks: npipe / C loop" % human_size(chunk),
                 "ratio": self.find("fifo_%s" % human_size(chunk).replace(" ", ""),
                                    "npipe -> npipe")["ratio_to_floor"],
                 "target": 0.95, "direction": "min"} for chunk in FIFO_CHUNKS]

    def latency_targets(self):
        return [{"name": "Channel round trip %s (median): npipe / C ping-pong" % human_size(size),
                 "ratio": self.find("rtt_%s" % human_size(size).replace(" ", ""),
                                    self.NPN)["ratio_to_floor"],
                 "target": 1.15, "direction": "max"} for size in RTT_SIZES]

    def throughput_targets(self):
        py = "%s <-> %s" % (self.py_name, self.py_name)
        t = [{"name": "64 B message rate: npipe / %s" % py,
              "ratio": self.find("stream_64B", self.NPN)["median"]
              / self.find("stream_64B", py)["median"],
              "target": 1.4, "direction": "min"}]
        for size in self.stream_sizes():
            if size < MiB:
                continue
            g = "stream_%s" % human_size(size).replace(" ", "")
            # recv_bytes returns a new buffer per message, so it is held to the C loop that also
            # takes a new buffer per message; recv_bytes_into to the loop that reuses one.
            for name, api, key, floor in (
                    (self.NPN, "recv_bytes()", "ratio_to_fresh_floor", "C, new buffer each"),
                    (MAXLEN, "recv_bytes(maxlength)", "ratio_to_fresh_floor",
                     "C, new buffer each"),
                    (self.INTO, "recv_bytes_into", "ratio_to_floor", "C, one reused buffer")):
                t.append({"name": "Channel throughput %s (%s): npipe / %s"
                          % (human_size(size), api, floor),
                          "ratio": self.find(g, name)[key], "target": 0.9, "direction": "min"})
        return t

    def handshake_targets(self):
        return [{"name": "Connect + %s handshake rate: npipe / CPython" % form,
                 "ratio": self.find("handshake_%s" % form, self.NPN)["ratio_to_floor"],
                 "target": 2.0, "direction": "min"} for form in ("sha256", "md5")]

    def memory_targets(self):
        return [{"name": "Peak RSS receiving %s (%s) / payload"
                 % (human_size(self.p["mem_size"]), api),
                 "ratio": self.find("memory", "npipe " + api)["ratio_to_floor"],
                 "target": 1.05, "direction": "max"}
                for api in ("recv_bytes", "recv_bytes(maxlength)", "recv_bytes_into")]

    def targets(self):
        """The issue's targets whose figures this run measured (all of them without --only)."""
        t = []
        for part in (self.fifo_targets, self.latency_targets, self.throughput_targets,
                     self.handshake_targets, self.memory_targets):
            try:
                t += part()
            except KeyError:  # that group was not run (--only)
                pass
        for x in t:
            x["met"] = x["ratio"] >= x["target"] if x["direction"] == "min" \
                else x["ratio"] <= x["target"]
        return t

    def fmt(self, fig, key):
        v = fig[key]
        if fig["unit"] == "MB/s":
            return "%.0f" % (v / 1e6)
        if fig["unit"] == "MiB":
            return "%.1f" % (v / MiB)
        if fig["unit"] in ("msg/s", "conn/s"):
            return "%.0f" % v
        if fig["unit"] == "s":
            return "%.2f" % v
        return "%.1f" % v

    def markdown(self, targets, meta):
        lines = ["# npipe benchmarks", "",
                 "%s; %s; N = %d runs per figure (median, spread = min..max); %s profile; "
                 "CPython %s (legacy MD5 form: CPython %s). Ratios are medians over the floor's "
                 "median in the same run.%s" % (
                     meta["date"], meta["machine"], self.p["runs"], self.opts.size,
                     self.py_version, self.py_legacy_version,
                     " Channel pairs and their floors: listener on CPU %d, client on CPU %d."
                     % (LISTENER_CPU, CLIENT_CPU) if PLACE else ""), ""]
        group = None
        for f in self.figures:
            if f["group"] != group:
                group = f["group"]
                lines += ["", "### " + f["label"], ""]
                if "not_measured" in f:
                    lines.append("not measured: " + f["not_measured"])
                    continue
                if f["unit"] == "us":
                    lines += ["| pair | median us | spread | ratio | p99 us | p99 spread | "
                              "p99 ratio |", "|---|---:|---|---:|---:|---|---:|"]
                else:
                    lines += ["| variant | %s | spread | ratio to %s |" % (
                        f["unit"], "floor" if f["floor"] else "-"), "|---|---:|---|---:|"]
            if "not_measured" in f:
                continue
            ratio = "%.2f" % f["ratio_to_floor"] if f["ratio_to_floor"] is not None else "-"
            if "ratio_to_fresh_floor" in f:
                ratio += " (%.2f to the new-buffer floor)" % f["ratio_to_fresh_floor"]
            row = "| %s | %s | %s..%s | %s |" % (f["name"], self.fmt(f, "median"),
                                                   self.fmt(f, "min"), self.fmt(f, "max"), ratio)
            if f["unit"] == "us":
                row += " %.1f | %.1f..%.1f | %s |" % (
                    f["p99_median"], f["p99_min"], f["p99_max"],
                    "%.2f" % f["p99_ratio_to_floor"] if "p99_ratio_to_floor" in f else "-")
            lines.append(row)
        lines += ["", "### Targets", "", "| target | ratio | wanted | met |", "|---|---:|---:|---|"]
        for t in targets:
            lines.append("| %s | %.2f | %s %.2f | %s |" % (
                t["name"], t["ratio"], ">=" if t["direction"] == "min" else "<=", t["target"],
                "yes" if t["met"] else "**no**"))
        return "\n".join(lines) + "\n"

    def svg(self, targets):
        """A horizontal bar per target: the measured ratio, a tick at the target."""
        row_h, left, width, top = 26, 470, 420, 40
        top_ratio = max([t["ratio"] for t in targets] + [t["target"] for t in targets] + [1.0]) * 1.1
        scale = width / top_ratio
        h = top + row_h * len(targets) + 40
        out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
               'font-family="sans-serif" font-size="12">' % (left + width + 130, h),
               '<rect width="100%" height="100%" fill="white"/>',
               '<text x="10" y="22" font-size="15" font-weight="bold">npipe: target ratios '
               '(bar = measured, black tick = target; green met, red not)</text>']
        for i, t in enumerate(targets):
            y = top + i * row_h
            color = "#3a9d4a" if t["met"] else "#d0453a"
            out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                       % (left - 8, y + 16, xml_escape(t["name"])))
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                       % (left, y + 4, t["ratio"] * scale, row_h - 8, color))
            tx = left + t["target"] * scale
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" '
                       'stroke-width="2"/>' % (tx, y + 1, tx, y + row_h - 1))
            out.append('<text x="%.1f" y="%d">%s</text>' % (
                left + max(t["ratio"], t["target"]) * scale + 6, y + 16, xml_escape("%.2f (%s %.2f)" % (
                    t["ratio"], ">=" if t["direction"] == "min" else "<=", t["target"]))))
        axis_y = top + row_h * len(targets) + 6
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
                   % (left, axis_y, left + width, axis_y))
        step = 0.5 if top_ratio <= 4 else 1.0
        v = 0.0
        while v <= top_ratio:
            x = left + v * scale
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/>'
                       % (x, axis_y, x, axis_y + 4))
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%.1fx</text>'
                       % (x, axis_y + 17, v))
            v += step
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def python_version(self, exe):
        return subprocess.run([exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                              stdout=subprocess.PIPE, check=True).stdout.decode().strip()

    def main(self):
        self.py_version = self.python_version(self.opts.python)
        self.py_legacy_version = self.python_version(self.opts.python_legacy)
        self.py_name = "CPython " + self.py_version.rsplit(".", 1)[0]
        self.py_legacy_name = "CPython " + self.py_legacy_version.rsplit(".", 1)[0]
        meta = {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": "%s, %d CPUs, load average %.1f at start" % (
                platform.platform(), os.cpu_count(), os.getloadavg()[0]),
        }
        steps = [self.fifo, self.latency, self.throughput, self.handshakes, self.memory,
                 self.conformance, self.windows]
        if self.opts.only:
            wanted = self.opts.only.split(",")
            unknown = set(wanted) - {step.__name__ for step in steps}
            if unknown:
                raise SystemExit("bench: --only: unknown group(s) %s; known: %s" % (
                    ", ".join(sorted(unknown)), ", ".join(step.__name__ for step in steps)))
            steps = [step for step in steps if step.__name__ in wanted]
        try:
            self.selfcheck()
            for step in steps:
                t0 = time.perf_counter()
                try:
                    step()
                except (RuntimeError, OSError, ValueError, KeyError,
                        subprocess.SubprocessError) as e:
                    # One broken group must not cost the figures of the others; the table says
                    # why it is missing. bench-smoke fails on it (its job is to notice).
                    if self.opts.smoke_check:
                        raise
                    print("bench: %s FAILED: %s" % (step.__name__, e), file=sys.stderr)
                    self.not_measured(step.__name__, "FAILED: %s" % e)
                    continue
                print("bench: %s done in %.1f s" % (step.__name__, time.perf_counter() - t0),
                      file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        meta["load_average_at_end"] = os.getloadavg()[0]
        targets = self.targets()
        md = self.markdown(targets, meta)
        os.makedirs(self.opts.out, exist_ok=True)
        with open(os.path.join(self.opts.out, "bench.md"), "w") as f:
            f.write(md)
        doc = {"meta": dict(meta, profile=self.opts.size, runs=self.p["runs"], sizes=self.p,
                            cpython=self.py_version, cpython_legacy=self.py_legacy_version,
                            statistic="median of runs; spread = min..max; ratio = median / "
                                      "median of the floor"),
               "figures": self.figures, "targets": targets}
        with open(os.path.join(self.opts.out, "bench.json"), "w") as f:
            json.dump(doc, f, indent=1)
        with open(os.path.join(self.opts.out, "bench.svg"), "w") as f:
            f.write(self.svg(targets))
        sys.stdout.write(md)
        return doc


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check_smoke(doc, out):
    """bench-smoke: every figure produced, every target a number. Nothing about speed."""
    with open(os.path.join(out, "bench.json")) as f:
        json.load(f)
    xml.etree.ElementTree.parse(os.path.join(out, "bench.svg"))  # well-formed SVG
    for f in doc["figures"]:
        if "not_measured" in f:
            continue
        for key in ("median", "min", "max"):
            if not isinstance(f[key], float) or f[key] != f[key]:
                raise SystemExit("bench-smoke: figure %s / %s has no %s" % (
                    f["group"], f["name"], key))
    for t in doc["targets"]:
        if not isinstance(t["ratio"], float) or t["direction"] not in ("min", "max"):
            raise SystemExit("bench-smoke: target %r is malformed" % t["name"])
    print("bench-smoke: %d figures, %d targets, JSON well formed" % (
        len(doc["figures"]), len(doc["targets"])), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(PROFILES), default="full")
    ap.add_argument("--runs", type=int, default=0, help="N (default: the profile's)")
    ap.add_argument("--bin", required=True, help="npipe-bench")
    ap.add_argument("--python", required=True, help="CPython 3.12+ for the CPython columns")
    ap.add_argument("--python-legacy", required=True,
                    help="CPython <= 3.11, whose Listener/Client use the legacy MD5 challenge")
    ap.add_argument("--root", default=os.path.dirname(HERE))
    ap.add_argument("--out", required=True)
    ap.add_argument("--conformance-columns", default="")
    ap.add_argument("--conformance-bin", default="",
                    help="npipe-conformance (default: ROOT/build/posix/bin/npipe-conformance)")
    ap.add_argument("--smoke-check", action="store_true")
    ap.add_argument("--only", default="",
                    help="comma-separated groups to run (fifo, latency, throughput, handshakes, "
                         "memory, conformance, windows); targets of the others are left out")
    opts = ap.parse_args()
    doc = Bench(opts).main()
    if opts.smoke_check:
        check_smoke(doc, opts.out)


if __name__ == "__main__":
    main()
