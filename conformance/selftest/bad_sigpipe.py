#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: dies of SIGPIPE (FIFO-PIPE-1).

Restores the default SIGPIPE disposition, as a C program that forgot to handle it would have:
a write with no reader kills the process. Everything else is cpython_fifo.
"""
import signal
import sys

import _patch

fifo = _patch.load("cpython_fifo")
real_main = fifo.main


def main():
    # cpython_fifo's main ignores SIGPIPE first; undo that once it has.
    real_signal = signal.signal

    def signal_default(sig, handler):
        return real_signal(sig, signal.SIG_DFL if sig == signal.SIGPIPE else handler)

    _patch.replace(fifo.signal, "signal", signal_default)
    return real_main()


sys.exit(main())
