# PyPy 3's multiprocessing.connection is CPython 3.9's: the deviations of the cpython-connection
# columns, each shown here in a few lines (CHAN-LISTEN-1, -3, -5, CHAN-FRAME-4, NAME-4, NAME-3).
import os, socket, stat, struct, sys, platform
from multiprocessing.connection import Listener, Client
found = []
os.umask(0)
l = Listener("sock")
if stat.S_IMODE(os.stat("sock").st_mode) != 0o600:
    found.append("CHAN-LISTEN-1: socket mode %o" % stat.S_IMODE(os.stat("sock").st_mode))
os.unlink("sock"); open("sock", "w").write("x"); l.close()
if not os.path.exists("sock"):
    found.append("CHAN-LISTEN-5: close() removed a file that replaced its socket")
s = socket.socket(socket.AF_UNIX); s.bind("stale"); s.close()
try:
    Listener("stale")
except OSError as e:
    found.append("CHAN-LISTEN-3: Listener over a stale socket: %s" % e)
l = Listener("wire"); c = socket.socket(socket.AF_UNIX); c.connect("wire"); conn = l.accept()
c.sendall(struct.pack("!i", -2) + b"xxxx")
if conn.recv_bytes() == b"":
    found.append("CHAN-FRAME-4: a length of -2 is read as an empty message")
try:
    Listener("a" * 150)
except OSError as e:
    if e.errno is None:
        found.append("NAME-4: a long address gives OSError without errno (%s)" % e)
try:
    l2 = Listener("x\0y")
    if os.path.exists("x"):
        found.append("NAME-3: Listener('x\\0y') bound 'x'")
except (OSError, ValueError):
    pass
ok = len(found) == 6
print(("REPRODUCED on PyPy %s: " % platform.python_version() if ok else "NOT REPRODUCED: ") + "; ".join(found))
sys.exit(not ok)
