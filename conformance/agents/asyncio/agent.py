#!/usr/bin/env python3
"""npipe agent for Python's asyncio (CPython 3.8+): spec/driver-protocol.md, written from that
page and spec/npipe.md.

Channels: asyncio.start_unix_server / open_unix_connection and their StreamReader/StreamWriter,
with multiprocessing.connection's framing and HMAC handshake written here (asyncio has none).
FIFOs: os.mkfifo and os.open make and open them (asyncio has no API for either), then
loop.connect_read_pipe / connect_write_pipe move the bytes. What asyncio cannot do is answered
`unsupported` (README.md lists each case and why).
"""
import asyncio
import base64
import errno
import hashlib
import hmac
import json
import os
import platform
import signal
import stat
import struct
import sys
import time

OPS = ["hello", "bye", "create", "open", "read", "write", "remove", "release", "close",
       "listen", "accept", "connect", "send", "recv"]
HANDSHAKE_S = 10.0  # CHAN-AUTH-8's default
DIGESTS = {"md5", "sha256", "sha384", "sha3_256", "sha3_384"}

ERRNO_NAMES = {
    errno.ENOENT: "not_found", errno.ENOTDIR: "not_found", errno.ECONNREFUSED: "not_found",
    errno.EEXIST: "already_exists", errno.EADDRINUSE: "already_exists",
    errno.EAGAIN: "would_block", errno.ENXIO: "would_block", errno.EPIPE: "broken_pipe",
    errno.ECONNRESET: "broken_pipe", errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied", errno.ENAMETOOLONG: "invalid_name", errno.EINVAL: "invalid_name",
    errno.ELOOP: "not_a_pipe", errno.EISDIR: "not_a_pipe", errno.ENOTSOCK: "not_a_pipe",
}


class Fail(Exception):
    def __init__(self, error, message="", native=None):
        Exception.__init__(self, message)
        self.error, self.message, self.native = error, message, native


def os_fail(exc, what):
    if isinstance(exc, Fail):
        return exc
    if isinstance(exc, OSError) and exc.errno is not None:
        return Fail(ERRNO_NAMES.get(exc.errno, "io_error"), "%s: %s" % (what, exc),
                    errno.errorcode.get(exc.errno, type(exc).__name__))
    name = "invalid_name" if "path too long" in str(exc) or "null" in str(exc) else "io_error"
    if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
        name = "broken_pipe"
    return Fail(name, "%s: %s" % (what, exc), type(exc).__name__)


def field(cmd, key, kind, default=None, required=False):
    if key not in cmd:
        if required:
            raise Fail("protocol_error", "missing field %r" % key)
        return default
    value = cmd[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Fail("protocol_error", "field %r has the wrong type" % key)
    return value


def timeout_of(cmd):
    t = field(cmd, "timeout_ms", int)
    if t is not None and t < 0:
        raise Fail("protocol_error", "field 'timeout_ms' is negative")
    return t


def direction(cmd):
    d = field(cmd, "dir", str, required=True)
    if d not in ("r", "w"):
        raise Fail("protocol_error", "field 'dir' must be 'r' or 'w'")
    return d


def b64(cmd, key):
    try:
        return base64.b64decode(field(cmd, key, str, required=True), validate=True)
    except ValueError:
        raise Fail("protocol_error", "field %r is not base64" % key)


def payload(cmd):
    if "pattern" in cmd:
        pat = field(cmd, "pattern", dict)
        size, seed = field(pat, "size", int, required=True), field(pat, "seed", int, 0)
        if size < 0 or not 0 <= seed <= 255:
            raise Fail("protocol_error", "pattern out of range")
        period = bytes((seed + k) % 256 for k in range(251))
        return (period * (size // 251 + 1))[:size]
    return b64(cmd, "data")


# Names go to Python as given (NAME-2): what os and asyncio do with an empty name or a NUL byte is
# what the suite sees (NAME-3).


async def within(coro, timeout_ms):
    """Runs `coro` under the protocol's deadline: None waits, 0 never waits, N ms at most.
    Raises asyncio.TimeoutError (would_block/timeout is the caller's choice)."""
    if timeout_ms is None:
        return await coro
    if timeout_ms == 0:
        # The immediate form: what is already buffered, or what one loop turn brings.
        task = asyncio.ensure_future(coro)
        for _ in range(3):
            await asyncio.sleep(0)
        if task.done():
            return task.result()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        raise asyncio.TimeoutError()
    return await asyncio.wait_for(coro, timeout_ms / 1000.0)


class ReadEnd:
    def __init__(self, reader, transport):
        self.reader, self.transport = reader, transport


class Agent:
    def __init__(self, loop):
        self.loop = loop
        self.handles = {}
        self.counter = 0

    def new_handle(self, prefix, value):
        self.counter += 1
        name = "%s%d" % (prefix, self.counter)
        self.handles[name] = value
        return name

    def get(self, cmd, kinds, key="handle"):
        h = field(cmd, key, str, required=True)
        v = self.handles.get(h)
        if v is None or v[0] not in kinds:
            raise Fail("protocol_error", "unknown, closed or wrong kind of handle %r" % h)
        return h, v

    async def op_hello(self, cmd):
        return {"protocol": 1, "impl": "python-asyncio", "version": platform.python_version(),
                "platform": sys.platform.rstrip("0123456789") or sys.platform,
                "profiles": ["fifo", "channel"], "ops": OPS}

    # -- FIFO profile: os makes and opens, asyncio's pipe transports move the bytes ------------
    async def op_create(self, cmd):
        path = field(cmd, "name", str, required=True)
        d = direction(cmd)
        mode = field(cmd, "mode", int, 0o600)
        if field(cmd, "adopt", bool, False):
            try:
                st = os.lstat(path)
                if not stat.S_ISFIFO(st.st_mode):
                    raise Fail("not_a_pipe", "%s exists and is not a FIFO" % path)
                if st.st_uid != os.geteuid():
                    raise Fail("permission_denied", "%s belongs to uid %d" % (path, st.st_uid))
                return {"handle": self.new_handle("o", ["owner", path, d, (st.st_dev, st.st_ino)])}
            except FileNotFoundError:
                pass
            except OSError as e:
                raise os_fail(e, "lstat " + path)
        try:
            os.mkfifo(path, mode)
            # mkfifo applied the umask; fchmodat without following a link sets the exact mode
            # without touching the process umask (FIFO-CREATE-2, FIFO-SEC-5).
            os.chmod(path, mode, follow_symlinks=False)
            st = os.lstat(path)
        except (OSError, ValueError) as e:
            raise os_fail(e, "mkfifo " + path)
        return {"handle": self.new_handle("o", ["owner", path, d, (st.st_dev, st.st_ino)])}

    async def open_fd(self, path, d, timeout_ms):
        try:
            if not stat.S_ISFIFO(os.lstat(path).st_mode):
                raise Fail("not_a_pipe", "%s is not a FIFO" % path)
        except (OSError, ValueError) as e:
            raise os_fail(e, "lstat " + path)
        flags = (os.O_RDONLY if d == "r" else os.O_WRONLY) | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            if timeout_ms is None:
                return os.open(path, flags)  # blocks the loop: asyncio has no FIFO open
            if timeout_ms == 0:
                return os.open(path, flags | os.O_NONBLOCK)
            if d == "r":
                raise Fail("unsupported", "a read open with a deadline: asyncio cannot wait for a "
                           "FIFO writer (poll does not see one arrive) and os.open cannot be cancelled")
            # A write open with a deadline: a non-blocking open retried until a reader is there
            # (ENXIO until then), as FIFO-OPEN-3 allows, on asyncio's clock.
            deadline = self.loop.time() + timeout_ms / 1000.0
            while True:
                try:
                    return os.open(path, flags | os.O_NONBLOCK)
                except OSError as e:
                    if e.errno != errno.ENXIO:
                        raise
                    if self.loop.time() >= deadline:
                        raise Fail("timeout", "no reader came before the deadline", "ENXIO")
                    await asyncio.sleep(0.005)
        except OSError as e:
            raise os_fail(e, "open " + path)

    async def op_open(self, cmd):
        timeout_ms = timeout_of(cmd)
        if "owner" in cmd:
            _, owner = self.get(cmd, ("owner",), "owner")
            d = direction(cmd)
            if d != owner[2]:
                raise Fail("protocol_error", "the owner was created for the %r end" % owner[2])
            path = owner[1]
        else:
            path, d = field(cmd, "name", str, required=True), direction(cmd)
        fd = await self.open_fd(path, d, timeout_ms)
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            raise Fail("not_a_pipe", "%s is not a FIFO" % path)
        f = os.fdopen(fd, "rb" if d == "r" else "wb", buffering=0)
        if d == "r":
            reader = asyncio.StreamReader()
            transport, _ = await self.loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), f)
            return {"handle": self.new_handle("h", ["rend", ReadEnd(reader, transport)])}
        transport, protocol = await self.loop.connect_write_pipe(asyncio.streams.FlowControlMixin, f)
        writer = asyncio.StreamWriter(transport, protocol, None, self.loop)
        # drain() then returns only once everything is in the kernel, not in asyncio's buffer.
        transport.set_write_buffer_limits(0, 0)
        return {"handle": self.new_handle("h", ["wend", writer])}

    async def op_read(self, cmd):
        _, (_, end) = self.get(cmd, ("rend",))
        timeout_ms = timeout_of(cmd)
        if field(cmd, "digest", bool, False):
            async def all_bytes():
                h, size = hashlib.sha256(), 0
                while True:
                    chunk = await end.reader.read(1 << 20)
                    if not chunk:
                        return {"size": size, "sha256": h.hexdigest(), "eof": True}
                    h.update(chunk)
                    size += len(chunk)
            try:
                return await within(all_bytes(), timeout_ms)
            except asyncio.TimeoutError:
                raise Fail("timeout", "no EOF before the deadline")
        n = field(cmd, "max", int, 65536)
        if n < 1:
            raise Fail("protocol_error", "field 'max' must be at least 1")
        try:
            chunk = await within(end.reader.read(n), timeout_ms)
        except asyncio.TimeoutError:
            raise Fail("would_block" if timeout_ms == 0 else "timeout", "no data")
        except OSError as e:
            raise os_fail(e, "read")
        return {"data": base64.b64encode(chunk).decode("ascii")} if chunk else {"eof": True}

    async def op_write(self, cmd):
        _, (_, writer) = self.get(cmd, ("wend",))
        if timeout_of(cmd) is not None:
            raise Fail("unsupported", "asyncio's write pipe transport queues in user space and "
                       "cannot take bytes back: no exact count for a deadline or non-blocking write")
        repeat = field(cmd, "repeat", int, 1)
        data = payload(cmd)
        if not data:
            return {"written": 0}  # never handed to the system (FIFO-IO-8)
        written = 0
        for _ in range(repeat):
            try:
                if writer.transport.is_closing():
                    raise BrokenPipeError(errno.EPIPE, "the write pipe transport is closed")
                writer.write(data)
                await writer.drain()
            except (OSError, RuntimeError) as e:
                raise os_fail(e, "write")
            written += len(data)
        return {"written": written}

    def remove_if_ours(self, owner):
        path, ident = owner[1], owner[3]
        owner[3] = None
        if ident is None:
            return
        try:
            st = os.lstat(path)
            if stat.S_ISFIFO(st.st_mode) and (st.st_dev, st.st_ino) == ident:
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise os_fail(e, "unlink " + path)

    async def op_remove(self, cmd):
        _, owner = self.get(cmd, ("owner",))
        self.remove_if_ours(owner)
        return {}

    async def op_release(self, cmd):
        _, owner = self.get(cmd, ("owner",))
        owner[3] = None
        return {}

    async def close_value(self, v):
        kind = v[0]
        if kind == "owner":
            self.remove_if_ours(v)
        elif kind == "rend":
            v[1].transport.close()
        elif kind == "wend":
            if not v[1].transport.is_closing():  # closed by asyncio itself after EPIPE
                v[1].transport.abort()
        elif kind == "listener":
            v[1]["server"].close()
            await v[1]["server"].wait_closed()
            # Before 3.13 (cleanup_socket) a closed unix server leaves its socket file: the agent
            # removes it, only while it is still the one this listener bound (CHAN-LISTEN-5).
            path, ident = v[1]["path"], v[1]["ident"]
            if sys.version_info < (3, 13):
                try:
                    st = os.lstat(path)
                    if stat.S_ISSOCK(st.st_mode) and (st.st_dev, st.st_ino) == ident:
                        os.unlink(path)
                except OSError:
                    pass
        elif kind == "conn":
            if not v[1]["writer"].transport.is_closing():
                v[1]["writer"].transport.abort()

    async def op_close(self, cmd):
        h, v = self.get(cmd, ("owner", "rend", "wend", "listener", "conn"))
        del self.handles[h]
        await self.close_value(v)
        await asyncio.sleep(0)  # let the transport's close callbacks run (the fd is closed then)
        return {}

    # -- Channel profile ------------------------------------------------------------------------
    async def recv_frame(self, conn, maxlength, timeout_ms):
        """One message, or None at EOF between messages. StreamReader has no peek, but
        readexactly() consumes nothing until all it asked for is there; the length of a header
        already read is kept in the connection, so a deadline inside a message loses nothing and
        the next recv resumes it (CHAN-RECV-4)."""
        reader = conn["reader"]

        async def frame():
            if conn["pending"] is None:
                try:
                    head = await reader.readexactly(4)
                except asyncio.IncompleteReadError as e:
                    if not e.partial:
                        return None
                    raise Fail("protocol_error", "end of file inside a message header")
                except ConnectionResetError:
                    return None  # the peer died between messages (CHAN-LIFE-2)
                (n,) = struct.unpack("!i", head)
                if n < -1:
                    conn["read_broken"] = True
                    raise Fail("protocol_error", "negative message length %d" % n)
                conn["pending"] = n
            if conn["pending"] == -1:
                try:
                    (conn["pending"],) = struct.unpack("!Q", await reader.readexactly(8))
                except asyncio.IncompleteReadError:
                    raise Fail("protocol_error", "end of file inside a message header")
            n = conn["pending"]
            if maxlength is not None and n > maxlength:
                conn["read_broken"] = True  # no longer at a message boundary (CHAN-RECV-2)
                raise Fail("message_too_long", "a message of %d bytes, maxlength %d" % (n, maxlength))
            try:
                data = await reader.readexactly(n)
            except asyncio.IncompleteReadError:
                raise Fail("protocol_error", "end of file during message")
            conn["pending"] = None
            return data

        try:
            return await within(frame(), timeout_ms)
        except asyncio.TimeoutError:
            raise Fail("would_block" if timeout_ms == 0 else "timeout", "no whole message")

    async def send_frame(self, conn, data):
        head = struct.pack("!i", len(data)) if len(data) <= 0x7fffffff else struct.pack("!iQ", -1, len(data))
        w = conn["writer"]
        w.write(head + data)
        await w.drain()

    async def hs_recv(self, conn, deadline):
        left = deadline - self.loop.time()
        try:
            m = await self.recv_frame(conn, 256, max(1, int(left * 1000)))
        except Fail as f:
            raise f if f.error == "timeout" else Fail("auth_failed", "handshake: " + f.message)
        except (OSError, asyncio.IncompleteReadError) as e:
            raise Fail("auth_failed", "handshake: %s" % e)
        if m is None:
            raise Fail("auth_failed", "handshake: the peer closed")
        return m

    async def hs_send(self, conn, data):
        try:
            await self.send_frame(conn, data)
        except OSError as e:
            raise Fail("auth_failed", "handshake: %s" % e)

    @staticmethod
    def split_digest(b):
        if b[:1] == b"{":
            end = b.find(b"}", 1, 22)
            if end < 0:
                raise Fail("auth_failed", "malformed {digest} prefix")
            name = b[1:end].decode("latin-1")
            if name not in DIGESTS:
                raise Fail("auth_failed", "unknown digest {%s}" % name)
            return name, b[end + 1:], True
        return "md5", b, False

    async def deliver(self, conn, key, form, deadline):
        msg = os.urandom(20) if form == "md5" else b"{sha256}" + os.urandom(40)
        await self.hs_send(conn, b"#CHALLENGE#" + msg)
        answer = await self.hs_recv(conn, deadline)
        ok = False
        if len(answer) == 16:
            ok = hmac.compare_digest(answer, hmac.new(key, msg, "md5").digest())
        elif answer[:1] == b"{":
            try:
                name, mac, _ = self.split_digest(answer)
                ok = hmac.compare_digest(mac, hmac.new(key, msg, name).digest())
            except Fail:
                ok = False
        if not ok:
            try:
                await self.send_frame(conn, b"#FAILURE#")
            except OSError:
                pass
            raise Fail("auth_failed", "digest received was wrong")
        await self.hs_send(conn, b"#WELCOME#")

    async def answer(self, conn, key, deadline):
        m = await self.hs_recv(conn, deadline)
        if not m.startswith(b"#CHALLENGE#"):
            raise Fail("auth_failed", "not a #CHALLENGE# message")
        msg = m[len(b"#CHALLENGE#"):]
        # A 20-byte message is the legacy form whatever its first byte (random bytes may start
        # with '{'), as CPython 3.12's _get_digest_name_and_payload decides by length first.
        name, rest, prefixed = ("md5", msg, False) if len(msg) == 20 else self.split_digest(msg)
        if len(rest) < 20:
            raise Fail("auth_failed", "challenge too short")
        mac = hmac.new(key, msg, name).digest()
        await self.hs_send(conn, (b"{%s}" % name.encode()) + mac if prefixed else mac)
        if await self.hs_recv(conn, deadline) != b"#WELCOME#":
            raise Fail("auth_failed", "digest sent was rejected")

    @staticmethod
    def auth(cmd):
        form = field(cmd, "challenge", str, "sha256")
        if form not in ("sha256", "md5"):
            raise Fail("protocol_error", "field 'challenge' must be 'sha256' or 'md5'")
        return (b64(cmd, "authkey") if "authkey" in cmd else None), form

    def hs_deadline(self, timeout_ms):
        d = self.loop.time() + HANDSHAKE_S
        return d if timeout_ms is None else min(d, self.loop.time() + timeout_ms / 1000.0)

    async def op_listen(self, cmd):
        address = field(cmd, "address", str, required=True)
        key, form = self.auth(cmd)
        queue = asyncio.Queue()

        async def on_client(reader, writer):
            queue.put_nowait((reader, writer))

        try:
            server = await asyncio.start_unix_server(on_client, address, backlog=64)
        except (OSError, ValueError) as e:
            raise os_fail(e, "listen " + address)
        st = os.lstat(address)
        return {"handle": self.new_handle("l", ["listener", {
            "server": server, "queue": queue, "key": key, "form": form, "path": address,
            "ident": (st.st_dev, st.st_ino)}])}

    async def op_accept(self, cmd):
        _, (_, l) = self.get(cmd, ("listener",))
        timeout_ms = timeout_of(cmd)
        start_deadline = self.hs_deadline(timeout_ms)
        try:
            reader, writer = await within(l["queue"].get(), timeout_ms)
        except asyncio.TimeoutError:
            raise Fail("would_block" if timeout_ms == 0 else "timeout", "no client")
        conn = {"reader": reader, "writer": writer, "read_broken": False, "pending": None}
        if l["key"] is not None:
            try:
                await self.deliver(conn, l["key"], l["form"], start_deadline)
                await self.answer(conn, l["key"], start_deadline)
            except BaseException:
                writer.transport.abort()
                raise
        return {"handle": self.new_handle("c", ["conn", conn])}

    async def op_connect(self, cmd):
        address = field(cmd, "address", str, required=True)
        key, form = self.auth(cmd)
        timeout_ms = timeout_of(cmd)
        deadline = self.hs_deadline(timeout_ms)
        try:
            reader, writer = await within(asyncio.open_unix_connection(address), timeout_ms)
        except asyncio.TimeoutError:
            raise Fail("would_block" if timeout_ms == 0 else "timeout", "connect did not complete")
        except (OSError, ValueError) as e:
            raise os_fail(e, "connect " + address)
        conn = {"reader": reader, "writer": writer, "read_broken": False, "pending": None}
        if key is not None:
            try:
                await self.answer(conn, key, deadline)
                await self.deliver(conn, key, form, deadline)
            except BaseException:
                writer.transport.abort()
                raise
        return {"handle": self.new_handle("c", ["conn", conn])}

    async def op_send(self, cmd):
        _, (_, conn) = self.get(cmd, ("conn",))
        if "timeout_ms" in cmd:
            raise Fail("unsupported", "StreamWriter queues in user space: no send deadline")
        data = payload(cmd)
        try:
            if conn["writer"].transport.is_closing():
                raise BrokenPipeError(errno.EPIPE, "the transport is closed")
            await self.send_frame(conn, data)
        except (OSError, RuntimeError) as e:
            raise os_fail(e, "send")
        return {"sent": len(data)}

    async def op_recv(self, cmd):
        _, (_, conn) = self.get(cmd, ("conn",))
        timeout_ms = timeout_of(cmd)
        maxlength = field(cmd, "max", int)
        if conn["read_broken"]:
            raise Fail("io_error", "the connection is write-only after a refused message")
        try:
            data = await self.recv_frame(conn, maxlength, timeout_ms)
        except OSError as e:
            raise os_fail(e, "recv")
        if data is None:
            return {"eof": True}
        if field(cmd, "digest", bool, False):
            return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        return {"data": base64.b64encode(data).decode("ascii")}

    async def close_all(self):
        for h in list(self.handles):
            v = self.handles.pop(h)
            try:
                await self.close_value(v)
            except Exception:
                pass


async def main():
    loop = asyncio.get_event_loop()
    agent = Agent(loop)
    stdin = asyncio.StreamReader(limit=1 << 30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        reply = {"id": None, "ok": True}
        bye = False
        try:
            try:
                cmd = json.loads(line)
            except ValueError as e:
                raise Fail("protocol_error", "line: not JSON: %s" % e)
            if not isinstance(cmd, dict):
                raise Fail("protocol_error", "line: a JSON object expected")
            reply["id"] = cmd.get("id")
            field(cmd, "id", int, required=True)
            op = field(cmd, "op", str, required=True)
            if op == "bye":
                await agent.close_all()
                bye = True
            else:
                handler = getattr(agent, "op_" + op, None) if op in OPS else None
                if handler is None:
                    raise Fail("unsupported", "unknown op %r" % op)
                reply.update(await handler(cmd))
        except Fail as f:
            reply.update(ok=False, error=f.error, message=f.message)
            if f.native:
                reply["native"] = f.native
        except Exception as e:  # an asyncio or os exception the ops did not expect
            f = os_fail(e, "error")
            reply.update(ok=False, error=f.error, message=f.message, native=f.native)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
        if bye:
            break
    await agent.close_all()


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # CPython does it already; say so anyway
    asyncio.get_event_loop().run_until_complete(main()) if sys.version_info < (3, 10) else asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
