#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: opens whatever is at the path (FIFO-OPEN-7, FIFO-OPEN-8).

No check that the path is a FIFO, before or after open, and symlinks are followed: a regular
file, a directory, /dev/null or a symlink to a FIFO are opened like a FIFO. Everything else is
cpython_fifo.
"""
import os
import stat
import sys

import _patch

fifo = _patch.load("cpython_fifo")


class LaxStat:
    """os as cpython_fifo sees it, except that every path looks like a FIFO."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def lstat(path):
        st = os.stat(path)  # follows symlinks
        return os.stat_result((stat.S_IFIFO | 0o600,) + tuple(st)[1:])

    @staticmethod
    def fstat(fd):
        st = os.fstat(fd)
        return os.stat_result((stat.S_IFIFO | 0o600,) + tuple(st)[1:])

    O_NOFOLLOW = 0


_patch.replace(fifo, "os", LaxStat())
sys.exit(fifo.main())
