"""The Go1 parkour scene stepped by MuJoCo Warp through MJX (``ParkourEnv(..., physics_impl="warp")``,
``docs/parkour.md``, "MuJoCo Warp").

The env's per-env model (``ParkourEnv._model``: terrain slots moved into place, domain randomisation) is a
``vmap`` of ``mjx.Model.replace`` calls, and MJX hands a batched model field to Warp as a per-world array:
MJX's Warp types (``mujoco/mjx/warp/types.py``, ``_BATCH_DIM["Model"]``) mark
``geom_pos/size/quat/friction/rbound/aabb``, ``body_mass/ipos/subtreemass`` batchable,
``ffi.marshal_custom_vmap`` passes them with a leading world axis, and every Warp kernel reads
``field[worldid % field.shape[0]]``. Three things MJX-JAX computes from those fields on every step are
precomputed model constants on Warp, so the env sets them per env too (``warp_fields``):

* **Static geoms.** The terrain slots and the ground hang on the world body; Warp poses such geoms once, in
  ``make_data``, and never again (``_geom_local_to_global`` in ``mujoco_warp/_src/smooth.py``).
  ``pose_world_geoms`` writes each env's slot poses into its data before the substeps (the world body sits at
  the origin, so a world geom's pose is its ``geom_pos``/``geom_quat``).
* **Broad phase bounds.** Warp culls pairs by ``geom_rbound`` (bounding sphere) and ``geom_aabb`` (local box,
  used by the oriented-box test) before the narrow phase (``_broadphase_filter`` in ``collision_driver.py``);
  MJX-JAX has no broad phase. A slot's bounds follow its per-env size (box: ``|size|`` and ``size``; sphere:
  ``r``).
* **Subtree mass.** Warp divides the subtree centre of mass by ``body_subtreemass`` (``_subtree_div``,
  ``smooth.py``) where MJX-JAX sums ``body_mass``: the added trunk mass is added to the trunk's and its
  ancestors' subtree masses (the dynamics do not depend on that reference point, but ``subtree_com`` is then
  right).

Contacts live in one pool shared by the batch (``d._impl.contact__*``, ``nacon`` entries used, each with its
world ``contact__worldid`` and its constraint rows ``contact__efc_address``); ``group_forces`` sums them per
env and body group, the pooled form of MJX-JAX's per-env slots (``ParkourEnv._group_forces``). The pools are
sized as the Meta-World option's (``envs_bridge/physics_impl.py``, ``warp_model``): every MJX-JAX
contact slot of every env at once, so they never overflow. Between control steps the env carries ``Carry``
(what Warp reads of the previous step), not a whole Warp ``mjx.Data``: outside the ``vmap`` that data's pool
would be broadcast to every env.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from flax import struct
from mujoco.mjx._src import math as mjx_math

__all__ = ["Carry", "ancestors", "group_forces", "pose_world_geoms", "warp_fields"]


@struct.dataclass
class Carry:
    """The fields of a Warp ``mjx.Data`` carried between control steps (leaves ``[N, ...]`` when batched): the
    integrated state and the solver's warm start. Everything else a step reads is recomputed by ``mjx.step``
    from these, posed by ``pose_world_geoms``, or constant in the template (no mocap, no applied forces).
    Warp's one other read of the previous step, the body velocities in the equality rows' ``Jdot v``
    (``constraint.py``), has no use here: the scene has no equality constraints."""

    time: jax.Array
    qpos: jax.Array
    qvel: jax.Array
    act: jax.Array
    qacc_warmstart: jax.Array

    @classmethod
    def of(cls, d) -> Carry:
        return cls(**{f: getattr(d, f) for f in cls.__dataclass_fields__})

    def data(self, template):
        """``template`` (one env's Warp ``mjx.make_data``) with the carried fields set."""
        return template.replace(**{f: getattr(self, f) for f in self.__dataclass_fields__})


def ancestors(m: mujoco.MjModel, body: int) -> np.ndarray:
    """``body`` and the bodies above it, up to the world body: the subtree masses its mass is part of."""
    out = [body]
    while out[-1] != 0:
        out.append(int(m.body_parentid[out[-1]]))
    return np.asarray(out, np.int32)


def warp_fields(m, boxes: slice, spheres: slice, mass_bodies: np.ndarray, added_mass: jax.Array) -> dict:
    """The model fields Warp precomputes from the per-env ones (module docstring) for one env's model ``m``
    whose box slots are ``boxes`` and sphere slots ``spheres`` (geom index ranges): ``geom_rbound``,
    ``geom_aabb`` (``[ngeom, 2, 3]``: local centre, half sizes) and ``body_subtreemass`` with ``added_mass``
    on ``mass_bodies``."""
    box, r = m.geom_size[boxes], m.geom_size[spheres, 0]
    rbound = m.geom_rbound.at[boxes].set(jnp.linalg.norm(box, axis=-1)).at[spheres].set(r)
    half = m.geom_aabb[:, 1].at[boxes].set(box).at[spheres].set(jnp.broadcast_to(r[:, None], (r.shape[0], 3)))
    aabb = m.geom_aabb.at[:, 1].set(half).at[boxes, 0].set(0.0).at[spheres, 0].set(0.0)
    return {"geom_rbound": rbound, "geom_aabb": aabb,
            "body_subtreemass": m.body_subtreemass.at[mass_bodies].add(added_mass)}


def pose_world_geoms(m, d, geoms: slice):
    """``d`` (one env's Warp data) with the world-body geoms ``geoms`` posed from ``m`` (its own model)."""
    mat = jax.vmap(mjx_math.quat_to_mat)(m.geom_quat[geoms])
    return d.replace(geom_xpos=d.geom_xpos.at[geoms].set(m.geom_pos[geoms].astype(d.geom_xpos.dtype)),
                     geom_xmat=d.geom_xmat.at[geoms].set(mat.astype(d.geom_xmat.dtype)))


def group_forces(pool: tuple, efc_force: jax.Array, groups: jax.Array, num_groups: int = 12) -> jax.Array:
    """``[n, num_groups]`` summed normal force per env and geom group from the batch's contact pool.

    Args:
      pool: ``(geom [P, 2], worldid [P], efc_address [P, E], nacon [1])`` of the pool (one copy, not per
        env).
      efc_force: ``[n, njmax]`` every env's constraint forces.
      groups: ``[ngeom]`` group of each geom (-1: none); a contact counts for the larger of its two geoms'
        groups.

    A pooled contact's rows are ``efc_address`` (-1: unused column); with the pyramidal cone and condim 3 its
    4 edge forces sum to the normal force, as in MJX-JAX's slots. Unused pool entries (index >= ``nacon``) and
    contacts of no group are dropped.
    """
    geom, world, address, nacon = pool
    n = efc_force.shape[0]
    used = jnp.arange(world.shape[0]) < nacon[0]
    w = jnp.clip(world, 0, n - 1)
    rows = efc_force[w[:, None], jnp.maximum(address, 0)]
    fn = jnp.where(address >= 0, rows, 0.0).sum(-1)
    g = jnp.maximum(groups[geom[:, 0]], groups[geom[:, 1]])
    slot = jnp.where(used & (g >= 0), w * num_groups + g, n * num_groups)  # out of range: dropped
    return jnp.zeros(n * num_groups, efc_force.dtype).at[slot].add(fn, mode="drop").reshape(n, num_groups)
