"""Keeps XLA's slow-compile alarm off our CLIs' terminal, without hiding anything else written to stderr.

XLA (C++) logs a boxed alarm when one compilation runs long ("Very slow compile? If you want to file a bug ...",
"Constant folding an instruction is taking > 1s ..."), which on 2 CPU cores happens on every first MT10 compile
and reads like a failure. It is written by C++ straight to file descriptor 2, so neither Python's ``logging`` nor
absl's verbosity reach it, and ``TF_CPP_MIN_LOG_LEVEL=3`` would also hide every real C++ error. ``install()``
instead points fd 2 at a pipe and forwards every line to the original stderr except the alarm's block: its log
line (``... slow_operation_alarm.cc:...]``) and what follows up to the second line of asterisks that frame the
message. At exit the pipe is drained, so a traceback printed just before the process ends is not lost.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

__all__ = ["AlarmFilter", "install"]

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


def install() -> None:
    """Filters the alarm out of this process's fd 2 (idempotent; a no-op where fd 2 cannot be redirected)."""
    if _installed:
        return
    try:
        sys.stderr.flush()
        original = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
    except OSError:
        return
    alarm = AlarmFilter()

    def pump():
        pending = b""
        while chunk := os.read(read_end, 65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            out = b"".join(line + b"\n" for line in lines if alarm.feed(line))
            if out:
                os.write(original, out)
        if pending and alarm.feed(pending):
            os.write(original, pending)
        os.close(read_end)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()
    _installed.update(original=original, thread=thread)
    atexit.register(_drain)


def _drain() -> None:
    """Restores fd 2 (closing the pipe's last write end) and waits for the pump to forward what is left."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(_installed["original"], 2)
    _installed["thread"].join(timeout=5.0)
