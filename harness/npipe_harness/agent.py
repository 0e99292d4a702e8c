"""A small client of the driver protocol (spec/driver-protocol.md): spawns an agent, sends JSON
commands, waits for replies with deadlines, and decides "still blocked" the way section 6 says.

    with Agent([python, "agents/cpython_fifo.py"], procs) as a:
        a.hello()
        h = a.ok("create", name=path, dir="r")["handle"]
        pending = a.start("open", owner=h)        # no reply yet: the open blocks
        assert a.blocked(pending)
        ...
        a.wait(pending)                            # the reply, or AgentError after the deadline

Nothing here sleeps to synchronise: replies are awaited with select() and a deadline.
"""
import base64
import hashlib
import json
import os
import select
import subprocess
import time

DEFAULT_TIMEOUT = 30.0


class AgentError(AssertionError):
    """The agent misbehaved: no reply by the deadline, died, or broke the protocol."""


def pattern_bytes(size, seed=0):
    period = bytes((seed + k) % 256 for k in range(251))
    return (period * (size // 251 + 1))[:size]


def pattern_sha256(size, seed=0):
    h = hashlib.sha256()
    period = bytes((seed + k) % 256 for k in range(251))
    block = period * 4096
    left = size
    while left > 0:
        h.update(block[:left])
        left -= len(block)
    return h.hexdigest()


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text, validate=True)


class Agent:
    def __init__(self, argv, procs, name=None, log_dir=None, env=None, cwd=None):
        self.name = name or os.path.basename(argv[-1] if argv[0].endswith("python3") else argv[0])
        self.argv = list(argv)
        self.log_path = None
        stderr = subprocess.DEVNULL
        if log_dir:
            self.log_path = os.path.join(log_dir, "%s-%d.stderr" % (self.name, len(procs.procs)))
            stderr = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=stderr, env=env, cwd=cwd, bufsize=0)
        if stderr is not subprocess.DEVNULL:
            stderr.close()
        procs.add(self.proc)
        self.next_id = 1
        self.buffer = b""
        self.replies = {}
        self.hello_reply = None

    # -- transport ---------------------------------------------------------------------------
    def start(self, op, **fields):
        """Sends a command and returns its id without waiting for the reply."""
        cid = self.next_id
        self.next_id += 1
        cmd = dict(fields, id=cid, op=op)
        try:
            self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AgentError("%s: died before %s (exit %s)%s" % (self.name, op, self.proc.poll(), self.stderr_tail()))
        return cid

    def _read_line(self, deadline):
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise AgentError("%s: stdout closed (exit %s)%s" % (self.name, self.proc.poll(), self.stderr_tail()))
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def wait(self, cid, timeout=DEFAULT_TIMEOUT):
        """The reply to command `cid`; AgentError when none arrives within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while cid not in self.replies:
            line = self._read_line(deadline)
            if line is None:
                raise AgentError("%s: no reply to command %d within %.1fs%s" % (self.name, cid, timeout, self.stderr_tail()))
            self._store(line)
        return self.replies.pop(cid)

    def _store(self, line):
        try:
            reply = json.loads(line)
        except ValueError:
            raise AgentError("%s: PROTOCOL: not JSON on stdout: %r" % (self.name, line[:200]))
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool) or not isinstance(reply.get("id"), int):
            raise AgentError("%s: PROTOCOL: reply without id/ok: %r" % (self.name, reply))
        if reply["id"] in self.replies or reply["id"] >= self.next_id:
            raise AgentError("%s: PROTOCOL: unexpected reply %r" % (self.name, reply))
        if not reply["ok"] and not isinstance(reply.get("error"), str):
            raise AgentError("%s: PROTOCOL: failure without error name: %r" % (self.name, reply))
        self.replies[reply["id"]] = reply

    def call(self, op, timeout=DEFAULT_TIMEOUT, **fields):
        """Sends a command and returns its reply (ok or not)."""
        return self.wait(self.start(op, **fields), timeout)

    def ok(self, op, timeout=DEFAULT_TIMEOUT, **fields):
        """Like call(), but the reply must be a success."""
        reply = self.call(op, timeout, **fields)
        if not reply["ok"]:
            raise AssertionError("%s: %s %r failed: %r" % (self.name, op, _short(fields), reply))
        return reply

    def hello(self):
        self.hello_reply = self.ok("hello", timeout=20)
        assert self.hello_reply.get("protocol") == 1, self.hello_reply
        return self.hello_reply

    # -- observing blocking (section 6) ------------------------------------------------------
    def blocked(self, cid, grace=1.0):
        """True when command `cid` got no reply and the agent sits in a blocking system call.

        Linux: every thread in state S/D and the main thread not in read(0) (its command loop);
        the verdict then needs no grace period. Any reply that arrives makes this False (and the
        reply is kept for wait()). Elsewhere: no reply within `grace` seconds.
        """
        deadline = time.monotonic() + grace
        settled = 0
        while True:
            if self._peek_reply(cid, 0.0):
                return False
            if self._all_sleeping():
                settled += 1
                if settled >= 3:  # three consecutive looks, each after a select() round trip
                    return not self._peek_reply(cid, 0.0)
            else:
                settled = 0
            if time.monotonic() >= deadline:
                return not self._peek_reply(cid, 0.0)
            self._peek_reply(cid, 0.02)

    def _peek_reply(self, cid, wait):
        if cid not in self.replies:
            line = self._read_line(time.monotonic() + wait)
            if line is not None:
                self._store(line)
        return cid in self.replies

    def _all_sleeping(self):
        return all_sleeping(self.proc.pid, exclude_stdin_read=True)

    # -- lifetime ----------------------------------------------------------------------------
    def stderr_tail(self, n=800):
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""
        return ("\n--- %s stderr ---\n%s" % (self.name, text)) if text else ""

    def finish(self, timeout=10.0):
        """Closes stdin (the agent must exit 0 promptly) and returns the exit status."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AgentError("%s: did not exit within %.0fs of stdin EOF" % (self.name, timeout))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            try:
                self.finish(5.0)
            except AgentError:
                pass
        return False


def all_sleeping(pid, exclude_stdin_read=False):
    """Linux: every thread of `pid` in state S or D, the main one inside a system call (and not
    read(0, ...) when `exclude_stdin_read`: an agent waiting for its next command)."""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state not in ("S", "D"):
                return False
        with open("/proc/%d/syscall" % pid) as f:
            sc = f.read().split()
    except (OSError, IndexError):
        return False
    if not sc or sc[0] == "running":
        return False
    return not (exclude_stdin_read and sc[0] == "0" and len(sc) > 1 and int(sc[1], 16) == 0)


def process_blocked(proc, grace=1.0):
    """A child process (Popen) is blocked: alive and asleep in a system call on three looks in a
    row (Linux), or simply still alive after `grace` seconds elsewhere. Exited: False."""
    deadline = time.monotonic() + grace
    settled = 0
    while proc.poll() is None:
        settled = settled + 1 if all_sleeping(proc.pid) else 0
        if settled >= 3 or time.monotonic() >= deadline:
            return proc.poll() is None
        try:
            proc.wait(0.02)  # a bounded wait on process exit, not a sleep
        except subprocess.TimeoutExpired:
            pass
    return False


def _short(fields):
    return {k: (v[:40] + "...") if isinstance(v, str) and len(v) > 40 else v for k, v in fields.items()}


class ProcessRegistry:
    """Every process a test starts; whatever is still alive at teardown is killed."""

    def __init__(self):
        self.procs = []

    def add(self, proc):
        self.procs.append(proc)
        return proc

    def popen(self, argv, **kw):
        return self.add(subprocess.Popen(argv, **kw))

    def kill_all(self):
        alive = []
        for p in self.procs:
            if p.poll() is None:
                alive.append(p)
                p.kill()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream:
                    try:
                        stream.close()
                    except OSError:
                        pass
        return alive
