#!/usr/bin/env python3
"""Checks spec/vectors/*.json: every byte of every vector, recomputed independently.

    /usr/bin/python3 spec/tools/vectors.py --check      # as make test-spec does

Framing vectors are recomputed with `struct` and a decoder written here from the spec's text
(CHAN-FRAME-1, -2, -4, CHAN-EOF-1, -2, CHAN-RECV-1); handshake vectors with `hmac` and `hashlib`
and the verifier rule of CHAN-AUTH-4 / CPython 3.12's `_verify_challenge`. The reference's tests
(reference/tests/vectors_test.cpp) and the harness (harness/tests/test_vectors.py, against every
installed CPython) check implementations against the same files. Standard library only.
"""

import argparse
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[2]
CHALLENGE, WELCOME, FAILURE = b"#CHALLENGE#", b"#WELCOME#", b"#FAILURE#"
DIGESTS = ("md5", "sha256", "sha384", "sha3_256", "sha3_384")


def header(n: int) -> bytes:
    return struct.pack("!i", n) if n <= 0x7FFFFFFF else struct.pack("!i", -1) + struct.pack("!Q", n)


def decode(wire: bytes, maxlength):
    """(messages, then) with then 'eof' or an error name."""
    out, i = [], 0
    while True:
        if i == len(wire):
            return out, "eof"
        if len(wire) - i < 4:
            return out, "protocol_error"
        (n,) = struct.unpack_from("!i", wire, i)
        i += 4
        if n == -1:
            if len(wire) - i < 8:
                return out, "protocol_error"
            (n,) = struct.unpack_from("!Q", wire, i)
            i += 8
        elif n < 0:
            return out, "protocol_error"
        if maxlength is not None and n > maxlength:
            return out, "message_too_long"
        if len(wire) - i < n:
            return out, "protocol_error"
        out.append(wire[i:i + n])
        i += n


def mac(name: str, key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, getattr(hashlib, name)).digest()


def verify(key: bytes, m: bytes, answer: bytes) -> bool:
    if len(answer) == 16:
        return hmac.compare_digest(answer, mac("md5", key, m))
    if answer.startswith(b"{") and b"}" in answer[1:22]:
        end = answer.index(b"}")
        name = answer[1:end].decode("ascii", "replace")
        if name in DIGESTS:
            return hmac.compare_digest(answer[end + 1:], mac(name, key, m))
    return False


def respond(key: bytes, message: bytes):
    """The answer a responder sends, or None when it must refuse (CHAN-AUTH-11, -6)."""
    if len(message) > 256 or not message.startswith(CHALLENGE):
        return None
    m = message[len(CHALLENGE):]
    if len(m) < 20:
        return None
    if len(m) == 20:
        return mac("md5", key, m)
    if m.startswith(b"{") and b"}" in m[1:22]:
        name = m[1:m.index(b"}")].decode("ascii", "replace")
        return ("{%s}" % name).encode() + mac(name, key, m) if name in DIGESTS else None
    return None


def check_framing(doc) -> list:
    p = []
    for c in doc["cases"]:
        where = f"framing: {c['name']}"
        if c["direction"] == "encode":
            h = header(c["length"])
            if bytes.fromhex(c["header_hex"]) != h:
                p.append(f"{where}: header")
            if "payload_hex" in c:
                payload = bytes.fromhex(c["payload_hex"])
                if len(payload) != c["length"] or bytes.fromhex(c["wire_hex"]) != h + payload:
                    p.append(f"{where}: wire")
        else:
            msgs, then = decode(bytes.fromhex(c["wire_hex"]), c.get("maxlength"))
            want = c["result"]
            if "error" in want:
                if msgs or then != want["error"]:
                    p.append(f"{where}: decodes to {then} after {len(msgs)} messages, not {want['error']}")
            elif [m.hex() for m in msgs] != want["messages_hex"] or then != want["then"]:
                p.append(f"{where}: decodes to {[m.hex() for m in msgs]} then {then}")
    return p


def check_handshake(doc) -> list:
    p = []
    key = bytes.fromhex(doc["key_hex"])
    for t in doc["transcripts"]:
        where = f"handshake transcript: {t['name']}"
        steps = [(s["from"], bytes.fromhex(s["message_hex"]), bytes.fromhex(s["frame_hex"])) for s in t["steps"]]
        failed = False
        for i, (frm, msg, fr) in enumerate(steps):
            if fr != header(len(msg)) + msg:
                p.append(f"{where}: step {i + 1} frame")
            if msg.startswith(CHALLENGE) and i + 1 < len(steps):
                answer = steps[i + 1][1]
                # The challenger verifies with its own key; an "in kind" responder answered with its.
                own = bytes.fromhex(t["listener_key_hex"] if frm == "listener" else t["client_key_hex"])
                theirs = bytes.fromhex(t["client_key_hex"] if frm == "listener" else t["listener_key_hex"])
                ok = verify(own, msg[len(CHALLENGE):], answer)
                if frm == "listener" and t["client_answers"] == "in kind" and answer != respond(theirs, msg):
                    p.append(f"{where}: step {i + 2} is not the in-kind answer with the client's key")
                if i + 2 < len(steps):
                    verdict = steps[i + 2][1]
                    if verdict != (WELCOME if ok else FAILURE):
                        p.append(f"{where}: step {i + 3} should be {'#WELCOME#' if ok else '#FAILURE#'}")
                failed = failed or not ok
        if t["result"] != ("auth_failed" if failed else "ok"):
            p.append(f"{where}: result")
    for v in doc["verifier"]:
        ok = verify(key, bytes.fromhex(v["challenge_hex"]), bytes.fromhex(v["answer_hex"]))
        if v["result"] != ("ok" if ok else "auth_failed"):
            p.append(f"handshake verifier: {v['name']}: the rule gives {'ok' if ok else 'auth_failed'}")
    for r in doc["responder"]:
        a = respond(key, bytes.fromhex(r["challenge_message_hex"]))
        if (a is None) != (r["result"] == "auth_failed") or (a is not None and a.hex() != r.get("answer_hex")):
            p.append(f"handshake responder: {r['name']}")
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", required=True)
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    d = args.root / "spec" / "vectors"
    framing = json.loads((d / "framing.json").read_text(encoding="utf-8"))
    hs = json.loads((d / "handshake.json").read_text(encoding="utf-8"))
    problems = check_framing(framing) + check_handshake(hs)
    print(f"vectors: {len(framing['cases'])} framing cases, {len(hs['transcripts'])} handshake transcripts, "
          f"{len(hs['verifier'])} verifier and {len(hs['responder'])} responder cases")
    for x in problems:
        print(f"error: {x}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
