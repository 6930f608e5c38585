"""MJX's body-tree passes with an XLA optimisation barrier after each tree level (for long kinematic chains).

MJX computes kinematics, centres of mass, composite inertias and the recursive Newton-Euler pass level by level
over the body tree (``mujoco.mjx._src.scan.body_tree``, one vmapped call per group of bodies of equal depth).
XLA's instruction fusion then inlines each level's poses into the next level's computation instead of reading
them once: along the Sawyer arm's seven-link chain the compiled ``mjx.kinematics`` of one env held 8,783
multiplies against 311 for the floating hand, and one CPU call took 1.7 s. An ``optimization_barrier`` on each
level's output keeps the levels apart: 1,904 multiplies, 0.8 ms per CPU call (the whole ``mjx.step`` 1.7 ms
instead of 1.7 s), same values (``docs/metaworld_mjx.md``, "The Sawyer arm option").

``fenced_levels()`` is a context manager for the *tracing* of MJX calls: entered inside a function that
``jax.jit`` traces, it affects only the MJX calls traced within it and nothing else in the process. It patches
one private function of ``mujoco.mjx`` (``scan._nvmap``), so it is tied to the pinned mujoco-mjx version
(``pyproject.toml``); ``tests/test_mjx_levels.py`` fails if that function disappears or the barrier stops
reducing the arm's compiled work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax
from mujoco.mjx._src import scan as _mjx_scan

_ORIGINAL_NVMAP = _mjx_scan._nvmap


def _fenced_nvmap(f, *args):
    return jax.lax.optimization_barrier(_ORIGINAL_NVMAP(f, *args))


@contextlib.contextmanager
def fenced_levels(enabled: bool = True) -> Iterator[None]:
    """While active (and ``enabled``), MJX calls traced here put a barrier after each body-tree level."""
    if not enabled:
        yield
        return
    previous = _mjx_scan._nvmap
    _mjx_scan._nvmap = _fenced_nvmap
    try:
        yield
    finally:
        _mjx_scan._nvmap = previous
