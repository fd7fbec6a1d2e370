"""Open file descriptors of this process, for the tests that prove a
batch or a check leaves no socket behind."""
from __future__ import annotations

import gc
import os


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def fd_set() -> set:
    """(fd, target) of every open descriptor: a socket's target names its
    inode, so a new socket shows up even on a reused fd number.  Tests
    compare with `fd_set() - before` (nothing new), not exact counts:
    descriptors of an earlier test's batch may close meanwhile."""
    gc.collect()
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:
            pass
    return out
