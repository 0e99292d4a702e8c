#!/usr/bin/env python3
"""py_peer: the CPython side of `make bench`, with npipe-bench's command line (bench/run.py).

Plain standard library, written as a Python user would: os.mkfifo + unbuffered open() for the FIFO
profile, multiprocessing.connection.Listener / Client with send_bytes / recv_bytes for the Channel
profile. One JSON object on stdout per measurement.

  fifo   --path P --chunk C --total T
  serve  --addr A --mode echo|sink|accept [--authkey K] [--count N]      prints "ready"
  client --addr A --mode echo|stream|connect --size S --count N [--warmup W] [--authkey K]
         (connect: W connections before the clock starts; the listener must accept N + W)
  mem-recv --addr A --size S
"""
import json
import os
import resource
import sys
import time
from multiprocessing import connection as mpc


def parse(argv):
    args = {}
    for i in range(0, len(argv) - 1, 2):
        if not argv[i].startswith("--"):
            raise SystemExit("bad argument " + argv[i])
        args[argv[i][2:]] = argv[i + 1]
    return args


def authkey(a):
    key = a.get("authkey", "-")
    return None if key == "-" else key.encode()


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def cmd_fifo(a):
    path, chunk, total = a["path"], int(a["chunk"]), int(a["total"])
    if os.path.exists(path):
        os.unlink(path)
    os.mkfifo(path, 0o600)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        data = b"x" * chunk
        with open(path, "wb", buffering=0) as f:
            sent = 0
            while sent < total:
                sent += f.write(data)
        os._exit(0)
    buf = bytearray(chunk)
    got = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            got += n
    os.waitpid(pid, 0)
    s = time.perf_counter() - t0
    os.unlink(path)
    if got != total:
        raise SystemExit("fifo: got %d of %d bytes" % (got, total))
    emit({"bytes": got, "seconds": s, "bytes_per_s": got / s})


def cmd_serve(a):
    listener = mpc.Listener(a["addr"], family="AF_UNIX", authkey=authkey(a))
    print("ready", flush=True)
    mode = a["mode"]
    if mode == "echo":
        c = listener.accept()
        try:
            while True:
                c.send_bytes(c.recv_bytes())
        except EOFError:
            pass
    elif mode == "sink":
        c = listener.accept()
        messages = 0
        while c.recv_bytes():
            messages += 1
        c.send_bytes(str(messages).encode())
    elif mode == "accept":
        for _ in range(int(a["count"])):
            listener.accept().close()
    listener.close()


def percentile(sorted_values, p):
    rank = int(p * (len(sorted_values) - 1) + 0.5)
    return sorted_values[min(rank, len(sorted_values) - 1)]


def cmd_client(a):
    addr, mode, count = a["addr"], a["mode"], int(a["count"])
    key = authkey(a)
    if mode == "connect":
        # Warm-up connections first, off the clock: one-time costs (imports, hashlib's first use)
        # are not the rate of connecting.
        for _ in range(int(a.get("warmup", count // 10))):
            mpc.Client(addr, family="AF_UNIX", authkey=key).close()
        t0 = time.perf_counter()
        for _ in range(count):
            mpc.Client(addr, family="AF_UNIX", authkey=key).close()
        s = time.perf_counter() - t0
        emit({"connections": count, "seconds": s, "per_s": count / s})
        return
    size = int(a["size"])
    msg = b"x" * size
    c = mpc.Client(addr, family="AF_UNIX", authkey=key)
    if mode == "echo":
        warmup = int(a.get("warmup", count // 10))
        rtt = []
        clock = time.perf_counter
        for i in range(warmup + count):
            if i == warmup:
                t0 = clock()
            t = clock()
            c.send_bytes(msg)
            if len(c.recv_bytes()) != size:
                raise SystemExit("bad echo")
            if i >= warmup:
                rtt.append((clock() - t) * 1e6)
        total = clock() - t0
        rtt.sort()
        emit({"median_us": percentile(rtt, 0.5), "p99_us": percentile(rtt, 0.99),
              "count": count, "round_trips_per_s": count / total})
    elif mode == "stream":
        t0 = time.perf_counter()
        for _ in range(count):
            c.send_bytes(msg)
        c.send_bytes(b"")
        c.recv_bytes()
        s = time.perf_counter() - t0
        emit({"bytes": size * count, "messages": count, "seconds": s,
              "bytes_per_s": size * count / s, "messages_per_s": count / s})
    c.close()


def cmd_mem_recv(a):
    addr, size = a["addr"], int(a["size"])
    listener = mpc.Listener(addr, family="AF_UNIX")
    pid = os.fork()
    if pid == 0:
        c = mpc.Client(addr, family="AF_UNIX")
        c.send_bytes(b"x" * size)
        os._exit(0)
    c = listener.accept()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    m = c.recv_bytes()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    os.waitpid(pid, 0)
    if len(m) != size:
        raise SystemExit("mem-recv: short message")
    emit({"payload_bytes": size, "peak_delta_bytes": (after - before) * 1024})


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, a = sys.argv[1], parse(sys.argv[2:])
    {"fifo": cmd_fifo, "serve": cmd_serve, "client": cmd_client,
     "mem-recv": cmd_mem_recv}[cmd](a)


if __name__ == "__main__":
    main()
