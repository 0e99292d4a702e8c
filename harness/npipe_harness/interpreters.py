"""Finding the CPython interpreters the harness pairs with npipe.

Sources, in order: `--interpreters=LIST` (comma-separated paths or versions such as 3.9), else
pyenv installs ($PYENV_ROOT/versions/*/bin/python3) and python3.X on PATH. One interpreter per
minor version runs (the first found); the others are listed as duplicates. The required range is
3.8..3.13; a required version that is not found is ABSENT and reported, never skipped silently.

3.6 and 3.7 are excluded on purpose (reported as such): they are below the range the agents
support (3.8+), and their multiprocessing.connection lacks the 2 GiB frame escape (bpo-17560,
added in 3.8): they send a >2 GiB length as a wrapped 32-bit value and read a -1 header as an
empty message, so CHAN-FRAME-2 interop cannot hold. Python 2 is excluded likewise.
"""
import glob
import os
import re
import subprocess

REQUIRED = [(3, minor) for minor in range(8, 14)]
EXCLUDED_REASON = {
    (3, 6): "excluded: below 3.8; no 2 GiB frame escape (bpo-17560) and agents need 3.8+",
    (3, 7): "excluded: below 3.8; no 2 GiB frame escape (bpo-17560) and agents need 3.8+",
}


class Interpreter:
    def __init__(self, path, version, executable):
        self.path = path
        self.version = version  # (major, minor, micro)
        self.executable = executable

    @property
    def minor(self):
        return self.version[:2]

    @property
    def id(self):
        return "py%d.%d" % self.minor

    @property
    def modern_handshake(self):
        """3.12+ sends the {sha256} challenge; earlier ones send 20 raw bytes (HMAC-MD5)."""
        return self.minor >= (3, 12)

    def __repr__(self):
        return "%s(%s %s)" % (self.id, ".".join(map(str, self.version)), self.path)


def probe(path, timeout=20):
    """(version tuple, sys.executable) of an interpreter, or None when it does not run."""
    try:
        out = subprocess.run(
            [path, "-I", "-c", "import sys; print('%d %d %d' % sys.version_info[:3]); print(sys.executable)"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            timeout=timeout, check=True).stdout.decode().split("\n")
        return tuple(int(x) for x in out[0].split()), out[1].strip()
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def candidates():
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python3")))
    for minor in range(6, 16):
        for d in os.environ.get("PATH", "").split(os.pathsep):
            exe = os.path.join(d, "python3.%d" % minor)
            if os.access(exe, os.X_OK) and not os.path.isdir(exe):
                found.append(exe)
    return found


def discover(spec=None):
    """Returns (running, notes): the interpreters to use, and a list of (label, status) lines
    describing every candidate and every required version (ran / duplicate / excluded / absent /
    broken)."""
    notes = []
    explicit = bool(spec)
    paths = []
    if explicit:
        for item in [s.strip() for s in spec.split(",") if s.strip()]:
            if os.sep in item:
                paths.append(item)
            else:  # a version such as 3.9: look it up among the candidates
                match = [c for c in candidates() if (probe(c) or ((0,),))[0][:2] == tuple(int(x) for x in item.split("."))[:2]]
                if match:
                    paths.append(match[0])
                else:
                    notes.append(("python" + item, "ABSENT (asked for on the command line)"))
    else:
        paths = candidates()
    running, seen_exe, by_minor = [], set(), {}
    for path in paths:
        info = probe(path)
        if info is None:
            if "/shims/" not in path:  # a pyenv shim with no version selected is not an interpreter
                notes.append((path, "BROKEN: does not run"))
            continue
        version, exe = info
        real = os.path.realpath(exe)
        if real in seen_exe:
            continue
        seen_exe.add(real)
        label = "%s (%s)" % (".".join(map(str, version)), exe)
        if version[0] != 3:
            notes.append((label, "excluded: not Python 3"))
        elif version[:2] in EXCLUDED_REASON and not explicit:
            notes.append((label, EXCLUDED_REASON[version[:2]]))
        elif version[:2] in by_minor:
            notes.append((label, "duplicate of %s: not run" % by_minor[version[:2]].executable))
        else:
            interp = Interpreter(path, version, exe)
            by_minor[version[:2]] = interp
            running.append(interp)
            notes.append((label, "RUN as %s" % interp.id))
    if not explicit:
        for minor in REQUIRED:
            if minor not in by_minor:
                notes.append(("python%d.%d" % minor, "ABSENT (required range 3.8..3.13)"))
    running.sort(key=lambda i: i.version)
    def order(note):
        nums = [int(x) for x in re.findall(r"\d+", note[0].split(" ")[0])]
        return (not note[1].startswith("RUN"), nums)
    notes.sort(key=order)
    return running, notes
