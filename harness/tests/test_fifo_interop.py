"""os.mkfifo + open() <-> npipe, both ways, under every interpreter: who makes the FIFO, who opens
first, who reads, EOF, broken pipe, big streams, PIPE_BUF atomicity, modes, removal."""
import hashlib
import os
import stat
import subprocess
import time

import pytest

from npipe_harness.agent import b64, pattern_bytes, pattern_sha256, process_blocked, unb64
from npipe_harness.env import expect_cli_error

PY_WRITE = "with open(path, 'wb') as f:\n    f.write(b64d(data))\n"
PY_READ = "with open(path, 'rb') as f:\n    out = b64e(f.read())\n"


def wait_for_path(path, proc, timeout=20.0):
    """Polls, with a deadline, until `proc` (which creates it) has made `path`."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, "npipe exited (%s) before creating %s: %r" % (
            proc.returncode, path, proc.stderr.read()[-400:] if proc.stderr else "")
        assert time.monotonic() < deadline, "%s never appeared" % path
        try:
            proc.wait(0.01)
        except subprocess.TimeoutExpired:
            pass


@pytest.mark.req("FIFO-OPEN-1", "FIFO-OPEN-2", "FIFO-EOF-1", "FIFO-IO-1", "FIFO-CREATE-4", "FIFO-LIFE-1")
@pytest.mark.parametrize("role", ["peer", "adopt"])
@pytest.mark.parametrize("npipe_dir", ["read", "write"])
@pytest.mark.parametrize("first", ["npipe-first", "python-first"])
def test_python_mkfifo_npipe_opens(env, interp, first, npipe_dir, role):
    py = env.pyexec(interp)
    path = env.path("f")
    py.run("os.mkfifo(path)", path=path)
    data = os.urandom(100000)
    args = [npipe_dir, path] + (["--adopt"] if role == "adopt" else [])
    py_code, py_vars = (PY_WRITE, {"data": b64(data)}) if npipe_dir == "read" else (PY_READ, {})

    def start_npipe():
        if npipe_dir == "read":
            return env.cli_start(*args)
        src = env.path("stdin")  # all of stdin is there before npipe opens: it can only block in open
        with open(src, "wb") as f:
            f.write(data)
        with open(src, "rb") as stdin:
            return env.cli_start(*args, stdin=stdin)

    if first == "npipe-first":
        proc = start_npipe()
        assert process_blocked(proc), "npipe %s completed with no peer: %r" % (npipe_dir, proc.communicate(timeout=5))
        cid = py.start_exec(py_code, path=path, **py_vars)
    else:
        cid = py.start_exec(py_code, path=path, **py_vars)
        assert py.blocked(cid), "Python's open() of a FIFO completed with no peer"
        proc = start_npipe()
    out, err = proc.communicate(timeout=60)
    reply = py.wait(cid)
    assert proc.returncode == 0, err
    assert reply["ok"], reply
    if npipe_dir == "read":
        assert out == data
    else:
        assert unb64(reply["out"]) == data
    # an adopting owner removes the name on exit; a peer leaves it
    assert os.path.exists(path) == (role == "peer"), "after npipe %s as %s" % (npipe_dir, role)


@pytest.mark.req("FIFO-CREATE-1", "FIFO-OPEN-1", "FIFO-EOF-1")
@pytest.mark.parametrize("maker", ["cli-mkfifo", "agent-owner", "cli-create"])
@pytest.mark.parametrize("py_dir", ["r", "w"])
def test_npipe_made_python_opens(env, interp, maker, py_dir):
    py = env.pyexec(interp)
    path = env.path("f")
    data = os.urandom(70000)
    npipe_dir = "w" if py_dir == "r" else "r"
    cid = None
    if maker == "cli-mkfifo":
        res = env.cli("mkfifo", path)
        assert res.returncode == 0, res.stderr
        proc = env.cli_start("write" if npipe_dir == "w" else "read", path,
                             stdin=subprocess.PIPE if npipe_dir == "w" else subprocess.DEVNULL)
    elif maker == "cli-create":
        proc = env.cli_start("write" if npipe_dir == "w" else "read", path, "--create",
                             stdin=subprocess.PIPE if npipe_dir == "w" else subprocess.DEVNULL)
        wait_for_path(path, proc)
    else:
        agent = env.npipe_agent()
        o = agent.ok("create", name=path, dir=npipe_dir)["handle"]
        pending = agent.start("open", owner=o, dir=npipe_dir)
        assert agent.blocked(pending)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600, oct(os.lstat(path).st_mode)
    cid = py.start_exec(PY_READ if py_dir == "r" else PY_WRITE, path=path, data=b64(data))
    if maker == "agent-owner":
        h = agent.wait(pending)["handle"]
        if npipe_dir == "w":
            agent.ok("write", handle=h, data=b64(data))
            agent.ok("close", handle=h)
        else:
            got = agent.ok("read", handle=h, digest=True)
            assert (got["size"], got["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        agent.ok("close", handle=o)
    else:
        out, err = proc.communicate(data if npipe_dir == "w" else None, timeout=60)
        assert proc.returncode == 0, err
        if npipe_dir == "r":
            assert out == data
    reply = py.wait(cid)
    assert reply["ok"], reply
    if py_dir == "r":
        assert unb64(reply["out"]) == data
    assert os.path.exists(path) == (maker == "cli-mkfifo"), "the owner removes its name, mkfifo leaves it"


@pytest.mark.req("FIFO-EOF-2")
def test_eof_after_last_python_writer(env, interp):
    path = env.path("f")
    w1, w2 = env.pyexec(interp, "w1"), env.pyexec(interp, "w2")
    w1.run("os.mkfifo(path)", path=path)
    agent = env.npipe_agent()
    c1 = w1.start_exec("f = open(path, 'wb', buffering=0)", path=path)
    r = agent.ok("open", name=path, dir="r")["handle"]
    assert w1.wait(c1)["ok"]
    w2.run("f = open(path, 'wb', buffering=0); f.write(b'two')", path=path)
    w1.run("f.write(b'one'); f.close()")
    got = b""
    while len(got) < 6:
        got += unb64(agent.ok("read", handle=r)["data"])
    assert sorted([got[:3], got[3:]]) == [b"one", b"two"]
    pending = agent.start("read", handle=r)
    assert agent.blocked(pending), "EOF came while a writer still held the FIFO"
    w2.run("f.close()")
    assert agent.wait(pending).get("eof") is True


@pytest.mark.req("FIFO-PIPE-1", "ERR-3")
def test_broken_pipe_python_writer(env, interp):
    """npipe's reader goes away: Python's write raises BrokenPipeError (and does not die)."""
    path = env.path("f")
    py = env.pyexec(interp)
    py.run("os.mkfifo(path)", path=path)
    agent = env.npipe_agent()
    cid = py.start_exec("f = open(path, 'wb')", path=path)
    r = agent.ok("open", name=path, dir="r")["handle"]
    assert py.wait(cid)["ok"]
    agent.ok("close", handle=r)
    reply = py.call("exec", code="f.write(b'x' * 100000); f.flush()")
    assert reply["ok"] is False and reply["native"] == "BrokenPipeError", reply
    assert py.run("out = 1") == 1, "Python died of SIGPIPE"


@pytest.mark.req("FIFO-PIPE-1", "ERR-3")
def test_broken_pipe_npipe_writer(env, interp):
    """Python's reader goes away: npipe write exits broken_pipe (9 + 5), not by SIGPIPE."""
    path = env.path("f")
    py = env.pyexec(interp)
    py.run("os.mkfifo(path)", path=path)
    big = env.path("input")
    with open(big, "wb") as f:
        f.write(os.urandom(4 << 20))  # far more than the FIFO holds
    cid = py.start_exec("f = open(path, 'rb'); first = f.read(1); f.close(); out = len(first)", path=path)
    with open(big, "rb") as stdin:
        proc = env.cli_start("write", path, stdin=stdin)
        out, err = proc.communicate(timeout=60)
    assert py.wait(cid)["out"] == 1
    assert proc.returncode != -13, "npipe died of SIGPIPE"
    expect_cli_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), "broken_pipe")


@pytest.mark.req("FIFO-IO-1")
@pytest.mark.watchdog(300)
@pytest.mark.parametrize("direction", ["python-to-npipe", "npipe-to-python"])
def test_256_mib_stream(env, interp, direction):
    size, seed = 256 << 20, 42
    path = env.path("f")
    py = env.pyexec(interp)
    py.run("os.mkfifo(path)", path=path)
    if direction == "python-to-npipe":
        cid = py.start_exec("with open(path, 'wb') as f:\n"
                            "    for chunk in pattern_chunks(size, seed):\n"
                            "        f.write(chunk)\n", path=path, size=size, seed=seed)
        proc = env.cli_start("read", path)
        h, n = hashlib.sha256(), 0
        while True:
            chunk = proc.stdout.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        assert proc.wait(60) == 0, proc.stderr.read()
        assert py.wait(cid, 120)["ok"]
        assert (n, h.hexdigest()) == (size, pattern_sha256(size, seed))
    else:
        cid = py.start_exec("h = hashlib.sha256(); n = 0\n"
                            "with open(path, 'rb') as f:\n"
                            "    while True:\n"
                            "        chunk = f.read(1 << 20)\n"
                            "        if not chunk:\n"
                            "            break\n"
                            "        h.update(chunk); n += len(chunk)\n"
                            "out = [n, h.hexdigest()]\n", path=path)
        proc = env.cli_start("write", path, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        period = pattern_bytes(251 * 4096, seed)
        left = size
        while left > 0:
            proc.stdin.write(period[:left])
            left -= len(period)
        proc.stdin.close()
        assert proc.wait(120) == 0, proc.stderr.read()
        reply = py.wait(cid, 120)
        assert reply["ok"] and reply["out"] == [size, pattern_sha256(size, seed)], reply


@pytest.mark.req("FIFO-IO-2", "FIFO-EOF-2")
@pytest.mark.watchdog(240)
def test_pipe_buf_records_from_python_writers(env, interp):
    writers, records, size = 4, 400, 4096
    path = env.path("f")
    assert env.cli("mkfifo", path).returncode == 0
    peers = [env.pyexec(interp, "writer%d" % i) for i in range(writers)]
    opens = [(p, p.start_exec("fd = os.open(path, os.O_WRONLY)", path=path)) for p in peers]
    reader = env.cli_start("read", path)
    for p, cid in opens:  # every writer holds the FIFO before anyone writes: EOF only at the end
        assert p.wait(cid)["ok"]
    code = ("for r in range(records):\n"
            "    head = ('writer %d record %06d ' % (k, r)).encode()\n"
            "    rec = head + bytes([65 + k]) * (size - len(head))\n"
            "    assert os.write(fd, rec) == size\n"
            "os.close(fd)\n")
    writes = [(p, p.start_exec(code, records=records, size=size, k=k)) for k, p in enumerate(peers)]
    out = b""
    while True:
        chunk = reader.stdout.read(1 << 16)
        if not chunk:
            break
        out += chunk
    assert reader.wait(60) == 0, reader.stderr.read()
    for p, cid in writes:
        assert p.wait(cid)["ok"]
    assert len(out) == writers * records * size
    seen = {k: [] for k in range(writers)}
    for off in range(0, len(out), size):
        rec = out[off:off + size]
        k, r = int(rec[7:8]), int(rec[16:22])
        head = ("writer %d record %06d " % (k, r)).encode()
        assert rec == head + bytes([65 + k]) * (size - len(head)), "record at %d interleaved" % off
        seen[k].append(r)
    assert all(seen[k] == list(range(records)) for k in seen), "records lost or reordered"


@pytest.mark.req("FIFO-CREATE-1", "FIFO-CREATE-2")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], ids=lambda m: "umask%03o" % m)
def test_modes_and_umask(env, interp, umask):
    py = env.pyexec(interp)
    p_py, p_default, p_mode = env.path("py"), env.path("np"), env.path("npm")
    got = py.run("old = os.umask(umask); os.mkfifo(path); os.umask(old); out = os.stat(path).st_mode",
                 path=p_py, umask=umask)
    assert stat.S_IMODE(got) == 0o666 & ~umask, "Python's os.mkfifo: 0o666 & ~umask"
    assert env.cli("mkfifo", p_default, umask=umask).returncode == 0
    assert stat.S_IMODE(os.stat(p_default).st_mode) == 0o600, oct(os.stat(p_default).st_mode)
    for mode in (0o644, 0o660, 0o666):
        p = "%s-%o" % (p_mode, mode)
        res = env.cli("mkfifo", p, "--mode", "%o" % mode, umask=umask)
        assert res.returncode == 0, res.stderr
        assert stat.S_IMODE(os.stat(p).st_mode) == mode, "--mode %o under umask %03o: %o" % (
            mode, umask, stat.S_IMODE(os.stat(p).st_mode))
    assert env.cli("mkfifo", p_py).returncode == 10 + 1, "mkfifo over Python's FIFO: already_exists"
    expect_cli_error(env.cli("mkfifo", p_py), "already_exists")


@pytest.mark.req("FIFO-REMOVE-1", "FIFO-REMOVE-2", "FIFO-REMOVE-3")
def test_python_removes_while_npipe_holds(env, interp):
    path = env.path("f")
    py = env.pyexec(interp)
    py.run("os.mkfifo(path)", path=path)
    agent = env.npipe_agent()
    cid = py.start_exec("f = open(path, 'wb', buffering=0)", path=path)
    r = agent.ok("open", name=path, dir="r")["handle"]
    assert py.wait(cid)["ok"]
    py.run("os.unlink(path)", path=path)
    py.run("f.write(b'still flowing')")
    assert unb64(agent.ok("read", handle=r)["data"]) == b"still flowing"
    got = agent.call("open", name=path, dir="w", timeout_ms=0)
    assert got.get("error") == "not_found", got
    py.run("os.mkfifo(path)", path=path)  # a new, unrelated FIFO at the same name
    r2 = agent.ok("open", name=path, dir="r", timeout_ms=0)["handle"]
    py.run("f.write(b'old'); f.close()")
    assert unb64(agent.ok("read", handle=r)["data"]) == b"old"
    assert agent.ok("read", handle=r).get("eof") is True
    py.run("g = open(path, 'wb', buffering=0); g.write(b'new'); g.close()", path=path)
    assert unb64(agent.ok("read", handle=r2)["data"]) == b"new", "the new FIFO is its own"


@pytest.mark.req("FIFO-REMOVE-1", "FIFO-REMOVE-2", "FIFO-REMOVE-4")
def test_npipe_removes_while_python_holds(env, interp):
    path = env.path("f")
    agent = env.npipe_agent()
    o = agent.ok("create", name=path, dir="w")["handle"]
    pending = agent.start("open", owner=o, dir="w")
    py = env.pyexec(interp)
    py.run("f = open(path, 'rb', buffering=0)", path=path)
    w = agent.wait(pending)["handle"]
    agent.ok("remove", handle=o)
    assert not os.path.exists(path)
    reply = py.call("exec", code="open(path, 'rb')", vars={"path": path})
    assert reply.get("native") == "FileNotFoundError", reply
    agent.ok("write", handle=w, data=b64(b"after removal"))
    assert unb64(py.run("out = b64e(f.read(100))")) == b"after removal"
    py.run("os.mkfifo(path)", path=path)  # Python takes the name again
    agent.ok("close", handle=o)  # ... and npipe's owner must not remove Python's FIFO
    assert os.path.exists(path), "npipe removed a FIFO that was no longer its own"
    agent.ok("close", handle=w)
    assert py.run("out = b64e(f.read(100))") == "", "EOF after npipe's writer closed"
