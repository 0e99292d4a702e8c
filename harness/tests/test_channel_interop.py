"""multiprocessing.connection <-> npipe, both ways: a CPython Listener with npipe clients and an
npipe listener with CPython Clients, under every interpreter."""
import os
import pickle

import pytest

from npipe_harness import wire
from npipe_harness.agent import b64, pattern_bytes, pattern_sha256, unb64
from npipe_harness.env import expect_cli_error

SIZES = [0, 1, 16383, 16384, 16385, 1 << 20, 64 << 20]
TOPOLOGIES = ["py-listens", "npipe-listens"]


def agents(env, interp, topology):
    """(server agent, client agent) for a topology."""
    py, npipe = env.cpython_agent(interp, "connection"), env.npipe_agent()
    return (py, npipe) if topology == "py-listens" else (npipe, py)


def meet(server, client, address, key=None, srv_extra=None, cli_extra=None):
    """listen + accept on `server`, connect on `client`; returns (listener, server reply, client reply)."""
    auth = {} if key is None else {"authkey": b64(key)}
    l = server.ok("listen", address=address, **dict(auth, **(srv_extra or {})))["handle"]
    pending = server.start("accept", handle=l)
    creply = client.call("connect", address=address, **dict(auth, **(cli_extra or {})))
    sreply = server.wait(pending)
    return l, sreply, creply


def transfer(sender, s_handle, receiver, r_handle, size, seed):
    pending = sender.start("send", handle=s_handle, pattern={"size": size, "seed": seed})
    if size <= 16385:
        got = receiver.ok("recv", handle=r_handle, timeout=120)
        assert unb64(got["data"]) == pattern_bytes(size, seed), "%s -> %s: %d bytes differ" % (
            sender.name, receiver.name, size)
    else:
        got = receiver.ok("recv", handle=r_handle, digest=True, timeout=120)
        assert (got["size"], got["sha256"]) == (size, pattern_sha256(size, seed)), (
            "%s -> %s: %r" % (sender.name, receiver.name, got))
    assert sender.wait(pending, 120)["sent"] == size


@pytest.mark.req("CHAN-FRAME-1", "CHAN-FRAME-3", "CHAN-ACCEPT-1", "CHAN-EOF-1")
@pytest.mark.parametrize("size", SIZES, ids=lambda n: "%dB" % n)
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_messages(env, interp, topology, size):
    server, client = agents(env, interp, topology)
    addr = env.path("s")
    l, s, c = meet(server, client, addr)
    assert s["ok"] and c["ok"], (s, c)
    transfer(client, c["handle"], server, s["handle"], size, 11)
    transfer(server, s["handle"], client, c["handle"], size, 200)
    client.ok("close", handle=c["handle"])
    assert server.ok("recv", handle=s["handle"]).get("eof") is True


@pytest.mark.req("CHAN-AUTH-1", "CHAN-FRAME-3")
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_with_authkey_and_empty_messages(env, interp, topology):
    server, client = agents(env, interp, topology)
    l, s, c = meet(server, client, env.path("s"), key=b"k3y")
    assert s["ok"] and c["ok"], (s, c)
    for msg in [b"", b"", b"\x00", b"after two empty ones"]:
        client.ok("send", handle=c["handle"], data=b64(msg))
    for msg in [b"", b"", b"\x00", b"after two empty ones"]:
        assert unb64(server.ok("recv", handle=s["handle"])["data"]) == msg
    server.ok("send", handle=s["handle"], data=b64(b""))
    assert unb64(client.ok("recv", handle=c["handle"])["data"]) == b""


@pytest.mark.req("CHAN-FRAME-2")
def test_escape_header_small_frame(env, interp):
    """A 5-byte frame sent with the -1 + 8-byte length escape: CPython accepts it, so npipe must."""
    results = {}
    for name, listener in (("python", env.cpython_agent(interp, "connection")), ("npipe", env.npipe_agent())):
        addr = env.path("s")
        l = listener.ok("listen", address=addr)["handle"]
        pending = listener.start("accept", handle=l)
        sock = wire.connect(addr)
        conn = listener.wait(pending)["handle"]
        sock.sendall(wire.frame(b"hello", escape=True) + wire.frame(b"", escape=True) + wire.frame(b"next"))
        results[name] = [listener.call("recv", handle=conn) for _ in range(3)]
        sock.close()
    for name, replies in results.items():
        got = [unb64(r["data"]) if r.get("ok") and "data" in r else r for r in replies]
        assert got == [b"hello", b"", b"next"], "%s receiving escaped frames: %r" % (name, got)


@pytest.mark.req("CHAN-RECV-1", "CHAN-RECV-2")
def test_maxlength_rejection(env, interp):
    """recv(max) on a longer message: message_too_long, then recv fails and send still works,
    with the same aftermath whether CPython or npipe is the receiver."""
    aftermath = {}
    for receiver_kind in ("python", "npipe"):
        py, npipe = env.cpython_agent(interp, "connection"), env.npipe_agent()
        receiver, sender = (py, npipe) if receiver_kind == "python" else (npipe, py)
        l, r, s = meet(receiver, sender, env.path("s"))
        r, s = r["handle"], s["handle"]
        sender.ok("send", handle=s, data=b64(b"z" * 100))
        refused = receiver.call("recv", handle=r, max=99)
        assert refused.get("error") == "message_too_long", (receiver_kind, refused)
        again = receiver.call("recv", handle=r, timeout=10)
        assert again["ok"] is False, "%s: recv after message_too_long must fail: %r" % (receiver_kind, again)
        receiver.ok("send", handle=r, data=b64(b"reply"))
        assert unb64(sender.ok("recv", handle=s)["data"]) == b"reply"
        aftermath[receiver_kind] = again["error"]
    assert aftermath["python"] == aftermath["npipe"], "different aftermath: %r" % aftermath


@pytest.mark.req("CHAN-RECV-1")
@pytest.mark.parametrize("receiver_kind", ["python", "npipe"])
def test_maxlength_exact_fits(env, interp, receiver_kind):
    py, npipe = env.cpython_agent(interp, "connection"), env.npipe_agent()
    receiver, sender = (py, npipe) if receiver_kind == "python" else (npipe, py)
    l, r, s = meet(receiver, sender, env.path("s"))
    sender.ok("send", handle=s["handle"], data=b64(b"q" * 100))
    assert unb64(receiver.ok("recv", handle=r["handle"], max=100)["data"]) == b"q" * 100


@pytest.mark.req("CHAN-EOF-1", "CHAN-EOF-2")
@pytest.mark.parametrize("receiver_kind", ["python", "npipe"])
@pytest.mark.parametrize("where", ["boundary", "inside-header", "inside-payload"])
def test_eof(env, interp, receiver_kind, where):
    receiver = env.cpython_agent(interp, "connection") if receiver_kind == "python" else env.npipe_agent()
    addr = env.path("s")
    l = receiver.ok("listen", address=addr)["handle"]
    pending = receiver.start("accept", handle=l)
    sock = wire.connect(addr)
    conn = receiver.wait(pending)["handle"]
    tail = {"boundary": b"", "inside-header": b"\x00\x00", "inside-payload": wire.frame(b"x" * 100)[:14]}[where]
    sock.sendall(wire.frame(b"first") + tail)
    sock.close()
    assert unb64(receiver.ok("recv", handle=conn)["data"]) == b"first"
    end = receiver.call("recv", handle=conn)
    if where == "boundary":
        assert end.get("eof") is True, end
    else:
        assert end.get("error") == "protocol_error", "EOF inside a frame must be protocol_error: %r" % end


@pytest.mark.req("CHAN-ACCEPT-2", "CHAN-CONNECT-2")
@pytest.mark.watchdog(240)
def test_many_python_clients(env, interp):
    n = 8
    npipe = env.npipe_agent()
    addr = env.path("s")
    l = npipe.ok("listen", address=addr, authkey=b64(b"many"))["handle"]
    peers = [env.pyexec(interp, name="client%d" % i) for i in range(n)]
    code = ("from multiprocessing.connection import Client\n"
            "c = Client(addr, authkey=b'many')\n"
            "c.send_bytes(('client %d|' % i).encode() * 1000)\n"
            "out = c.recv_bytes().decode()\n"
            "c.close()\n")
    pending = [(p, p.start_exec(code, addr=addr, i=i)) for i, p in enumerate(peers)]
    seen = set()
    for _ in range(n):
        c = npipe.ok("accept", handle=l, timeout=60)["handle"]
        msg = unb64(npipe.ok("recv", handle=c)["data"])
        who = msg.split(b"|", 1)[0].decode()
        assert msg == (who + "|").encode() * 1000, "message of %r garbled" % who
        seen.add(who)
        npipe.ok("send", handle=c, data=b64(("echo " + who).encode()))
        npipe.ok("close", handle=c)
    assert seen == {"client %d" % i for i in range(n)}
    for i, (p, cid) in enumerate(pending):
        reply = p.wait(cid, 60)
        assert reply["ok"] and reply["out"] == "echo client %d" % i, reply


@pytest.mark.req("CHAN-FRAME-1")
def test_pickled_object_arrives_as_pickle_bytes(env, interp):
    npipe = env.npipe_agent()
    addr = env.path("s")
    l = npipe.ok("listen", address=addr)["handle"]
    peer = env.pyexec(interp)
    cid = peer.start_exec(
        "from multiprocessing.connection import Client\n"
        "from multiprocessing.reduction import ForkingPickler\n"
        "obj = {'text': 'hi', 'n': 42, 'list': [1, 2.5, None, True], 'nested': {'k': 'v'}}\n"
        "c = Client(addr)\n"
        "c.send(obj)\n"
        "c.send('hi')\n"
        "out = [b64e(bytes(ForkingPickler.dumps(obj))), b64e(bytes(ForkingPickler.dumps('hi'))), obj]\n"
        "c.close()\n", addr=addr)
    conn = npipe.ok("accept", handle=l)["handle"]
    got = [unb64(npipe.ok("recv", handle=conn)["data"]) for _ in range(2)]
    expected = peer.wait(cid)
    assert expected["ok"], expected
    pickled_obj, pickled_hi, obj = expected["out"]
    assert got == [unb64(pickled_obj), unb64(pickled_hi)]
    assert pickle.loads(got[0]) == obj and pickle.loads(got[1]) == "hi"
    assert got[0][:1] == b"\x80", "a pickle with a PROTO opcode"
    print("pickle protocol of %s: %d" % (interp.id, got[0][1]))


@pytest.mark.req("CHAN-EOF-3", "CHAN-LIFE-2")
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_peer_gone(env, interp, topology):
    server, client = agents(env, interp, topology)
    l, s, c = meet(server, client, env.path("s"))
    server.ok("close", handle=s["handle"])
    assert client.ok("recv", handle=c["handle"]).get("eof") is True
    # the first send may still land in the socket buffer; the pipe breaks within a few
    results = [client.call("send", handle=c["handle"], data=b64(b"x" * 65536)) for _ in range(8)]
    errors = [r["error"] for r in results if not r["ok"]]
    assert errors and errors[0] == "broken_pipe", results[-1]
    assert client.proc.poll() is None, "%s died (SIGPIPE?)" % client.name


@pytest.mark.req("CHAN-CONNECT-1", "CHAN-LISTEN-2")
def test_not_found_and_busy_address(env, interp):
    py, npipe = env.cpython_agent(interp, "connection"), env.npipe_agent()
    addr = env.path("s")
    for a in (py, npipe):
        assert a.call("connect", address=addr)["error"] == "not_found"
    l = py.ok("listen", address=addr)["handle"]
    got = npipe.call("listen", address=addr)
    assert got["error"] == "already_exists", got
    # and the Python listener was not disturbed
    pending = py.start("accept", handle=l)
    c = npipe.ok("connect", address=addr)["handle"]
    assert py.wait(pending)["ok"]


# -- the CLI -----------------------------------------------------------------------------------
@pytest.mark.req("CHAN-AUTH-1", "ERR-3")
def test_cli_recv_from_python_client(env, interp):
    addr, keyfile = env.path("s"), env.path("key")
    with open(keyfile, "wb") as f:
        f.write(b"cli-key")
    recv = env.cli_start("recv", addr, "--authkey-file", keyfile, "--timeout", "30")
    peer = env.pyexec(interp)
    peer.run("import time\n"
             "from multiprocessing.connection import Client\n"
             "deadline = time.monotonic() + 30\n"
             "while True:\n"  # poll, with a deadline, until npipe recv listens
             "    try:\n"
             "        c = Client(addr, authkey=b'cli-key')\n"
             "        break\n"
             "    except (FileNotFoundError, ConnectionRefusedError):\n"
             "        assert time.monotonic() < deadline, 'npipe recv never listened'\n"
             "        time.sleep(0.01)\n"
             "for m in (b'one', b'two words', b'three'):\n"
             "    c.send_bytes(m)\n"
             "c.close()\n", addr=addr)
    out, err = recv.communicate(timeout=30)
    assert recv.returncode == 0, err
    assert out == b"one\ntwo words\nthree\n"


@pytest.mark.req("CHAN-AUTH-5", "ERR-3")
def test_cli_send_to_python_listener(env, interp):
    addr, keyfile = env.path("s"), env.path("key")
    with open(keyfile, "wb") as f:
        f.write(b"cli-key")
    py = env.cpython_agent(interp, "connection")
    l = py.ok("listen", address=addr, authkey=b64(b"cli-key"))["handle"]
    pending = py.start("accept", handle=l)
    res = env.cli("send", addr, "--authkey-file", keyfile, "--timeout", "30", "alpha", "", "gamma")
    assert res.returncode == 0, res.stderr
    conn = py.wait(pending)["handle"]
    got = [py.ok("recv", handle=conn) for _ in range(4)]
    assert [unb64(g["data"]) if "data" in g else "EOF" for g in got] == [b"alpha", b"", b"gamma", "EOF"]
    # wrong key: npipe exits auth_failed, Python raises AuthenticationError; neither hangs
    pending = py.start("accept", handle=l)
    with open(keyfile, "wb") as f:
        f.write(b"not-the-key")
    res = env.cli("send", addr, "--authkey-file", keyfile, "--timeout", "30", "x")
    expect_cli_error(res, "auth_failed")
    got = py.wait(pending)
    assert got["error"] == "auth_failed" and got["native"] == "AuthenticationError", got
