#!/usr/bin/env python3
r"""cpython_connection: the Channel profile of spec/driver-protocol.md, done by CPython itself.

A complete agent in the standard library (any CPython 3.8+): multiprocessing.connection.Listener
and Client, send_bytes / recv_bytes. Whatever this agent reports is what the running CPython does,
so the conformance suite can score CPython as an implementation and the harness can pair it with
npipe. One JSON command a line on stdin, one JSON reply a line on stdout, logs on stderr.

Addresses: AF_UNIX paths on POSIX (SocketListener/SocketClient); on Windows the driver's
\\.\pipe\NAME names, which multiprocessing.connection.address_type() makes AF_PIPE
(PipeListener/PipeClient over named pipes). The Windows side was written from CPython's source
(Lib/multiprocessing/connection.py, PipeListener and PipeClient) and has not been run yet.

What CPython cannot do it answers with "unsupported" and never fakes:
- accept with timeout_ms: Listener.accept() has no timeout (gh-76425);
- connect with timeout_ms: Client() has no timeout on POSIX (on Windows PipeClient retries a busy
  pipe for a fixed 20 s, which the caller cannot choose);
- send with timeout_ms: Connection.send_bytes() has no deadline (on POSIX it loops on a blocking
  write; on Windows it waits for its overlapped WriteFile), so a deadline cannot be honoured
  (CHAN-SEND-1, -2);
- a challenge form other than the one this CPython sends (3.8-3.11: md5, 3.12+: sha256),
  because Listener and Client do not let the caller choose it.
"""
import base64
import errno
import hashlib
import json
import platform
import signal
import sys
from multiprocessing import connection as mpc

OPS = ["hello", "bye", "listen", "accept", "connect", "send", "recv", "close"]
NATIVE_CHALLENGE = "sha256" if sys.version_info >= (3, 12) else "md5"
WINDOWS = sys.platform == "win32"

# Windows: the Win32 error a CPython OSError carries (winerror) -> the portable name, as
# spec/errors.json maps them ("maps"/"windows"). ERROR_ACCESS_DENIED and ERROR_PIPE_BUSY from
# listen are a name already in use: PipeListener creates its first instance with
# FILE_FLAG_FIRST_PIPE_INSTANCE (spec/errors.json, op "create", platform "windows").
WINERROR = {2: "not_found", 3: "not_found", 5: "permission_denied", 109: "broken_pipe",
            121: "timeout", 123: "invalid_name", 161: "invalid_name", 206: "invalid_name",
            231: "would_block", 232: "broken_pipe", 233: "broken_pipe", 234: "message_too_long"}
WINERROR_LISTEN = {5: "already_exists", 231: "already_exists"}


class Fail(Exception):
    """A failure reply: Fail("not_found", "message", native="FileNotFoundError")."""

    def __init__(self, error, message="", native=None):
        Exception.__init__(self, message)
        self.error, self.message, self.native = error, message, native


def classify(exc, what, op=""):
    """Maps what CPython raised to the portable vocabulary; `native` keeps the class name."""
    text = str(exc)
    winerror = getattr(exc, "winerror", None)
    if WINDOWS and winerror is not None:
        name = (WINERROR_LISTEN if op == "listen" else {}).get(winerror) or WINERROR.get(winerror)
        if name:
            return Fail(name, "%s: %s" % (what, text), "%s(winerror %d)" % (type(exc).__name__,
                                                                           winerror))
    if isinstance(exc, mpc.AuthenticationError):
        name = "auth_failed"
    elif isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        name = "not_found"  # no listener at the address (CHAN-CONNECT-1)
    elif isinstance(exc, (BrokenPipeError, ConnectionResetError)):
        name = "broken_pipe"
    elif isinstance(exc, PermissionError):
        name = "permission_denied"
    elif isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        name = "already_exists"
    elif isinstance(exc, OSError) and exc.errno in (errno.ENAMETOOLONG, errno.EINVAL):
        name = "invalid_name"
    elif isinstance(exc, OSError) and "bad message length" in text:
        name = "message_too_long"  # recv_bytes(maxlength) refused a longer message (CHAN-RECV-1)
    elif isinstance(exc, OSError) and "end of file during message" in text:
        name = "protocol_error"  # EOF inside a frame (CHAN-EOF-2)
    else:
        name = "io_error"  # e.g. "connection is write-only" after a refused message (CHAN-RECV-2)
    return Fail(name, "%s: %s" % (what, text), type(exc).__name__)


def field(cmd, key, kind, default=None, required=False):
    if key not in cmd:
        if required:
            raise Fail("protocol_error", "missing field %r" % key)
        return default
    value = cmd[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Fail("protocol_error", "field %r has the wrong type" % key)
    return value


def b64(cmd, key):
    try:
        return base64.b64decode(field(cmd, key, str, required=True), validate=True)
    except ValueError:
        raise Fail("protocol_error", "field %r is not base64" % key)


def pattern(size, seed):
    """The protocol's pattern: b[i] = (seed + i mod 251) mod 256."""
    period = bytes((seed + k) % 256 for k in range(251))
    return (period * (size // 251 + 1))[:size]


def auth(cmd):
    """The authkey (None: no handshake) after checking that `challenge` is one CPython sends."""
    challenge = field(cmd, "challenge", str)
    if challenge is not None and challenge != NATIVE_CHALLENGE:
        raise Fail("unsupported", "CPython %s only sends the %s challenge"
                   % (platform.python_version(), NATIVE_CHALLENGE))
    return b64(cmd, "authkey") if "authkey" in cmd else None


class Agent:
    def __init__(self):
        self.handles = {}  # handle -> Listener or Connection
        self.counter = 0

    def new_handle(self, prefix, value):
        self.counter += 1
        name = "%s%d" % (prefix, self.counter)
        self.handles[name] = value
        return name

    def get(self, cmd, kind):
        h = field(cmd, "handle", str, required=True)
        if not isinstance(self.handles.get(h), kind):
            raise Fail("protocol_error", "unknown or closed handle %r" % h)
        return h, self.handles[h]

    def op_hello(self, cmd):
        return {"protocol": 1, "impl": "cpython-connection", "version": platform.python_version(),
                "platform": "windows" if WINDOWS else
                            sys.platform.rstrip("0123456789") or sys.platform,
                "profiles": ["channel"], "ops": OPS, "challenge": NATIVE_CHALLENGE}

    def op_listen(self, cmd):
        address = field(cmd, "address", str, required=True)
        key = auth(cmd)
        try:
            listener = mpc.Listener(address, family=mpc.address_type(address), backlog=64,
                                    authkey=key)
        except OSError as e:
            raise classify(e, "listen " + address, "listen")
        return {"handle": self.new_handle("l", listener)}

    def op_accept(self, cmd):
        h, listener = self.get(cmd, mpc.Listener)
        if field(cmd, "timeout_ms", int) is not None:
            raise Fail("unsupported", "Listener.accept() has no timeout (gh-76425)")
        try:
            conn = listener.accept()  # runs the handshake: challenge first, then answer
        except (OSError, EOFError, mpc.AuthenticationError) as e:
            raise classify(e, "accept")
        return {"handle": self.new_handle("c", conn)}

    def op_connect(self, cmd):
        address = field(cmd, "address", str, required=True)
        key = auth(cmd)
        if field(cmd, "timeout_ms", int) is not None:
            raise Fail("unsupported", "Client() has no timeout")
        try:
            conn = mpc.Client(address, family=mpc.address_type(address), authkey=key)
        except (OSError, EOFError, mpc.AuthenticationError) as e:
            raise classify(e, "connect " + address)
        return {"handle": self.new_handle("c", conn)}

    def op_send(self, cmd):
        if field(cmd, "timeout_ms", int) is not None:
            raise Fail("unsupported", "Connection.send_bytes() has no deadline")
        h, conn = self.get(cmd, mpc.Connection)
        if "pattern" in cmd:
            pat = field(cmd, "pattern", dict)
            data = pattern(field(pat, "size", int, required=True), field(pat, "seed", int, 0))
        else:
            data = b64(cmd, "data")
        try:
            conn.send_bytes(data)
        except OSError as e:
            raise classify(e, "send")
        return {"sent": len(data)}

    def op_recv(self, cmd):
        h, conn = self.get(cmd, mpc.Connection)
        maxlength = field(cmd, "max", int)
        timeout_ms = field(cmd, "timeout_ms", int)
        try:
            if timeout_ms is not None and not conn.poll(timeout_ms / 1000.0):
                raise Fail("would_block" if timeout_ms == 0 else "timeout", "no message")
            data = conn.recv_bytes(maxlength)
        except EOFError:
            return {"eof": True}  # EOF on a message boundary (CHAN-EOF-1)
        except OSError as e:
            raise classify(e, "recv")
        if field(cmd, "digest", bool, False):
            return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        return {"data": base64.b64encode(data).decode("ascii")}

    def op_close(self, cmd):
        h, obj = self.get(cmd, (mpc.Listener, mpc.Connection))
        del self.handles[h]
        obj.close()  # a Listener removes its socket file
        return {}

    def close_all(self):
        for obj in self.handles.values():
            try:
                obj.close()
            except OSError:
                pass
        self.handles.clear()


def main():
    if hasattr(signal, "SIGPIPE"):  # POSIX only
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # CPython does it already; say so anyway
    agent = Agent()
    for line in sys.stdin:
        reply = {"id": None, "ok": True}
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise Fail("protocol_error", "a command is a JSON object")
            reply["id"] = cmd.get("id")
            op = field(cmd, "op", str, required=True)
            field(cmd, "id", int, required=True)
            if op == "bye":
                agent.close_all()
                print(json.dumps(reply), flush=True)
                return 0
            handler = getattr(agent, "op_" + op, None) if op in OPS else None
            if handler is None:
                raise Fail("unsupported", "unknown op %r" % op)
            reply.update(handler(cmd))
        except Fail as f:
            reply.update(ok=False, error=f.error, message=f.message)
            if f.native:
                reply["native"] = f.native
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            reply.update(ok=False, error="protocol_error", message=str(e))
        print(json.dumps(reply), flush=True)
    agent.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
