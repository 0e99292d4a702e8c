#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: hangs (driver protocol, section 1).

Every write answers nothing and sleeps forever, ignoring EOF on stdin, and a forked helper
shares its process group. The suite must report TIMEOUT, kill the whole group and go on.
"""
import os
import sys
import time

import _patch

fifo = _patch.load("cpython_fifo")


def op_write(self, cmd):
    if os.fork() == 0:  # a helper that would outlive a careless kill of the agent alone
        while True:
            time.sleep(60)
    while True:
        time.sleep(60)


_patch.replace(fifo.Agent, "op_write", op_write)
sys.exit(fifo.main())
