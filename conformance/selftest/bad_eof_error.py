#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: EOF reported as an error (FIFO-EOF-1).

A read that meets EOF answers io_error instead of eof:true. Everything else is cpython_fifo.
"""
import sys

import _patch

fifo = _patch.load("cpython_fifo")
real_read_once = fifo.Agent.read_once


def read_once(self, fd, n, timeout_ms):
    chunk = real_read_once(self, fd, n, timeout_ms)
    if not chunk:
        raise fifo.Fail("io_error", "unexpected end of file")
    return chunk


_patch.replace(fifo.Agent, "read_once", read_once)
sys.exit(fifo.main())
