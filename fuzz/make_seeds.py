#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/<name>).

The seeds are committed; this script documents where they came from and regenerates them. Each
seed is a small, meaningful input in the target's own input format (see the comment at the top of
each *_fuzz.cpp and scripted_transport.hpp). Run from anywhere: python3 fuzz/make_seeds.py
"""
import hashlib
import hmac
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(payload):
    n = len(payload)
    if n <= 0x7FFFFFFF:
        return struct.pack("!i", n) + payload
    raise ValueError


def escaped(payload):
    return struct.pack("!iQ", -1, len(payload)) + payload


# --- frame_decoder: control byte (chunking, maxlength = [0,1,16,256,65536,MAX][c % 6]) + stream
fd = "frame_decoder"
MAX = 5  # control % 6 == 5 -> maxlength SIZE_MAX
write(fd, "empty_stream", bytes([MAX]))
write(fd, "one_message", bytes([MAX]) + frame(b"hello"))
write(fd, "empty_message_then_one", bytes([MAX]) + frame(b"") + frame(b"x"))
write(fd, "escape_small", bytes([MAX]) + escaped(b"escaped"))
write(fd, "escape_empty", bytes([MAX]) + escaped(b""))
write(fd, "many_messages", bytes([0x0B]) + b"".join(frame(bytes([i]) * i) for i in range(20)))
write(fd, "negative_length", bytes([MAX]) + struct.pack("!i", -2) + b"rest")
write(fd, "int_min_length", bytes([MAX]) + struct.pack("!i", -0x80000000))
write(fd, "eof_in_header", bytes([MAX]) + b"\x00\x00")
write(fd, "eof_in_escape", bytes([MAX]) + b"\xff\xff\xff\xff\x00\x00\x00")
write(fd, "eof_in_payload", bytes([MAX]) + struct.pack("!i", 100) + b"short")
write(fd, "lying_2_31_minus_1", bytes([MAX]) + struct.pack("!i", 0x7FFFFFFF) + b"a" * 10)
write(fd, "lying_2_63", bytes([MAX]) + struct.pack("!iQ", -1, 1 << 63) + b"b" * 10)
write(fd, "lying_2_64_minus_1", bytes([MAX]) + struct.pack("!iQ", -1, (1 << 64) - 1))
write(fd, "too_long_for_256", bytes([3]) + frame(b"ok") + frame(b"z" * 300))
write(fd, "exactly_256", bytes([3]) + frame(b"y" * 256) + frame(b""))
write(fd, "maxlength_zero", bytes([0]) + frame(b"") + frame(b"a"))
write(fd, "maxlength_one_escape", bytes([1]) + escaped(b"a") + escaped(b"ab"))

# --- handshake scripts (scripted_transport.hpp): 0 len16 bytes | 1 eof | 2 len16 lie | 3 broken |
#     4 timeout | 5 fail next send | 6 form cut (right answer) | 7 form cut (wrong key)
def msg(b):
    return b"\x00" + struct.pack("!H", len(b)) + b


KEY = b"npipe-fuzz-SECRET-key-0123456789"  # pick_key(0)

# challenger: control byte bit0 = 0 (deliver mode); bits 1.. key (0: KEY), bit 3 legacy form
hc = "handshake_challenger"
for form in range(6):
    write(hc, f"right_answer_form{form}", b"\x00" + bytes([6, form, 0]))
    write(hc, f"truncated_answer_form{form}", b"\x00" + bytes([6, form, 1]))
    write(hc, f"wrong_key_form{form}", b"\x00" + bytes([7, form, 0]))
write(hc, "right_answer_legacy", bytes([0x08]) + bytes([6, 0, 0]))
write(hc, "right_answer_empty_key", bytes([0x02]) + bytes([6, 2, 0]))
write(hc, "garbage_answer", b"\x00" + msg(b"\x00" * 16))
write(hc, "unknown_digest", b"\x00" + msg(b"{sha1}" + b"\x00" * 20))
write(hc, "oversized_answer", b"\x00" + msg(b"A" * 257))
write(hc, "lying_length", b"\x00" + b"\x02\xff\xff")
write(hc, "eof", b"\x00" + b"\x01")
write(hc, "broken", b"\x00" + b"\x03")
write(hc, "timeout", b"\x00" + b"\x04")
write(hc, "send_fails", b"\x00" + b"\x05" + bytes([6, 2, 0]))
write(hc, "empty_script", b"\x00")
# verifier mode: control bit0 = 1; data = m_len, M, R; control >> 4 >= 10 makes R right
m = b"{sha256}" + bytes(range(40))
write(hc, "verify_right_sha256", bytes([0xA1]) + bytes([len(m)]) + m)
write(hc, "verify_right_md5_raw", bytes([0xF1]) + bytes([20]) + bytes(20))
write(hc, "verify_truncated", bytes([0xB1]) + bytes([len(m) + 1]) + m + b"x")
write(hc, "verify_garbage", bytes([0x01]) + bytes([4]) + b"abcd" + b"{sha256}" + b"\x00" * 32)
write(hc, "verify_raw16", bytes([0x01]) + bytes([20]) + bytes(20) + bytes(16))
write(hc, "verify_brace_no_close", bytes([0x01]) + bytes([2]) + b"mm" + b"{sha3_384xx" + b"q" * 30)

# responder: byte 0 = key choice; script of the challenger's messages
hr = "handshake_responder"
C = b"#CHALLENGE#"
write(hr, "modern_welcome", b"\x00" + msg(C + b"{sha256}" + bytes(40)) + msg(b"#WELCOME#"))
write(hr, "legacy_welcome", b"\x00" + msg(C + bytes(range(20))) + msg(b"#WELCOME#"))
for name in ["md5", "sha384", "sha3_256", "sha3_384"]:
    write(hr, f"{name}_welcome", b"\x00" + msg(C + b"{" + name.encode() + b"}" + bytes(40)) +
          msg(b"#WELCOME#"))
write(hr, "empty_key", b"\x01" + msg(C + b"{sha256}" + bytes(40)) + msg(b"#WELCOME#"))
write(hr, "binary_key", b"\x02" + msg(C + b"{sha256}" + bytes(40)) + msg(b"#WELCOME#"))
write(hr, "failure", b"\x00" + msg(C + b"{sha256}" + bytes(40)) + msg(b"#FAILURE#"))
write(hr, "other_verdict", b"\x00" + msg(C + b"{sha256}" + bytes(40)) + msg(b"#WELCOME"))
write(hr, "no_prefix", b"\x00" + msg(b"#CHALLENGX#" + bytes(40)))
write(hr, "short_challenge", b"\x00" + msg(C + bytes(19)))
write(hr, "unknown_digest", b"\x00" + msg(C + b"{sha1}" + bytes(40)))
write(hr, "brace_too_far", b"\x00" + msg(C + b"{sha3_256xx}" + bytes(40)))
write(hr, "oversized_challenge", b"\x00" + msg(C + bytes(300)))
write(hr, "lying_challenge", b"\x00\x02\xff\xff")
write(hr, "eof_before_verdict", b"\x00" + msg(C + bytes(20)) + b"\x01")
write(hr, "send_fails", b"\x00" + b"\x05" + msg(C + bytes(20)))
write(hr, "timeout_verdict", b"\x00" + msg(C + bytes(20)) + b"\x04")

# --- agent_request: control (read chunking, line limit) + the agent's stdin
ar = "agent_request"
lines = [
    {"id": 1, "op": "hello"},
    {"id": 2, "op": "mkfifo", "path": "/tmp/x", "mode": 384},
    {"id": 3, "op": "open", "path": "/tmp/x", "dir": "r", "timeout_ms": 2000},
    {"id": 4, "op": "write", "handle": "h1", "data": "aGVsbG8="},
    {"id": 5, "op": "write", "handle": "h1", "pattern": {"size": 1 << 40, "seed": 7}},
    {"id": 6, "op": "listen", "address": "a.sock", "authkey": "c2VjcmV0", "challenge": "md5"},
    {"id": 7, "op": "accept", "handle": "l1", "timeout_ms": 0},
    {"id": 8, "op": "read", "handle": "h1", "max": 65536},
    {"id": 9, "op": "bye"},
]
write(ar, "session", b"\x80" + b"".join(json.dumps(l).encode() + b"\n" for l in lines))
write(ar, "crlf", b"\x80" + b'{"id":1,"op":"hello"}\r\n{"id":2,"op":"bye"}')
write(ar, "bad_base64", b"\x80" + b'{"id":1,"op":"write","handle":"h","data":"a==="}\n')
write(ar, "both_data_pattern",
      b"\x80" + b'{"id":1,"op":"write","data":"","pattern":{"size":1,"seed":1}}\n')
write(ar, "pattern_bad_seed", b"\x80" + b'{"id":1,"op":"write","pattern":{"size":1,"seed":256}}\n')
write(ar, "negative_timeout", b"\x80" + b'{"id":1,"op":"open","dir":"w","timeout_ms":-1}\n')
write(ar, "huge_timeout",
      b"\x80" + b'{"id":1,"op":"open","dir":"w","timeout_ms":18446744073709551615}\n')
write(ar, "float_id", b"\x80" + b'{"id":1.5,"op":"x"}\n')
write(ar, "object_id", b"\x80" + b'{"id":{"a":[1,2,{"b":null}]},"op":"x"}\n')
write(ar, "no_op", b"\x80" + b'{"id":3}\n')
write(ar, "array_line", b"\x80" + b"[1,2,3]\n")
write(ar, "not_json", b"\x80" + b"hello world\n\n\n")
write(ar, "bad_utf8", b"\x80" + b'{"id":1,"op":"\xff\xfe"}\n')
write(ar, "too_long_line", b"\x00" + b'{"id":1,"op":"' + b"a" * 200 + b'"}\n{"id":2,"op":"bye"}\n')
write(ar, "deep_nesting", b"\x80" + b'{"id":' + b"[" * 1000 + b"]" * 1000 + b',"op":"x"}\n')
write(ar, "no_final_newline", b"\x80" + b'{"id":1,"op":"hello"}')
write(ar, "nul_in_path", b"\x80" + b'{"id":1,"op":"mkfifo","path":"a\\u0000b"}\n')

# --- driver_reply: id in flight for the first line (0: none) + the agent's stdout
dr = "driver_reply"


def replies(first_id, *objs):
    return bytes([first_id]) + b"".join(json.dumps(o).encode() + b"\n" for o in objs)


HELLO = {"id": 1, "ok": True, "protocol": 1, "impl": "npipe-reference", "version": "0.1.0",
         "platform": "linux", "profiles": ["fifo", "channel"],
         "ops": ["hello", "bye", "create", "open", "read", "write", "remove", "release", "close",
                 "listen", "accept", "connect", "send", "recv"]}
write(dr, "session", replies(
    1, HELLO, {"id": 2, "ok": True, "handle": "h1"}, {"id": 3, "ok": True, "data": "aGk="},
    {"id": 4, "ok": True, "eof": True}, {"id": 5, "ok": True, "size": 1048576, "sha256": "0" * 64},
    {"id": 6, "ok": False, "error": "not_found", "native": "ENOENT",
     "message": "open /tmp/npipe-x1/missing: No such file or directory"},
    {"id": 7, "ok": True, "written": 2}, {"id": 8, "ok": True}))
write(dr, "hello_protocol_2", replies(1, dict(HELLO, protocol=2)))
write(dr, "hello_failed", replies(1, {"id": 1, "ok": False, "error": "io_error"}))
# brief() cuts strings over 60 bytes at 40, here inside a two-byte UTF-8 character.
write(dr, "hello_failed_cut_utf8", bytes([1]) + b'{"id":1,"ok":false,"message":"a' +
      "\u00e9".encode() * 40 + b'"}\n')
write(dr, "no_command_in_flight", replies(0, {"id": 1, "ok": True}))
write(dr, "wrong_id", replies(5, {"id": 6, "ok": True}))
write(dr, "string_id", bytes([1]) + b'{"id":"1","ok":true}\n')
write(dr, "float_id", bytes([1]) + b'{"id":1.0,"ok":true}\n{"id":2e0,"ok":false}\n')
write(dr, "long_id", bytes([1]) + b'{"id":"' + b"i" * 400 + b'","ok":true}\n')
write(dr, "ok_not_bool", bytes([1]) + b'{"id":1,"ok":1}\n')
write(dr, "no_ok", bytes([1]) + b'{"id":1}\n')
write(dr, "array_line", bytes([1]) + b"[1,true]\n")
write(dr, "not_json", bytes([1]) + b"this is not json\n")
write(dr, "not_utf8", bytes([1]) + b'{"id":1,"ok":true,"data":"\xff\xfe"}\n\xff\n')
write(dr, "crlf_and_blank", bytes([1]) + b'{"id":1,"ok":true}\r\n\n{"id":2,"ok":true}\n')
write(dr, "two_objects_one_line", bytes([1]) + b'{"id":1,"ok":true}{"id":1,"ok":true}\n')
write(dr, "duplicate_keys", bytes([1]) + b'{"id":2,"id":1,"ok":false,"ok":true}\n')
write(dr, "big_numbers", bytes([1]) + b'{"id":1,"ok":true,"n":18446744073709551616,"m":-0.0,'
      b'"x":1e308}\n{"id":2,"ok":true,"y":1e400}\n')
write(dr, "nul_in_line", bytes([1]) + b'{"id":1,"ok":true}\x00\n')
write(dr, "no_final_newline", bytes([1]) + b'{"id":1,"ok":true}')
# kMaxReplyDepth (64) levels are accepted, one more is refused.
write(dr, "depth_64", bytes([1]) + b'{"id":1,"ok":true,"x":' + b"[" * 63 + b"]" * 63 + b"}\n")
write(dr, "depth_65", bytes([1]) + b'{"id":1,"ok":true,"x":' + b"[" * 64 + b"]" * 64 + b"}\n")

# --- name: the bytes are the name
nm = "name"
for i, n in enumerate([b"jobs", b"a", b"A-z_0.9", b".hidden", b"..", b"", b"a/b", b"/tmp/x.sock",
                       b"x" * 80, b"x" * 81, b"s" * 107, b"s" * 108, b"a\x00b", b"\x00abstract",
                       b"\\\\.\\pipe\\npipe-1", b"caf\xc3\xa9", b"-dash", b"p" * 4096]):
    write(nm, f"name_{i:02d}", n)
