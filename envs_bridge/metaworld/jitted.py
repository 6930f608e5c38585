"""A ``MetaWorldEnv`` with its jitted ``reset`` / ``reset_from`` / ``step``, for sharing one compiled program.

Compiling an MT10 step program costs minutes of XLA time on a CPU (ten MJX models are stepped one after another
in one trace), and every new batch shape, episode length or ``lax.scan`` around the step is another compile.
Rollout code that only needs *some* of the env rows (the trajectory-parity replay, the reward-following probes,
the scripted-policy evaluation) therefore takes a ``JittedEnv`` and drives its one jitted ``step`` from a Python
loop: rows it does not need run zero actions from a valid initial state (``padded_rand_vecs``), and controllers
are small functions jitted separately (cheap to compile). The test suite builds one ``JittedEnv`` per session
(``tests/conftest.py``), so the MT10 step is compiled once for all Meta-World test modules.

Nothing here depends on the physics: the same code works for any ``MetaWorldEnv`` options.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import jax
import numpy as np

from envs_bridge.metaworld.env import MetaWorldEnv

__all__ = ["JittedEnv"]


class JittedEnv:
    """``env`` plus ``jax.jit`` wrappers of its protocol, each compiled on its first call and then reused
    (``compiler_options``: XLA options for the three compiles, e.g. the optimisation level).

    Attributes:
      env: the ``MetaWorldEnv``.
      reset, reset_from, step: ``jax.jit(env.reset)``, ``jax.jit(env.reset_from)``, ``jax.jit(env.step)``. Pass
        actions as ``float32 [N, 4]`` arrays (another dtype or shape is another compile).
    """

    def __init__(self, env: MetaWorldEnv, compiler_options: dict | None = None):
        self.env = env
        jit = functools.partial(jax.jit, compiler_options=compiler_options)
        self.reset = jit(env.reset)
        self.reset_from = jit(env.reset_from)
        self.step = jit(env.step)

    @property
    def num_envs(self) -> int:
        return self.env.task_set.num_envs

    def rows(self, task: str) -> slice:
        """The rows of ``task``'s block in the task-major batch (``ValueError`` if the env does not have it)."""
        ts = self.env.task_set
        if task not in ts.task_names:
            raise ValueError(f"the shared env has no {task!r} block (tasks: {', '.join(ts.task_names)})")
        i = ts.task_names.index(task)
        return slice(ts.offsets[i], ts.offsets[i] + ts.envs_per_task[i])

    def block_size(self, task: str) -> int:
        """Number of envs of ``task`` (``ValueError`` if the env does not have the task)."""
        r = self.rows(task)
        return r.stop - r.start

    def padded_rand_vecs(self, given: Mapping[str, np.ndarray]) -> tuple[jax.Array, ...]:
        """``rand_vecs`` for ``reset_from``: task ``t``'s block starts with the rows ``given[t]``; every other row
        (and every row of a task not in ``given``) gets Meta-World's seeded variation 0 of its task, a valid
        placement, so idle rows run ordinary physics (they are independent of the others: ``vmap``).
        """
        out = []
        for t, k, n in zip(self.env.task_set.task_names, self.env._tasks, self.env.task_set.envs_per_task):
            fill = np.asarray(k.rand_vecs[0], np.float32)
            rv = np.tile(fill, (n, 1))
            g = np.asarray(given.get(t, np.zeros((0, fill.shape[0]))), np.float32).reshape(-1, fill.shape[0])
            if len(g) > n:
                raise ValueError(f"{len(g)} initial states of {t} given, the shared env has {n} envs of it")
            rv[: len(g)] = g
            out.append(jax.numpy.asarray(rv))
        return tuple(out)
