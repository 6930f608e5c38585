"""Shared physics groups (``shared_physics.py``) stepped by MuJoCo Warp: one Warp call for all envs of a group.

``MetaWorldEnv(..., physics_impl="warp", physics_graphs=k)``. On the GPU a Warp step is latency-bound per call
(MT10 on the arm steps ten task graphs per substep, MT50 fifty), so the tasks of one skeleton are padded to one
structure as on MJX-JAX and stepped by one ``mjx.step`` over the group's envs. What differs from MJX-JAX's groups:

* **One env axis, not members x envs.** MJX-JAX vmaps the members' stacked models over a vmap over each member's
  envs. MJX's Warp FFI flattens nested vmaps into one world axis and every Warp kernel reads a batched model field
  as ``field[worldid % field.shape[0]]`` (``mujoco/mjx/warp/ffi.py``, ``marshal_custom_vmap``): a ``[T, ...]``
  member stack over ``T x n`` member-major worlds would give world ``j n + i`` member ``(j n + i) % T``, not ``j``.
  So the group's envs are concatenated (``[N = sum n_i]``, no padding to equal counts) and each per-member model leaf
  is gathered to ``[N, ...]`` by the env's member (``WarpGroup.model``), one ``vmap`` over the N envs.
* **Which leaves may differ.** Each member's Warp model is its own ``mjx.put_model(impl="warp")`` (``TaskModel``),
  so the constants Warp precomputes (``geom_rbound``/``geom_aabb`` of its broad phase, ``body_subtreemass``,
  ``*_invweight0``) are the member's own. A leaf that differs between members must be one MJX hands Warp per world
  (``mujoco/mjx/warp/types.py``, ``_BATCH_DIM["Model"]``); else the group is refused with a ``ValueError`` naming
  the field. Leaves Warp does not read (``stat``, ``dof_M0``, ``_sizes``: not in ``_NDIM["Model"]``) take the first
  member's value.
* **One contact pool.** The group's template (``physics_impl.warp_template``) sizes ``naconmax`` for all N envs x the
  padded structure's contact slots (+ the box-box extra); padding pairs have margin ``-PAD_MARGIN``, so Warp never
  makes a contact of them. ``PairTable`` of the padded structure (identical pair geoms in every member) turns the
  pool into per-env slots for the rewards that test contacts.
* **Static geoms** are posed per member at reset from its own padded model (``TaskModel.static_geoms``), then
  carried in ``SimState`` as on per-task Warp.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx
from mujoco.mjx._src.types import tree_path_to_attr_str  # mujoco-mjx is pinned (pyproject.toml)

from envs_bridge import mjx_levels, physics_impl
from envs_bridge.metaworld.shared_physics import GroupModel, SimState

__all__ = ["WarpGroup", "run"]


def _warp_maps():
    from mujoco.mjx.warp import types as mjxw_types

    return mjxw_types._NDIM["Model"], mjxw_types._BATCH_DIM["Model"]  # MJX's own tables of Warp's model fields


class WarpGroup:
    """A ``GroupModel`` of Warp models with its members' env counts: the per-env model of one group call.

    Attributes:
      group: the stacked Warp models of the members.
      counts: envs per member, in the group's member order.
      owner: ``[N]`` int32, the member of each env of the concatenated batch.
      per_env: names of the model fields given per env (differ between members, read by Warp).
      template: one env's Warp data of the padded structure, pools sized for the N envs.
      pairs: the padded structure's ``physics_impl.PairTable`` where ``pairs`` was asked, else None.
    """

    def __init__(self, group: GroupModel, counts: Sequence[int], m: mujoco.MjModel, pairs: bool):
        """``m``: the first member's padded ``MjModel`` (pools and pair geoms are the structure's); ``pairs``: fill
        the states' contact slots from the pool (a member's reward tests contacts)."""
        ndim, batchable = _warp_maps()
        self.group, self.counts = group, tuple(int(n) for n in counts)
        self.template = physics_impl.warp_template(m, mjx.make_data(mjx.put_model(m)), sum(self.counts))
        self.pairs = physics_impl.PairTable.of(m) if pairs else None
        self.owner = np.repeat(np.arange(len(self.counts), dtype=np.int32), self.counts)
        paths = [tree_path_to_attr_str(p) for p, _ in jax.tree_util.tree_leaves_with_path(group.base)]
        self._per_env, names = [], []
        for i in group.varying:
            if paths[i] not in ndim:  # Warp never reads it: the first member's serves
                continue
            if not batchable.get(paths[i], False):
                raise ValueError(f"{' / '.join(group.names)} differ in the model field {paths[i]}, which MuJoCo Warp "
                                 "takes once for all worlds (not in _BATCH_DIM['Model']); they cannot share one Warp "
                                 "call")
            self._per_env.append(i)
            names.append(paths[i])
        self.per_env = tuple(names)

    def model(self, body_pos: jax.Array | None):
        """``(mjx.Model, in_axes)`` for a ``vmap`` over the group's N envs: the per-env leaves gathered ``[N, ...]``
        from the members' stacks (inside the trace: a constant ``[N, ...]`` model would be baked into the program),
        the others the first member's; ``body_pos`` ``[N, nbody, 3]`` per env, or None to keep the members' own."""
        stacked, _ = self.group.per_member()
        leaves, treedef = jax.tree_util.tree_flatten(stacked)
        owner, base, keep = jnp.asarray(self.owner), jax.tree_util.tree_leaves(self.group.base), set(self._per_env)
        leaves = [jnp.take(x, owner, axis=0) if i in keep else base[i] for i, x in enumerate(leaves)]
        mx = jax.tree_util.tree_unflatten(treedef, leaves)
        ax = jax.tree_util.tree_unflatten(treedef, [0 if i in keep else None for i in range(len(leaves))])
        if body_pos is not None:
            mx, ax = mx.replace(body_pos=body_pos), ax.replace(body_pos=0)
        return mx, ax


def run(wg: WarpGroup, fn, states: Sequence[SimState], body_pos: Sequence[jax.Array] | None,
        fence: bool) -> list[SimState]:
    """``fn(model, data)`` of every env of a Warp group in one ``vmap`` (one Warp call per ``fn`` call); the
    arguments as ``shared_physics.run_group``'s (its template and pair table: ``wg``'s). Returns per member the new
    state of its envs."""
    template, pairs = wg.template, wg.pairs
    cat = lambda xs: jax.tree_util.tree_map(lambda *a: jnp.concatenate(a), *xs)
    mx, axes = wg.model(None if body_pos is None else jnp.concatenate(body_pos))

    def one(m, s):
        with mjx_levels.fenced_levels(fence):
            d = fn(m, s.data(template))
        return SimState.of(d), (None if pairs is None else pairs.pool(d))

    out, pool = jax.vmap(one, in_axes=(axes, 0))(mx, cat(states))
    if pairs is not None:
        g1, g2, dist = pairs.per_env(pool)
        out = out.replace(contact_geom1=g1, contact_geom2=g2, contact_dist=dist)
    ends = np.cumsum(wg.counts)
    return [jax.tree_util.tree_map(lambda x, a=a, b=b: x[a:b], out) for a, b in zip(ends - wg.counts, ends)]
