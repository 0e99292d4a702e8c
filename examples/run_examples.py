"""Runs the three examples against the CPython that runs this script (its os.open and
multiprocessing.connection, nothing else), and checks what they print.

    python3 examples/run_examples.py BIN_DIR

BIN_DIR holds job_queue, mp_server and event_loop. Every step has a timeout; a failure names the
example and what it printed. Standard library only.
"""
import os
import subprocess
import sys
import tempfile
import threading
from multiprocessing.connection import Client

TIMEOUT = 30  # seconds for any one step


def start(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = read_line(p)
    if line != "ready":
        p.kill()
        raise SystemExit("%s: expected 'ready', got %r" % (argv[0], line + p.stdout.read()))
    return p


def read_line(p):
    result = []
    t = threading.Thread(target=lambda: result.append(p.stdout.readline()))
    t.start()
    t.join(TIMEOUT)
    if t.is_alive():
        p.kill()
        raise SystemExit("%s: said nothing within %d s" % (p.args[0], TIMEOUT))
    return result[0].rstrip("\n")


def finish(p):
    try:
        out, _ = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        raise SystemExit("%s: did not exit within %d s" % (p.args[0], TIMEOUT))
    if p.returncode != 0:
        raise SystemExit("%s: exit status %d:\n%s" % (p.args[0], p.returncode, out))
    return out


def job_queue(bin_dir, tmp):
    path = os.path.join(tmp, "jobs")
    p = start([os.path.join(bin_dir, "job_queue"), path])
    jobs = ["resize image-%d.png" % i for i in range(100)]
    # Two producers at once, one write(2) per job: the consumer reads EOF after the last closes.
    fds = [os.open(path, os.O_WRONLY) for _ in range(2)]
    for i, job in enumerate(jobs):
        os.write(fds[i % 2], (job + "\n").encode())
    for fd in fds:
        os.close(fd)
    out = finish(p)
    got = sorted(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("job "))
    if got != sorted(jobs) or "done: 100 jobs" not in out:
        raise SystemExit("job_queue: wrong jobs:\n" + out)
    if os.path.exists(path):
        raise SystemExit("job_queue: the FIFO was not removed on exit")
    return "job_queue: 100 jobs from 2 CPython producers"


def mp_server(bin_dir, tmp):
    address = os.path.join(tmp, "server.sock")
    keyfile = os.path.join(tmp, "key")
    key = b"s3cret key"
    with open(keyfile, "wb") as f:
        f.write(key)
    p = start([os.path.join(bin_dir, "mp_server"), address, keyfile, "4"])
    for i in range(3):
        with Client(address, authkey=key) as c:
            c.send_bytes(b"hello %d" % i)
            reply = c.recv_bytes()
            if reply != b"HELLO %d" % i:
                raise SystemExit("mp_server: wrong reply %r" % reply)
    # A client with the wrong key is refused by the handshake, and the server goes on.
    try:
        with Client(address, authkey=b"wrong"):
            pass
        raise SystemExit("mp_server: a wrong key was accepted")
    except Exception as e:  # multiprocessing.AuthenticationError
        if type(e).__name__ != "AuthenticationError":
            raise
    out = finish(p)
    if out.count("served pid %d" % os.getpid()) != 3 or "refused a client" not in out:
        raise SystemExit("mp_server: unexpected output:\n" + out)
    return "mp_server: 3 CPython clients served, 1 wrong key refused"


def event_loop(bin_dir, tmp):
    address = os.path.join(tmp, "loop.sock")
    clients, per_client = 20, 50
    p = start([os.path.join(bin_dir, "event_loop"), address, str(clients)])
    errors = []
    ready = threading.Barrier(clients)

    def one(n):
        try:
            with Client(address) as c:
                ready.wait(TIMEOUT)  # all connected at once
                for i in range(per_client):
                    msg = (b"client %d message %d " % (n, i)) * (1 + i % 7)
                    c.send_bytes(msg)
                    if c.recv_bytes() != msg:
                        errors.append("client %d: wrong echo" % n)
                        return
        except Exception as e:
            errors.append("client %d: %r" % (n, e))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    out = finish(p)
    if errors:
        raise SystemExit("event_loop: " + "; ".join(errors[:5]))
    if "done: %d clients, %d messages echoed" % (clients, clients * per_client) not in out:
        raise SystemExit("event_loop: unexpected output:\n" + out)
    return "event_loop: %d concurrent CPython clients, %d messages echoed (%s)" % (
        clients, clients * per_client, out.strip().splitlines()[-1].split(", ")[-1])


def main():
    bin_dir = sys.argv[1]
    examples = [job_queue, mp_server]
    if os.name == "posix":
        examples.append(event_loop)
    for example in examples:
        with tempfile.TemporaryDirectory(prefix="npipe-example-") as tmp:
            print("  " + example(bin_dir, tmp))
    print("examples: %d passed against CPython %s" % (len(examples), sys.version.split()[0]))


if __name__ == "__main__":
    main()
