#!/usr/bin/env python3
"""Self-test agent, wrong on purpose: a handshake that accepts any answer (CHAN-AUTH-5).

multiprocessing.connection's verifier is replaced by one that welcomes whatever comes back.
Everything else is cpython_connection.
"""
import sys

import _patch

conn = _patch.load("cpython_connection")
mpc = conn.mpc


def deliver_challenge(connection, authkey, *args, **kwargs):
    import os
    if sys.version_info >= (3, 12):
        message = b"{sha256}" + os.urandom(40)
    else:
        message = os.urandom(20)
    connection.send_bytes(b"#CHALLENGE#" + message)
    connection.recv_bytes(256)  # the answer, not checked
    connection.send_bytes(b"#WELCOME#")


_patch.replace(mpc, "deliver_challenge", deliver_challenge)
sys.exit(conn.main())
