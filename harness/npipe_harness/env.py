"""The per-test environment: a private directory, the processes a test starts, and factories for
the peers (CPython agents, pyexec peers, npipe-agent, the npipe CLI). Everything is torn down
even when the test fails: processes killed, directory removed."""
import os
import shutil
import subprocess
import tempfile

from .agent import Agent, AgentError, ProcessRegistry

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(HARNESS)
AGENTS = os.path.join(HARNESS, "agents")
PEERS = os.path.join(HARNESS, "peers")

# CLI exit status: 9 + the error's number (include/npipe/error.hpp, spec ERR-3).
ERRC = ["not_found", "already_exists", "timeout", "would_block", "broken_pipe", "not_a_pipe",
        "permission_denied", "invalid_name", "message_too_long", "auth_failed", "unsupported",
        "protocol_error", "io_error"]
EXIT_STATUS = {name: 10 + i for i, name in enumerate(ERRC)}


def npipe_bin_dir(option=None):
    return option or os.environ.get("NPIPE_BIN_DIR") or os.path.join(REPO, "build", "posix", "bin")


class PyPeer(Agent):
    """A pyexec peer: run(code, **vars) executes Python in the peer and returns `out`."""

    def run(self, code, timeout=60.0, **vars):
        reply = self.call("exec", timeout, code=code, vars=vars)
        if not reply["ok"]:
            raise AssertionError("%s: python raised %s: %s\n  code: %s" % (
                self.name, reply.get("native"), reply.get("message"), code))
        return reply.get("out")

    def start_exec(self, code, **vars):
        return self.start("exec", code=code, vars=vars)


class Env:
    def __init__(self, bin_dir, request=None):
        self.dir = tempfile.mkdtemp(prefix="nph-", dir="/tmp")  # short: sun_path is 108 bytes
        os.chmod(self.dir, 0o700)
        self.logs = os.path.join(self.dir, ".logs")
        os.mkdir(self.logs)
        self.procs = ProcessRegistry()
        self.bin_dir = bin_dir
        self.counter = 0

    def path(self, stem="p"):
        self.counter += 1
        return os.path.join(self.dir, "%s%d" % (stem, self.counter))

    # -- peers -------------------------------------------------------------------------------
    def pyexec(self, interp, name=None):
        p = PyPeer([interp.path, "-I", "-u", os.path.join(PEERS, "pyexec.py")], self.procs,
                   name=name or "pyexec-%s" % interp.id, log_dir=self.logs, cwd=self.dir)
        p.hello()
        return p

    def cpython_agent(self, interp, kind):
        a = Agent([interp.path, "-I", "-u", os.path.join(AGENTS, "cpython_%s.py" % kind)],
                  self.procs, name="cpython_%s-%s" % (kind, interp.id), log_dir=self.logs, cwd=self.dir)
        a.hello()
        return a

    def npipe_exe(self, name):
        exe = os.path.join(self.bin_dir, name)
        if not os.access(exe, os.X_OK):
            raise AssertionError("npipe binary missing: %s (set NPIPE_BIN_DIR or --npipe-bin-dir)" % exe)
        return exe

    def npipe_agent(self):
        a = Agent([self.npipe_exe("npipe-agent")], self.procs, name="npipe-agent",
                  log_dir=self.logs, cwd=self.dir)
        a.hello()
        return a

    def cli(self, *args, input=b"", timeout=60.0, umask=None):
        """Runs `npipe ARGS...` to completion; returns CompletedProcess (stdout/stderr bytes)."""
        p = self.cli_start(*args, stdin=subprocess.PIPE, umask=umask)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate(timeout=5)
            raise AssertionError("npipe %s: no exit within %.0fs; stderr: %r" % (" ".join(args), timeout, err[-500:]))
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def cli_start(self, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, umask=None):
        argv = [self.npipe_exe("npipe")] + [str(a) for a in args]
        preexec = (lambda: os.umask(umask)) if umask is not None else None
        return self.procs.popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=self.dir,
                                preexec_fn=preexec)

    def close(self):
        self.procs.kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)


def expect_cli_error(res, name):
    """The CLI failed with portable error `name`: exit 9 + number, stderr "npipe: <name>: ..."."""
    err = res.stderr.decode("utf-8", "replace")
    assert res.returncode == EXIT_STATUS[name] and err.startswith("npipe: %s" % name), (
        "expected npipe to fail with %s (exit %d), got exit %s, stderr %r"
        % (name, EXIT_STATUS[name], res.returncode, err[:300]))


__all__ = ["Env", "PyPeer", "Agent", "AgentError", "EXIT_STATUS", "expect_cli_error", "npipe_bin_dir"]
