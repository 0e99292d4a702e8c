"""Shared by the deliberately wrong agents of the self-test: loads one of the CPython agents of
harness/agents/ as a module, so each bad agent can break exactly ONE rule by replacing one
function, then runs it. Standard library only.

If the function a bad agent wants to replace is gone (the agent was refactored), it says so on
stderr and exits 3: the self-test then fails loudly instead of passing for the wrong reason.
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
AGENTS = os.path.join(HERE, "..", "..", "harness", "agents")


def load(name):
    path = os.path.join(AGENTS, name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replace(owner, attr, new):
    if not hasattr(owner, attr):
        sys.stderr.write("selftest: %r has no %s to replace; update the self-test\n" % (owner, attr))
        sys.exit(3)
    setattr(owner, attr, new)
