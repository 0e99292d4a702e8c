"""The CPython agents (harness/agents/) speak spec/driver-protocol.md exactly, under every
interpreter: CPython against CPython, no npipe involved."""
import json
import os
import stat
import time

import pytest

from npipe_harness.agent import b64, pattern_sha256, unb64

FIFO_OPS = {"hello", "bye", "create", "open", "read", "write", "remove", "release", "close"}
CONN_OPS = {"hello", "bye", "listen", "accept", "connect", "send", "recv", "close"}


@pytest.mark.parametrize("kind", ["fifo", "connection"])
def test_session(env, interp, kind):
    a = env.cpython_agent(interp, kind)
    h = a.hello_reply
    assert h["impl"] == "cpython-" + kind and h["platform"] == "linux"
    assert h["version"] == "%d.%d.%d" % interp.version
    assert set(h["ops"]) == (FIFO_OPS if kind == "fifo" else CONN_OPS)
    assert h["profiles"] == (["fifo"] if kind == "fifo" else ["channel"])
    # malformed commands, unknown ops and handles
    a.proc.stdin.write(b"this is not json\n")
    a.proc.stdin.flush()
    bad = json.loads(a._read_line(time.monotonic() + 10))  # id null: read it raw
    assert bad["ok"] is False and bad["error"] == "protocol_error"
    assert a.call("frobnicate")["error"] == "unsupported"
    assert a.call("close", handle="nope")["error"] == "protocol_error"
    assert a.call("close")["error"] == "protocol_error"
    assert a.ok("bye")["ok"] is True
    assert a.proc.wait(10) == 0


@pytest.mark.parametrize("kind", ["fifo", "connection"])
def test_stdin_eof_exits_zero(env, interp, kind):
    a = env.cpython_agent(interp, kind)
    assert a.finish(10) == 0


@pytest.mark.req("FIFO-CREATE-1", "FIFO-CREATE-2", "FIFO-OPEN-1", "FIFO-OPEN-2", "FIFO-IO-1", "FIFO-EOF-1")
def test_fifo_pair(env, interp):
    owner, peer = env.cpython_agent(interp, "fifo"), env.cpython_agent(interp, "fifo")
    path = env.path("f")
    o = owner.ok("create", name=path, dir="r")["handle"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_ISFIFO(os.stat(path).st_mode)
    pending = owner.start("open", owner=o, dir="r")
    assert owner.blocked(pending), "open for reading completed with no writer"
    w = peer.ok("open", name=path, dir="w")["handle"]
    r = owner.wait(pending)["handle"]
    assert peer.ok("write", handle=w, data=b64(b"hello"))["written"] == 5
    assert unb64(owner.ok("read", handle=r, max=100)["data"]) == b"hello"
    pending = owner.start("read", handle=r, digest=True)  # the write fills the FIFO: read first
    assert peer.ok("write", handle=w, pattern={"size": 3 << 20, "seed": 7})["written"] == 3 << 20
    peer.ok("close", handle=w)
    got = owner.wait(pending)
    assert got["size"] == 3 << 20 and got["sha256"] == pattern_sha256(3 << 20, 7) and got["eof"]
    assert owner.ok("read", handle=r).get("eof") is True
    owner.ok("close", handle=r)
    owner.ok("close", handle=o)
    assert not os.path.exists(path), "closing the owner left the name"
    p2 = env.path("m")
    o2 = owner.ok("create", name=p2, dir="w", mode=0o640)["handle"]
    assert stat.S_IMODE(os.stat(p2).st_mode) == 0o640
    owner.ok("release", handle=o2)
    assert os.path.exists(p2)


@pytest.mark.req("FIFO-OPEN-3", "FIFO-OPEN-4", "FIFO-OPEN-5", "FIFO-OPEN-6", "FIFO-OPEN-7", "FIFO-OPEN-8",
                 "FIFO-CREATE-3", "FIFO-CREATE-4")
def test_fifo_errors(env, interp):
    a = env.cpython_agent(interp, "fifo")
    path = env.path("f")
    o = a.ok("create", name=path, dir="r")["handle"]
    assert a.call("create", name=path, dir="r")["error"] == "already_exists"
    r = a.call("open", name=path, dir="r", timeout_ms=500)
    assert r["error"] == "unsupported", "a deadline on open() is not something CPython has: %r" % r
    assert a.call("open", name=path, dir="w", timeout_ms=0)["error"] == "would_block"
    rd = a.ok("open", name=path, dir="r", timeout_ms=0)["handle"]  # POSIX: at once
    a.ok("close", handle=rd)
    assert a.call("open", name=env.path("missing"), dir="r")["error"] == "not_found"
    regular = env.path("reg")
    with open(regular, "w") as f:
        f.write("keep")
    assert a.call("open", name=regular, dir="w")["error"] == "not_a_pipe"
    assert open(regular).read() == "keep"
    assert a.call("create", name=regular, dir="w", adopt=True)["error"] == "not_a_pipe"
    link = env.path("link")
    os.symlink(path, link)
    assert a.call("open", name=link, dir="r")["error"] == "not_a_pipe"
    adopted = a.ok("create", name=path, dir="w", adopt=True)["handle"]
    a.ok("release", handle=adopted)
    a.ok("close", handle=o)


@pytest.mark.req("FIFO-PIPE-1", "FIFO-REMOVE-1", "FIFO-REMOVE-2", "FIFO-REMOVE-4")
def test_fifo_remove_and_broken_pipe(env, interp):
    owner, peer = env.cpython_agent(interp, "fifo"), env.cpython_agent(interp, "fifo")
    path = env.path("f")
    o = owner.ok("create", name=path, dir="w")["handle"]
    pending = owner.start("open", owner=o, dir="w")
    r = peer.ok("open", name=path, dir="r")["handle"]
    w = owner.wait(pending)["handle"]
    owner.ok("remove", handle=o)
    assert not os.path.exists(path)
    assert peer.call("open", name=path, dir="r")["error"] == "not_found"
    owner.ok("write", handle=w, data=b64(b"after"))
    assert unb64(peer.ok("read", handle=r)["data"]) == b"after"
    peer.ok("close", handle=r)
    got = owner.call("write", handle=w, data=b64(b"x" * 10))
    assert got["ok"] is False and got["error"] == "broken_pipe", got
    assert owner.proc.poll() is None, "the agent died of SIGPIPE"
    # an owner whose name was replaced does not remove the newcomer (FIFO-REMOVE-4)
    o2 = owner.ok("create", name=path, dir="r")["handle"]
    os.mkfifo(path + ".new")  # made while the old one exists: a different inode for sure
    os.rename(path + ".new", path)
    owner.ok("close", handle=o2)
    assert os.path.exists(path)


@pytest.mark.req("CHAN-AUTH-1", "CHAN-FRAME-3", "CHAN-RECV-1", "CHAN-RECV-2", "CHAN-EOF-1", "CHAN-ACCEPT-2")
def test_connection_pair(env, interp):
    srv, cli = env.cpython_agent(interp, "connection"), env.cpython_agent(interp, "connection")
    addr = env.path("s")
    key = b64(b"secret")
    l = srv.ok("listen", address=addr, authkey=key)["handle"]
    pending = srv.start("accept", handle=l)
    assert srv.blocked(pending)
    c = cli.ok("connect", address=addr, authkey=key)["handle"]
    s = srv.wait(pending)["handle"]
    for msg in [b"", b"x", b"hello world"]:
        cli.ok("send", handle=c, data=b64(msg))
        assert unb64(srv.ok("recv", handle=s)["data"]) == msg
    srv.ok("send", handle=s, pattern={"size": 100000, "seed": 3})
    got = cli.ok("recv", handle=c, digest=True)
    assert got == {"id": got["id"], "ok": True, "size": 100000, "sha256": pattern_sha256(100000, 3)}
    assert cli.call("recv", handle=c, timeout_ms=0)["error"] == "would_block"
    assert cli.call("recv", handle=c, timeout_ms=50)["error"] == "timeout"
    cli.ok("send", handle=c, data=b64(b"y" * 100))
    too_long = srv.call("recv", handle=s, max=10)
    assert too_long["error"] == "message_too_long", too_long
    after = srv.call("recv", handle=s)
    assert after["ok"] is False, "recv after message_too_long must fail (write-only): %r" % after
    srv.ok("send", handle=s, data=b64(b"still writable"))
    assert unb64(cli.ok("recv", handle=c)["data"]) == b"still writable"
    srv.ok("close", handle=s)
    # the refused payload was never read, so closing resets the connection: EOF or reset
    end = cli.call("recv", handle=c)
    assert end.get("eof") is True or end.get("native") == "ConnectionResetError", end
    assert srv.call("accept", handle=l, timeout_ms=100)["error"] == "unsupported"
    srv.ok("close", handle=l)
    assert not os.path.exists(addr)
    assert cli.call("connect", address=addr)["error"] == "not_found"


@pytest.mark.req("CHAN-AUTH-5")
def test_connection_wrong_key(env, interp):
    srv, cli = env.cpython_agent(interp, "connection"), env.cpython_agent(interp, "connection")
    addr = env.path("s")
    l = srv.ok("listen", address=addr, authkey=b64(b"right"))["handle"]
    pending = srv.start("accept", handle=l)
    got = cli.call("connect", address=addr, authkey=b64(b"wrong"))
    assert got["error"] == "auth_failed" and got["native"] == "AuthenticationError", got
    got = srv.wait(pending)
    assert got["error"] == "auth_failed" and got["native"] == "AuthenticationError", got
    native = "sha256" if interp.modern_handshake else "md5"
    other = "md5" if interp.modern_handshake else "sha256"
    assert srv.hello_reply["challenge"] == native
    assert cli.call("connect", address=addr, authkey=b64(b"k"), challenge=other)["error"] == "unsupported"
