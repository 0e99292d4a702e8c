#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: writes garbage to stdout (driver protocol, section 1).

After hello it answers every read with a line that is not JSON, nor UTF-8. The suite must report
PROTOCOL (status ERROR) and kill it, not hang and not crash, and still write its report (which
quotes the line). Everything else is cpython_fifo.
"""
import sys

import _patch

fifo = _patch.load("cpython_fifo")


def op_read(self, cmd):
    sys.stdout.buffer.write(b"this is not json \xff\n")
    sys.stdout.flush()
    return {}


_patch.replace(fifo.Agent, "op_read", op_read)
sys.exit(fifo.main())
