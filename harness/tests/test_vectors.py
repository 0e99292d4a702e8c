"""The handshake vectors of spec/vectors/handshake.json against every installed CPython's own
multiprocessing.connection (answer_challenge and deliver_challenge, run for real in that
interpreter over a socket pair; only os.urandom is fixed, to the vector's challenge bytes), so the
vectors are CPython's behaviour, not a model of npipe's code. 3.12+ must match the vectors
exactly; 3.8-3.11 must match the transcripts made for them (legacy form, raw MD5 answers)."""
import json
import os
import subprocess

import pytest

from npipe_harness.env import REPO

VECTORS = os.path.join(REPO, "spec", "vectors", "handshake.json")

# Runs inside the interpreter under test. argv: role, key hex, challenge or random hex, answer hex.
PEER = r'''
import json, os, socket, struct, sys, threading
from multiprocessing import connection as mc
role, key, a, b = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
s1, s2 = socket.socketpair()
conn = mc.Connection(s1.detach())
def frame(m): return struct.pack("!i", len(m)) + m
def read_frame(s):
    n = struct.unpack("!i", s.recv(4, socket.MSG_WAITALL))[0]
    return s.recv(n, socket.MSG_WAITALL) if n else b""
out = {}
def peer():
    try:
        if role == "answer":          # the test is the challenger: a is the whole challenge message
            s2.sendall(frame(a)); out["sent"] = read_frame(s2).hex(); s2.sendall(frame(b"#WELCOME#"))
        else:                         # the test is the responder: b is its answer
            out["challenge"] = read_frame(s2).hex(); s2.sendall(frame(b)); out["verdict"] = read_frame(s2).decode()
    except Exception as e:
        out["peer_error"] = repr(e)
t = threading.Thread(target=peer); t.start()
try:
    if role == "answer":
        mc.answer_challenge(conn, key)
    else:
        os.urandom = lambda n, _r=a: _r[:n]   # the vector's random bytes
        mc.deliver_challenge(conn, key)
    out["result"] = "ok"
except mc.AuthenticationError:
    out["result"] = "auth_failed"
t.join(10)
print(json.dumps(out))
'''


def run(interp, role, key, a, b=b""):
    r = subprocess.run([interp.executable, "-c", PEER, role, key.hex(), a.hex(), b.hex()],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def vectors():
    with open(VECTORS, encoding="utf-8") as f:
        return json.load(f)


def challenger_random(message: bytes) -> bytes:
    """The random part of a challenge message as CPython's deliver_challenge draws it."""
    m = message[len(b"#CHALLENGE#"):]
    return m[len(b"{sha256}"):] if m.startswith(b"{sha256}") else m


@pytest.mark.req("CHAN-AUTH-2", "CHAN-AUTH-3")
def test_cpython_answers_each_transcript_challenge_as_the_vectors_say(interp):
    modern = interp.version[:2] >= (3, 12)
    checked = 0
    for t in vectors()["transcripts"]:
        if t["steps"][1]["from"] != "client" or t["result"] != "ok":
            continue
        legacy_form = t["form"] == "legacy_md5"
        if not legacy_form and (t["client_answers"] == "in kind") != modern:
            continue  # this transcript's client is another CPython generation
        key = bytes.fromhex(t["client_key_hex"])
        got = run(interp, "answer", key, bytes.fromhex(t["steps"][0]["message_hex"]))
        assert got.get("sent") == t["steps"][1]["message_hex"], (t["name"], got)
        checked += 1
    assert checked == 2, checked


@pytest.mark.req("CHAN-AUTH-1", "CHAN-AUTH-4", "CHAN-AUTH-5")
def test_cpython_challenges_and_verifies_as_the_vectors_say(interp):
    modern = interp.version[:2] >= (3, 12)
    doc = vectors()
    checked = 0
    for t in doc["transcripts"]:
        if (t["form"] == "modern") != modern:
            continue
        challenge = bytes.fromhex(t["steps"][0]["message_hex"])
        got = run(interp, "deliver", bytes.fromhex(t["listener_key_hex"]), challenger_random(challenge),
                  bytes.fromhex(t["steps"][1]["message_hex"]))
        assert got.get("challenge") == challenge.hex(), (t["name"], got)
        assert got.get("verdict") == bytes.fromhex(t["steps"][2]["message_hex"]).decode(), (t["name"], got)
        assert got.get("result") == ("ok" if t["steps"][2]["message_hex"] == b"#WELCOME#".hex() else "auth_failed")
        checked += 1
    # 3.12+'s verifier is the rule of the verifier vectors (CHAN-AUTH-4); 3.8-3.11 accept only the
    # raw HMAC-MD5 of their own 20-byte challenge, so only those vectors apply to them.
    key = bytes.fromhex(doc["key_hex"])
    for v in doc["verifier"]:
        m, answer = bytes.fromhex(v["challenge_hex"]), bytes.fromhex(v["answer_hex"])
        if modern and not m.startswith(b"{sha256}"):
            continue  # 3.12+ only ever sends {sha256} challenges
        if not modern and (len(m) != 20 or len(answer) != 16):
            continue
        rnd = m[len(b"{sha256}"):] if modern else m
        got = run(interp, "deliver", key, rnd, answer)
        assert got.get("result") == v["result"], (v["name"], got)
        checked += 1
    assert checked >= 2, checked
