"""The authentication handshake between npipe and CPython: every pairing of npipe's challenge form
(legacy md5 / {sha256}) with every interpreter, in both roles, with the right and a wrong key;
the exact wire forms npipe sends and accepts; and what each CPython does, recorded as facts."""
import json
import os
import re
import select
import socket
import time

import pytest

from npipe_harness import wire
from npipe_harness.agent import b64, unb64
from npipe_harness.env import REPO

FACTS = os.path.join(REPO, "build", "harness", "cpython-facts.json")


@pytest.mark.req("CHAN-AUTH-1", "CHAN-AUTH-2", "CHAN-AUTH-3", "CHAN-AUTH-4", "CHAN-AUTH-5")
@pytest.mark.parametrize("key_ok", [True, False], ids=["right-key", "wrong-key"])
@pytest.mark.parametrize("form", ["md5", "sha256"], ids=["npipe-md5", "npipe-sha256"])
@pytest.mark.parametrize("topology", ["py-listens", "npipe-listens"])
def test_handshake_matrix(env, interp, topology, form, key_ok):
    py, npipe = env.cpython_agent(interp, "connection"), env.npipe_agent()
    addr = env.path("s")
    server, client = (py, npipe) if topology == "py-listens" else (npipe, py)
    srv_key, cli_key = b"shared key", (b"shared key" if key_ok else b"other key")
    l_fields = {"address": addr, "authkey": b64(srv_key)}
    c_fields = {"address": addr, "authkey": b64(cli_key)}
    (l_fields if server is npipe else c_fields)["challenge"] = form
    l = server.ok("listen", **l_fields)["handle"]
    pending = server.start("accept", handle=l)
    c = client.call("connect", timeout=20, **c_fields)
    s = server.wait(pending, 20)
    if key_ok:
        assert s["ok"] and c["ok"], "handshake failed: server %r, client %r" % (s, c)
        client.ok("send", handle=c["handle"], data=b64(b"ping"))
        assert unb64(server.ok("recv", handle=s["handle"])["data"]) == b"ping"
        server.ok("send", handle=s["handle"], data=b64(b"pong"))
        assert unb64(client.ok("recv", handle=c["handle"])["data"]) == b"pong"
    else:
        for who, r in (("server", s), ("client", c)):
            assert r.get("error") == "auth_failed", "%s with a wrong key: %r" % (who, r)
        py_reply = s if server is py else c
        assert py_reply.get("native") == "AuthenticationError", py_reply
    # the listener survives a failed or finished handshake: another client still gets in
    pending = server.start("accept", handle=l)
    c2 = client.call("connect", timeout=20, **dict(c_fields, authkey=b64(srv_key)))
    s2 = server.wait(pending, 20)
    assert c2["ok"] and s2["ok"], (c2, s2)


class RawClients:
    """An npipe-agent listening with a key; raw AF_UNIX clients play the Python side byte by byte."""

    def __init__(self, env, form, key=b"wire key"):
        self.agent, self.key, self.addr = env.npipe_agent(), key, env.path("s")
        self.l = self.agent.ok("listen", address=self.addr, authkey=b64(key), challenge=form)["handle"]

    def connect(self):
        pending = self.agent.start("accept", handle=self.l)
        return pending, wire.connect(self.addr)

    def challenge(self, sock):
        frame = wire.recv_frame(sock)
        assert frame.startswith(wire.CHALLENGE), frame
        return frame[len(wire.CHALLENGE):]


@pytest.mark.req("CHAN-AUTH-1", "CHAN-AUTH-2", "CHAN-AUTH-3")
@pytest.mark.parametrize("mine", ["legacy", "sha256", "sha384"])
@pytest.mark.parametrize("form", ["md5", "sha256"])
def test_npipe_listener_wire_form(env, form, mine):
    """npipe as listener: the challenge it sends, and how it answers the client's challenge."""
    rc = RawClients(env, form)
    pending, sock = rc.connect()
    message = rc.challenge(sock)
    if form == "md5":
        assert len(message) == 20, "legacy challenge: 20 random bytes, got %r" % message
        sock.sendall(wire.frame(wire.answer(rc.key, message, "raw")))
    else:
        assert message.startswith(b"{sha256}") and len(message) == 8 + 40, message
        sock.sendall(wire.frame(wire.answer(rc.key, message, "sha256")))
    assert wire.recv_frame(sock) == wire.WELCOME
    ours = os.urandom(20) if mine == "legacy" else b"{%s}" % mine.encode() + os.urandom(40)
    sock.sendall(wire.frame(wire.CHALLENGE + ours))
    reply = wire.recv_frame(sock)
    expected = wire.answer(rc.key, ours, "raw" if mine == "legacy" else mine)
    assert reply == expected, "npipe's answer to a %s challenge: %r" % (mine, reply)
    sock.sendall(wire.frame(wire.WELCOME))
    assert rc.agent.wait(pending)["ok"]
    sock.close()


@pytest.mark.req("CHAN-AUTH-4", "CHAN-AUTH-7")
@pytest.mark.parametrize("answer_form", ["raw", "md5", "sha256", "sha384", "sha3_256", "sha3_384"])
def test_npipe_verifier_accepts(env, answer_form):
    rc = RawClients(env, "sha256")
    pending, sock = rc.connect()
    message = rc.challenge(sock)
    sock.sendall(wire.frame(wire.answer(rc.key, message, answer_form)))
    assert wire.recv_frame(sock) == wire.WELCOME, "npipe refused a %s answer" % answer_form
    ours = b"{sha256}" + os.urandom(40)
    sock.sendall(wire.frame(wire.CHALLENGE + ours))
    assert wire.recv_frame(sock) == wire.answer(rc.key, ours, "sha256")
    sock.sendall(wire.frame(wire.WELCOME))
    assert rc.agent.wait(pending)["ok"]


@pytest.mark.req("CHAN-AUTH-5", "CHAN-AUTH-6")
@pytest.mark.parametrize("bad", ["wrong-mac", "truncated-mac", "oversized", "huge-header", "unknown-digest"])
def test_npipe_refuses(env, bad):
    rc = RawClients(env, "sha256")
    pending, sock = rc.connect()
    message = rc.challenge(sock)
    good = wire.answer(rc.key, message, "sha256")
    payload = {"wrong-mac": good[:-1] + bytes([good[-1] ^ 1]), "truncated-mac": good[:-4],
               "oversized": b"{sha256}" + b"x" * 300, "unknown-digest": b"{sha512}" + b"x" * 64}.get(bad)
    if bad == "huge-header":
        sock.sendall(b"\x7f\xff\xff\xf0")  # claims ~2 GiB: must be refused without reading it
    else:
        sock.sendall(wire.frame(payload))
    started = time.monotonic()
    got = rc.agent.wait(pending, 20)
    assert got.get("error") == "auth_failed", got
    if bad in ("wrong-mac", "truncated-mac", "unknown-digest"):
        try:
            assert wire.recv_frame(sock) == wire.FAILURE, "#FAILURE# must be sent before auth_failed"
        except (EOFError, ConnectionResetError) as e:
            raise AssertionError("npipe closed without sending #FAILURE#: %r" % e)
    assert time.monotonic() - started < 15
    # the listener stays usable (CHAN-AUTH-5: neither side hangs, nothing is left half-done)
    pending, sock2 = rc.connect()
    msg = rc.challenge(sock2)
    sock2.sendall(wire.frame(wire.answer(rc.key, msg, "sha256")))
    assert wire.recv_frame(sock2) == wire.WELCOME


@pytest.mark.req("CHAN-AUTH-2", "CHAN-AUTH-3")
@pytest.mark.parametrize("theirs", ["legacy", "sha256", "sha384"])
def test_npipe_client_answers(env, theirs):
    """npipe as client: a raw listener challenges it in each form."""
    key, addr = b"client key", env.path("s")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.settimeout(20)
    srv.bind(addr)
    srv.listen(1)
    npipe = env.npipe_agent()
    pending = npipe.start("connect", address=addr, authkey=b64(key), challenge="sha256")
    sock, _ = srv.accept()
    sock.settimeout(20)
    ours = os.urandom(20) if theirs == "legacy" else b"{%s}" % theirs.encode() + os.urandom(40)
    sock.sendall(wire.frame(wire.CHALLENGE + ours))
    reply = wire.recv_frame(sock)
    assert reply == wire.answer(key, ours, "raw" if theirs == "legacy" else theirs), reply
    sock.sendall(wire.frame(wire.WELCOME))
    message = wire.recv_frame(sock)[len(wire.CHALLENGE):]
    assert message.startswith(b"{sha256}"), message
    sock.sendall(wire.frame(wire.answer(key, message, "sha256")))
    assert wire.recv_frame(sock) == wire.WELCOME
    assert npipe.wait(pending)["ok"]
    srv.close()


# -- what each CPython does, recorded for the spec ------------------------------------------
def _record(interp, facts):
    os.makedirs(os.path.dirname(FACTS), exist_ok=True)
    try:
        with open(FACTS) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    data["%d.%d.%d" % interp.version] = dict(data.get("%d.%d.%d" % interp.version, {}), **facts)
    with open(FACTS, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)


# A "{name}" prefix is recognised only for the digest names CPython 3.12+ sends
# (Lib/multiprocessing/connection.py, _ALLOWED_DIGESTS): a raw HMAC-MD5 answer or a legacy
# challenge is random bytes and starts with "{" once in 256 runs, which is not a prefix.
_DIGEST_PREFIX = re.compile(rb"^\{(md5|sha256|sha384|sha3_256|sha3_384)\}")


def _describe(frame):
    m = _DIGEST_PREFIX.match(frame)
    if m:
        return "%s+%d" % (m.group(0).decode(), len(frame) - m.end())
    return "raw%d" % len(frame)


@pytest.mark.req("CHAN-AUTH-2", "CHAN-AUTH-3")
def test_cpython_facts(env, interp):
    facts = {}
    peer = env.pyexec(interp)
    # 1. the challenge a Listener sends
    addr = env.path("s")
    peer.run("from multiprocessing.connection import Listener, Client\n"
             "L = Listener(addr, authkey=b'k')", addr=addr)
    cid = peer.start_exec("L.accept()")
    sock = wire.connect(addr)
    first = wire.recv_frame(sock)[len(wire.CHALLENGE):]
    facts["listener_challenge"] = _describe(first)
    sock.close()
    peer.wait(cid)
    # 2. how a Client answers a legacy and a {sha256} challenge
    for name, ours in (("legacy", os.urandom(20)), ("sha256", b"{sha256}" + os.urandom(40))):
        addr = env.path("s")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.settimeout(20)
        srv.bind(addr)
        srv.listen(1)
        cid = peer.start_exec("c = Client(addr, authkey=b'k')", addr=addr)
        sock, _ = srv.accept()
        sock.settimeout(20)
        sock.sendall(wire.frame(wire.CHALLENGE + ours))
        reply = wire.recv_frame(sock)
        facts["client_answer_to_" + name] = _describe(reply)
        facts["client_answer_to_%s_valid" % name] = reply in (
            wire.answer(b"k", ours, "raw"), wire.answer(b"k", ours, "sha256"))
        sock.close()
        srv.close()
        peer.wait(cid)
    # 3. authkey b'': does the Listener run the handshake? (gh-88118, changed in 3.13)
    addr = env.path("s")
    peer.run("L2 = Listener(addr, authkey=b'')", addr=addr)
    cid = peer.start_exec("c2 = L2.accept(); out = 'accepted'")
    sock = wire.connect(addr)
    r, _, _ = select.select([sock, peer.proc.stdout], [], [], 20)
    facts["empty_key_listener_handshake"] = sock in r and wire.recv_frame(sock).startswith(wire.CHALLENGE)
    sock.close()
    peer.wait(cid)
    # 4. the pickle protocol of Connection.send and the 2 GiB escape in _send_bytes
    facts["send_pickle_protocol"] = peer.run(
        "from multiprocessing.reduction import ForkingPickler\n"
        "out = bytes(ForkingPickler.dumps('hi'))[1]")
    facts["send_has_escape"] = peer.run(
        "import inspect, multiprocessing.connection as m\n"
        "out = '0x7fffffff' in inspect.getsource(m.Connection._send_bytes)")
    _record(interp, facts)
    print(json.dumps(facts, sort_keys=True))
    # the spec's claims about CPython (spec section 9, from Lib/multiprocessing/connection.py), checked against what ran
    if interp.modern_handshake:
        assert facts["listener_challenge"] == "{sha256}+40"
        assert facts["client_answer_to_sha256"] == "{sha256}+32"
    else:
        assert facts["listener_challenge"] == "raw20"
        assert facts["client_answer_to_sha256"] == "raw16"
    assert facts["client_answer_to_legacy"] == "raw16"
    assert facts["client_answer_to_legacy_valid"] and facts["client_answer_to_sha256_valid"]


@pytest.mark.req("CHAN-AUTH-8", "CHAN-AUTH-9")
def test_key_on_npipe_side_only(env, interp):
    """npipe connects with a key to a CPython Listener without one: Python skips the handshake,
    npipe waits for a challenge that never comes and must fail by its deadline, not hang."""
    py, npipe = env.cpython_agent(interp, "connection"), env.npipe_agent()
    addr = env.path("s")
    l = py.ok("listen", address=addr)["handle"]
    pending = py.start("accept", handle=l)
    started = time.monotonic()
    got = npipe.call("connect", address=addr, authkey=b64(b"lonely"), timeout_ms=2000, timeout=30)
    elapsed = time.monotonic() - started
    assert got.get("error") == "timeout", got
    assert 1.5 < elapsed < 15, "the deadline was 2 s, npipe took %.1f s" % elapsed
    assert py.wait(pending)["ok"]
