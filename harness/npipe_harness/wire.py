"""Raw multiprocessing.connection framing on an AF_UNIX socket, for the tests that must put
exact bytes on the wire (the 2 GiB escape, EOF inside a frame, handshake forms). Every receive
has a deadline: socket timeouts, never an unbounded wait."""
import hmac
import socket
import struct

CHALLENGE, WELCOME, FAILURE = b"#CHALLENGE#", b"#WELCOME#", b"#FAILURE#"


def connect(address, timeout=20.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(address)
    return s


def frame(data, escape=False):
    """One frame: 4-byte big-endian signed length, or -1 + 8-byte length when `escape`."""
    if escape:
        return struct.pack("!iQ", -1, len(data)) + data
    return struct.pack("!i", len(data)) + data


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_frame(s):
    (n,) = struct.unpack("!i", recv_exact(s, 4))
    if n == -1:
        (n,) = struct.unpack("!Q", recv_exact(s, 8))
    assert 0 <= n < (1 << 31), "frame length %d" % n
    return recv_exact(s, n)


def answer(key, message, form):
    """A response to challenge payload `message` (after #CHALLENGE#): "raw" = 16-byte HMAC-MD5,
    else "{form}" + HMAC-form over the whole payload."""
    if form == "raw":
        return hmac.new(key, message, "md5").digest()
    return b"{%s}" % form.encode() + hmac.new(key, message, form).digest()
