"""The lock of an unfinished run folder: one process at a time works on it.

A module of its own with no heavy imports, so that the lock can be taken (and tested with
many forked contenders) without loading the simulation.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sim.experiments.executors import close_in_workers

LOCK = "running.pid"


class Lock:
    """One process at a time works on an unfinished run folder.

    The lock is an operating-system lock (``flock``) on ``running.pid``, held while the
    process works and released by the system when it ends, however it ends: a dead
    process, or a reused process number, never blocks a later run. The file names the
    holder's process number for the message a second process gets."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise ValueError(
                    f"{folder} is still being worked on by process {holder}; "
                    "wait for it or stop it first"
                ) from None
            # the file may have been removed by a holder that just finished: then this
            # lock is on a file nobody else sees, and it is taken again
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        close_in_workers(fd)  # a pool worker must not keep the folder locked

    def release(self, moved_to: Path | None = None) -> None:
        """Remove the lock file (from the folder's final place if it moved) and unlock."""
        path = self.path if moved_to is None else moved_to / LOCK
        path.unlink(missing_ok=True)
        close_in_workers(self.fd, close=False)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
