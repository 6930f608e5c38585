"""The control step of ``MetaWorldEnv`` (``env.py``): the hand's control from an action, the substeps of every
task's envs (one vmapped call per physics group, ``physics_groups.py``) and the optional pose refresh after them.

``PhysicsStep`` is a mixin: it reads the env's ``action_scale``, ``frame_skip``, ``refresh_poses``, ``_tasks`` and
``_groups``, which ``MetaWorldEnv.__init__`` sets.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs_bridge.metaworld.task_model import TaskModel

__all__ = ["PhysicsStep"]


class PhysicsStep:
    """Control and physics of one control step of every task block (a mixin of ``MetaWorldEnv``)."""

    def control(self, k: TaskModel, hand_mocap_pos, action, xp=jnp):
        """The hand's control from 4-d actions (``[..., 4]``; one env here, every episode at once in ``cpu_sim``):
        the mocap target (moved by ``action_scale * a[:3]``, clipped to the task's mocap bounds) and the two finger
        ctrls ``(a[3], -a[3])``. ``xp``: ``jax.numpy`` here, ``numpy`` for ``cpu_sim``'s C MuJoCo data."""
        a = xp.clip(action, -1.0, 1.0)
        target = xp.clip(hand_mocap_pos + self.action_scale * a[..., :3], k.mocap_low, k.mocap_high)
        return target, xp.stack([a[..., 3], -a[..., 3]], axis=-1)

    def _controlled(self, k: TaskModel, d, action: jax.Array):
        target, ctrl = self.control(k, d.mocap_pos[k.hand_mocap], action)
        return d.replace(mocap_pos=d.mocap_pos.at[k.hand_mocap].set(target), ctrl=ctrl)

    def _physics(self, blocks: Sequence, actions: Sequence[jax.Array]) -> list:
        """Every task's data after one control step: controls set per task, then ``frame_skip`` MJX steps."""
        ds = [jax.vmap(functools.partial(self._controlled, k))(b.data, a)
              for k, b, a in zip(self._tasks, blocks, actions)]
        body_pos = [b.body_pos for b in blocks]
        if self.frame_skip == 1:
            ds = self._grouped(mjx.step, ds, body_pos)
        else:  # the substep loop runs outside the vmaps: vmapping a scan makes JAX re-batch the traced mjx.step
            # until its carry's batching settles, several passes over a large jaxpr per task (MT10 arm: 42 s tracing)
            ds = jax.lax.scan(lambda ds, _: (self._grouped(mjx.step, ds, body_pos), None), ds, None,
                              length=self.frame_skip)[0]
        if not self.refresh_poses:
            return ds
        # the kinematics rebuild each env's data from the carried fields: its contact slots (read by the scenes'
        # touching tests, ``scene_defs.touching``) stay those of the last substep (Meta-World's mj_forward would
        # recompute them at the new poses: a collision pass more per step, not taken)
        fresh = self._grouped(mjx.kinematics, ds, body_pos)
        return [f.replace(contact_geom1=d.contact_geom1, contact_geom2=d.contact_geom2, contact_dist=d.contact_dist)
                for f, d in zip(fresh, ds)]

    def _grouped(self, fn, datas: Sequence, body_pos: Sequence[jax.Array], always_placed: bool = False) -> list:
        """``fn(model, data)`` of every env, one vmapped call per physics group (``physics_groups.py``)."""
        return self._groups.run(fn, datas, body_pos, always_placed)
