#!/usr/bin/env python3
"""pyexec: a Python peer the harness steers line by line, under any CPython 3.8+ (stdlib only).

It speaks the framing of spec/driver-protocol.md (one JSON command a line on stdin, one reply a
line on stdout) with extra ops of its own, so the harness's agent client drives it and can tell
that a step is blocked (for example in open() of a FIFO, or in Listener.accept()):

  {"id":1,"op":"exec","code":"f = open(path, 'rb')","vars":{"path":"/tmp/x/f"}}
  -> {"id":1,"ok":true,"out":<the JSON value the code left in `out`, or null>}
  -> {"id":1,"ok":false,"error":"exception","native":"BrokenPipeError","message":"[Errno 32] ..."}

The namespace persists between commands. Helpers in it: pattern(size, seed), pattern_chunks(),
b64e(bytes), b64d(str), sha256(bytes) and the modules os, sys, socket, struct, hashlib, pickle.
This is not a conformance agent: it lets a test run what a Python program would run.
"""
import base64
import hashlib
import json
import os
import pickle
import signal
import socket
import struct
import sys
import traceback


def pattern_chunks(size, seed=0, chunk=251 * 4096):
    period = bytes((seed + k) % 256 for k in range(251))
    block = period * (chunk // 251)
    while size > 0:
        yield block[:size]
        size -= len(block)


def pattern(size, seed=0):
    return b"".join(pattern_chunks(size, seed))


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as CPython sets it at start-up
    ns = {"os": os, "sys": sys, "socket": socket, "struct": struct, "hashlib": hashlib,
          "pickle": pickle, "pattern": pattern, "pattern_chunks": pattern_chunks,
          "b64e": lambda b: base64.b64encode(b).decode("ascii"),
          "b64d": lambda s: base64.b64decode(s),
          "sha256": lambda b: hashlib.sha256(b).hexdigest()}
    for line in sys.stdin:
        cmd = json.loads(line)
        reply = {"id": cmd.get("id"), "ok": True}
        op = cmd.get("op")
        if op == "hello":
            reply.update(protocol=1, impl="cpython-pyexec", version="%d.%d.%d" % sys.version_info[:3],
                         executable=sys.executable, profiles=[], ops=["hello", "exec", "bye"])
        elif op == "bye":
            print(json.dumps(reply), flush=True)
            return 0
        elif op == "exec":
            ns.update(cmd.get("vars") or {})
            ns["out"] = None
            try:
                exec(compile(cmd["code"], "<harness>", "exec"), ns)
                json.dumps(ns["out"])
                reply["out"] = ns["out"]
            except BaseException as e:  # noqa: B036 - report everything, SystemExit included
                reply.update(ok=False, error="exception", native=type(e).__name__, message=str(e))
                sys.stderr.write(traceback.format_exc())
                sys.stderr.flush()
        else:
            reply.update(ok=False, error="unsupported", message="unknown op %r" % op)
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
