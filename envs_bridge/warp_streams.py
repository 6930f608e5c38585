"""One registration per external CUDA stream in Warp, however many Warp wrappers of it are alive.

MuJoCo Warp runs inside JAX programs through Warp's FFI (``warp/_src/jax/ffi.py``): a call that is not yet captured
wraps XLA's CUDA stream in a fresh ``wp.Stream(device, cuda_stream=ptr)``, which registers the pointer in Warp's
native stream table (``wp_cuda_stream_register``), then captures a CUDA graph on it (``wp_cuda_graph_begin_capture``,
which fails with "Warp error: unknown stream" for a pointer not in the table). The table is not reference counted:
deleting *any* wrapper of that pointer erases the entry (``Stream.__del__`` -> ``wp_cuda_stream_unregister``) while
other wrappers of the same XLA stream may still be alive and about to capture. Which wrapper dies when depends on
Python's garbage collector, so the failure would be sporadic and more likely the more Warp calls a program
makes: the fifty-task MT50 env (its reset and step trace 130 Warp callables) failed with that error at its first
step on an H100 (session 21, ``benchmarks/results/metaworld_mt50_envs_warp_h100_failed.json``) while the ten-task
MT10 env (32) ran. That this table is the cause is a reading of Warp 1.18.0's code, not yet confirmed on a GPU.

``install()`` counts the live non-owning wrappers per (context, pointer) and lets only the last one unregister.
With one wrapper at a time (the usual case) Warp behaves exactly as before. ``physics_impl.warp_model`` installs it
before building any Warp model. Host-side only.
"""

from __future__ import annotations

import collections
import threading

__all__ = ["RefCounts", "install", "installed"]


class RefCounts:
    """Live wrappers per key; ``release`` says whether the last one went (thread-safe: Warp's FFI callbacks run on
    XLA's threads, ``__del__`` on whichever thread drops the last reference)."""

    def __init__(self):
        self._n = collections.Counter()
        self._lock = threading.Lock()

    def acquire(self, key) -> None:
        with self._lock:
            self._n[key] += 1

    def release(self, key) -> bool:
        """Drops one wrapper of ``key``; True when none is left (or none was counted: then behave as Warp does)."""
        with self._lock:
            if self._n[key] <= 1:
                self._n.pop(key, None)
                return True
            self._n[key] -= 1
            return False

    def count(self, key) -> int:
        with self._lock:
            return self._n.get(key, 0)


COUNTS = RefCounts()
_MARK = "_mtjax_stream_refcount"


def _key(stream) -> tuple:
    return (int(stream.device.context or 0), int(stream.cuda_stream or 0))


def installed() -> bool:
    from warp._src import context

    return bool(getattr(context.Stream, _MARK, False))


def install() -> None:
    """Patches ``warp``'s ``Stream`` once (idempotent) so that a wrapper of an external stream unregisters it only
    when it is the last live wrapper of that stream."""
    from warp._src import context

    cls = context.Stream
    if getattr(cls, _MARK, False):
        return
    init, delete = cls.__init__, cls.__del__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if "cuda_stream" in kwargs and self.cuda_stream:
            COUNTS.acquire(_key(self))

    def __del__(self):
        if self.cuda_stream and not self.owner and not COUNTS.release(_key(self)):
            return  # another wrapper of this external stream is alive: it stays registered
        delete(self)

    cls.__init__, cls.__del__ = __init__, __del__
    setattr(cls, _MARK, True)
