"""The interpreters the run covers: found, runnable, and spanning both handshake generations."""
import pytest

from npipe_harness import interpreters


def test_interpreter_coverage(request):
    running = request.config._npipe_interps
    notes = request.config._npipe_notes
    legacy = [i for i in running if not i.modern_handshake]
    modern = [i for i in running if i.modern_handshake]
    assert legacy, "no interpreter < 3.12 runs (3.11-style HMAC-MD5 handshake untested); %r" % notes
    assert modern, "no interpreter >= 3.12 runs ({sha256} handshake untested); %r" % notes
    if not request.config.getoption("--interpreters"):
        absent = [label for label, status in notes if status.startswith("ABSENT")]
        assert not absent, "required interpreters absent: %s" % ", ".join(absent)


def test_interpreter_runs(env, interp):
    peer = env.pyexec(interp)
    got = tuple(peer.run("out = list(sys.version_info[:3])"))
    assert got == interp.version
    assert peer.finish() == 0


def test_exclusions_are_stated():
    for minor, reason in interpreters.EXCLUDED_REASON.items():
        assert reason.startswith("excluded:") and "bpo-17560" in reason
