#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: an open that does not block (FIFO-OPEN-1, FIFO-OPEN-2).

Every blocking open of a FIFO is done with O_NONBLOCK: the read side returns at once with no
writer, the write side fails ENXIO at once with no reader. Everything else is cpython_fifo.
"""
import os
import sys

import _patch

fifo = _patch.load("cpython_fifo")
real_open = os.open


def nonblocking_open(path, flags, *args):
    fd = real_open(path, flags | os.O_NONBLOCK, *args)
    os.set_blocking(fd, True)
    return fd


_patch.replace(fifo.os, "open", nonblocking_open)
sys.exit(fifo.main())
