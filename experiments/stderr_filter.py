"""Keeps XLA's slow-compile alarm off our CLIs' terminal, without hiding anything else written to stderr.

XLA (C++) logs a boxed alarm when one compilation runs long ("Very slow compile? If you want to file a bug ...",
"Constant folding an instruction is taking > 1s ..."), which on 2 CPU cores happens on every first MT10 compile
and reads like a failure. It is written by C++ straight to file descriptor 2, so neither Python's ``logging`` nor
absl's verbosity reach it, and ``TF_CPP_MIN_LOG_LEVEL=3`` would also hide every real C++ error. ``install()``
instead points fd 2 at a pipe read by a small filter *process* (this file run as a script) that forwards every
line to the original stderr except the alarm's block: its log line (``... slow_operation_alarm.cc:...]``) and what
follows up to the second line of asterisks that frame the message. At exit fd 2 is restored and the filter drains
the pipe, so a traceback printed just before the process ends is not lost.

Why a process and not a thread: C++ code can write to fd 2 while its thread holds Python's GIL (XLA logging from a
compile), and a full pipe (64 KiB) then blocks that write while a reader *thread* waits for the same GIL: the MT50
smoke run deadlocked exactly so after ~20 min of compiling (``tests/test_stderr_filter.py`` reproduces it with a
write of 1 MiB under the GIL). The filter process needs nothing from ours. It runs in its own session, so a Ctrl-C
at the terminal reaches our process (and its traceback the terminal) first; it exits when the pipe closes, also
after a ``kill -9`` of ours.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

__all__ = ["AlarmFilter", "forward", "install"]

_MARK = b"slow_operation_alarm"
_MAX_BLOCK = 400  # lines: a block without its closing asterisks is forwarded from here on


class AlarmFilter:
    """Line filter: ``feed(line) -> bool`` (forward it?). Drops each alarm block, keeps everything else."""

    def __init__(self):
        self._skipping, self._stars, self._held = False, 0, 0

    def feed(self, line: bytes) -> bool:
        if _MARK in line:
            self._skipping, self._stars, self._held = True, 0, 0
            return False
        if not self._skipping:
            return True
        self._held += 1
        s = line.strip()
        if len(s) >= 8 and set(s) == {ord("*")}:
            self._stars += 1
            self._skipping = self._stars < 2
            return False
        if self._held > _MAX_BLOCK:
            self._skipping = False
            return True
        return False


_installed: dict = {}


def forward(read_fd: int, write_fd: int) -> None:
    """Copies ``read_fd`` to ``write_fd`` until end of file, line by line, dropping alarm blocks."""
    alarm, pending = AlarmFilter(), b""
    while chunk := os.read(read_fd, 65536):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        out = b"".join(line + b"\n" for line in lines if alarm.feed(line))
        if out:
            _write_all(write_fd, out)
    if pending and alarm.feed(pending):
        _write_all(write_fd, pending)


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:  # the terminal went away: nothing left to show
        pass


def install() -> None:
    """Filters the alarm out of this process's fd 2 (idempotent; a no-op where fd 2 cannot be redirected or the filter
    process cannot start)."""
    if _installed:
        return
    try:
        sys.stderr.flush()
        original = os.dup(2)
        proc = subprocess.Popen([sys.executable, "-u", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                stdout=original, stderr=original, start_new_session=True)
        os.dup2(proc.stdin.fileno(), 2)
        proc.stdin.close()  # fd 2 is now the pipe's only write end in this process
    except OSError:
        return
    _installed.update(original=original, proc=proc)
    atexit.register(_drain)


def _drain() -> None:
    """Restores fd 2 (closing the pipe's last write end) and waits for the filter to forward what is left."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(_installed["original"], 2)
    try:
        _installed["proc"].wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        _installed["proc"].kill()


if __name__ == "__main__":  # the filter process: stdin -> stdout
    forward(0, 1)
