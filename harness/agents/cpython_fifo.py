#!/usr/bin/env python3
"""cpython_fifo: the FIFO profile of spec/driver-protocol.md, done with CPython's own tools.

A complete agent in the standard library (any CPython 3.8+, POSIX only): os.mkfifo to create,
os.open to open, os.read / os.write to move bytes, os.unlink to remove. It is the worked example
of the protocol: one JSON command a line on stdin, one JSON reply a line on stdout, logs on stderr.

What CPython cannot do it answers with "unsupported" and never fakes: an open with a deadline
(timeout_ms > 0) is one of them, because open() of a FIFO blocks in the kernel with no timeout.
"""
import base64
import errno
import hashlib
import json
import os
import platform
import select
import signal
import stat
import sys
import time

OPS = ["hello", "bye", "create", "open", "read", "write", "remove", "release", "close"]

ERRNO_NAMES = {  # errno -> portable error (spec/npipe.md, "Error model")
    errno.ENOENT: "not_found", errno.EEXIST: "already_exists", errno.ETIMEDOUT: "timeout",
    errno.EAGAIN: "would_block", errno.ENXIO: "would_block", errno.EPIPE: "broken_pipe",
    errno.EACCES: "permission_denied", errno.EPERM: "permission_denied",
    errno.ENAMETOOLONG: "invalid_name", errno.ENOTDIR: "not_found", errno.ELOOP: "not_a_pipe",
}


class Fail(Exception):
    """A failure reply: Fail("not_found", "message", native="ENOENT")."""

    def __init__(self, error, message="", native=None):
        Exception.__init__(self, message)
        self.error, self.message, self.native = error, message, native


def os_fail(exc, what):
    name = ERRNO_NAMES.get(exc.errno, "io_error")
    return Fail(name, "%s: %s" % (what, exc.strerror), errno.errorcode.get(exc.errno, type(exc).__name__))


def field(cmd, key, kind, default=None, required=False):
    if key not in cmd:
        if required:
            raise Fail("protocol_error", "missing field %r" % key)
        return default
    value = cmd[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Fail("protocol_error", "field %r has the wrong type" % key)
    return value


def pattern_chunks(size, seed, chunk=251 * 4096):
    """The protocol's pattern b[i] = (seed + i mod 251) mod 256, in chunks of whole periods."""
    period = bytes((seed + k) % 256 for k in range(251))
    block = period * (chunk // 251)
    while size > 0:
        yield block[:size]
        size -= len(block)


def payload(cmd):
    if "pattern" in cmd:
        pat = field(cmd, "pattern", dict)
        return b"".join(pattern_chunks(field(pat, "size", int, required=True), field(pat, "seed", int, 0)))
    try:
        return base64.b64decode(field(cmd, "data", str, required=True), validate=True)
    except ValueError:
        raise Fail("protocol_error", "field 'data' is not base64")


def wait_fd(fd, events, timeout_ms):
    """select.poll for one fd: None waits forever. Returns False when nothing happened in time."""
    p = select.poll()
    p.register(fd, events)
    return bool(p.poll(None if timeout_ms is None else max(0, timeout_ms)))


class Agent:
    def __init__(self):
        self.handles = {}  # handle -> ("owner", path, dir, (dev, ino)) or ("end", fd, dir)
        self.counter = 0

    def new_handle(self, prefix, value):
        self.counter += 1
        name = "%s%d" % (prefix, self.counter)
        self.handles[name] = value
        return name

    def get(self, cmd, kind):
        h = field(cmd, "handle", str, required=True)
        if h not in self.handles or self.handles[h][0] not in kind:
            raise Fail("protocol_error", "unknown or closed handle %r" % h)
        return h, self.handles[h]

    # -- session -------------------------------------------------------------------------------
    def op_hello(self, cmd):
        return {"protocol": 1, "impl": "cpython-fifo", "version": platform.python_version(),
                "platform": sys.platform.rstrip("0123456789") or sys.platform,
                "profiles": ["fifo"], "ops": OPS}

    # -- FIFO profile --------------------------------------------------------------------------
    def op_create(self, cmd):
        path = field(cmd, "name", str, required=True)
        d = self.direction(cmd)
        mode = field(cmd, "mode", int, 0o600)
        if not path or "\0" in path:
            raise Fail("invalid_name", "empty name or NUL byte")
        if field(cmd, "adopt", bool, False):
            try:
                st = os.lstat(path)
                if not stat.S_ISFIFO(st.st_mode):
                    raise Fail("not_a_pipe", "%s exists and is not a FIFO" % path)
                return {"handle": self.new_handle("o", ("owner", path, d, (st.st_dev, st.st_ino)))}
            except FileNotFoundError:
                pass
        old = os.umask(0)  # the mode is applied exactly, whatever the umask (FIFO-CREATE-2)
        try:
            os.mkfifo(path, mode)
        except OSError as e:
            raise os_fail(e, "mkfifo " + path)
        finally:
            os.umask(old)
        st = os.lstat(path)
        return {"handle": self.new_handle("o", ("owner", path, d, (st.st_dev, st.st_ino)))}

    def direction(self, cmd):
        d = field(cmd, "dir", str, required=True)
        if d not in ("r", "w"):
            raise Fail("protocol_error", "field 'dir' must be 'r' or 'w'")
        return d

    def op_open(self, cmd):
        timeout_ms = field(cmd, "timeout_ms", int)
        if timeout_ms is not None and timeout_ms > 0:
            raise Fail("unsupported", "CPython's open() of a FIFO has no deadline")
        if "owner" in cmd:
            owner = self.handles.get(field(cmd, "owner", str))
            if owner is None or owner[0] != "owner":
                raise Fail("protocol_error", "unknown owner handle")
            path, d = owner[1], owner[2]
            if self.direction(cmd) != d:
                raise Fail("protocol_error", "the owner's end has direction %r" % d)
        else:
            path, d = field(cmd, "name", str, required=True), self.direction(cmd)
        try:  # a peer never blocks on, truncates or follows something that is not a FIFO
            if not stat.S_ISFIFO(os.lstat(path).st_mode):
                raise Fail("not_a_pipe", "%s is not a FIFO" % path)
        except OSError as e:
            raise os_fail(e, "lstat " + path)
        flags = (os.O_RDONLY if d == "r" else os.O_WRONLY) | os.O_NOFOLLOW | os.O_CLOEXEC
        if timeout_ms == 0:
            flags |= os.O_NONBLOCK  # the non-blocking form: ENXIO for a writer with no reader
        try:
            fd = os.open(path, flags)
        except OSError as e:
            raise os_fail(e, "open " + path)
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            raise Fail("not_a_pipe", "%s is not a FIFO" % path)
        os.set_blocking(fd, True)
        return {"handle": self.new_handle("h", ("end", fd, d))}

    def op_read(self, cmd):
        h, (_, fd, d) = self.get(cmd, ("end",))
        timeout_ms = field(cmd, "timeout_ms", int)
        if field(cmd, "digest", bool, False):
            digest, size = hashlib.sha256(), 0
            while True:
                chunk = self.read_once(fd, 1 << 20, timeout_ms)
                if not chunk:
                    return {"size": size, "sha256": digest.hexdigest(), "eof": True}
                digest.update(chunk)
                size += len(chunk)
        chunk = self.read_once(fd, field(cmd, "max", int, 65536), timeout_ms)
        return {"data": base64.b64encode(chunk).decode("ascii")} if chunk else {"eof": True}

    def read_once(self, fd, n, timeout_ms):
        if timeout_ms is not None and not wait_fd(fd, select.POLLIN, timeout_ms):
            raise Fail("would_block" if timeout_ms == 0 else "timeout", "no data")
        try:
            return os.read(fd, n)
        except OSError as e:
            raise os_fail(e, "read")

    def op_write(self, cmd):
        h, (_, fd, d) = self.get(cmd, ("end",))
        timeout_ms = field(cmd, "timeout_ms", int)
        repeat = field(cmd, "repeat", int, 1)
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000.0
        written = 0
        if "pattern" in cmd and repeat == 1:
            pieces = pattern_chunks(field(cmd["pattern"], "size", int, required=True),
                                    field(cmd["pattern"], "seed", int, 0))
        else:
            data = payload(cmd)
            pieces = (data for _ in range(repeat))
        # With a deadline the descriptor is non-blocking for this call: a blocking os.write of more
        # than the free space would sleep past the deadline however the wait before it went.
        if deadline is not None:
            os.set_blocking(fd, False)
        try:
            for piece in pieces:
                view = memoryview(piece)
                while len(view):
                    if deadline is not None:
                        left = int((deadline - time.monotonic()) * 1000)
                        if not wait_fd(fd, select.POLLOUT, max(left, 0)):
                            if written > 0:  # a short write is a success with its count (FIFO-IO-6)
                                return {"written": written}
                            raise Fail("would_block" if timeout_ms == 0 else "timeout", "FIFO full",
                                       native="written=%d" % written)
                    try:
                        n = os.write(fd, view)
                    except BlockingIOError:
                        continue  # less room than poll promised: wait again
                    except OSError as e:
                        raise os_fail(e, "write")
                    written += n
                    view = view[n:]
        finally:
            if deadline is not None:
                os.set_blocking(fd, True)
        return {"written": written}

    def op_remove(self, cmd):
        h, (_, path, d, ident) = self.get(cmd, ("owner",))
        self.remove_if_ours(path, ident)
        self.handles[h] = ("owner", path, d, None)
        return {}

    def remove_if_ours(self, path, ident):
        try:  # only while the name is still the FIFO this owner made (FIFO-REMOVE-4)
            st = os.lstat(path)
            # The type too: a freed inode number is reused at once by the next file made there.
            if ident is not None and stat.S_ISFIFO(st.st_mode) and (st.st_dev, st.st_ino) == ident:
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise os_fail(e, "unlink " + path)

    def op_release(self, cmd):
        h, _ = self.get(cmd, ("owner",))
        del self.handles[h]
        return {}

    def op_close(self, cmd):
        h, value = self.get(cmd, ("owner", "end"))
        del self.handles[h]
        if value[0] == "owner":
            self.remove_if_ours(value[1], value[3])
        else:
            os.close(value[1])
        return {}

    def close_all(self):
        for h in list(self.handles):
            try:
                self.op_close({"handle": h})
            except Exception:
                pass


def main():
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
            handler = getattr(agent, "op_" + op, None) if op in OPS else None
            if op == "bye":
                agent.close_all()
                print(json.dumps(reply), flush=True)
                return 0
            if handler is None:
                raise Fail("unsupported", "unknown op %r" % op)
            reply.update(handler(cmd))
        except Fail as f:
            reply.update(ok=False, error=f.error, message=f.message)
            if f.native:
                reply["native"] = f.native
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            reply.update(ok=False, error="protocol_error", message=str(e))
        except OSError as e:
            reply.update(ok=False, error="io_error", native=type(e).__name__, message=str(e))
        print(json.dumps(reply), flush=True)
    agent.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
