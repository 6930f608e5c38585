"""Which MuJoCo implementation steps the Meta-World scenes: MJX's JAX one or MuJoCo Warp.

``MetaWorldEnv(..., physics_impl=...)``:

* ``"jax"`` (default): MJX-JAX, every platform (the CPU test suite, CI). Contacts live in fixed per-env slots (one
  per possible contact of every pair), and every slot's constraint rows are solved whether the contact is active or
  not; on the GPU the arm's step cost follows those slots (``docs/metaworld_mjx.md``, "The options, speed x parity").
* ``"warp"``: MJX's MuJoCo Warp backend (``mjx.put_model(..., impl="warp")``; needs ``warp-lang``, NVIDIA GPUs for
  speed, runs slowly on the CPU too). Contacts are generated per step into one pool shared by the batch and only the
  active ones become constraint rows. Same model, same scenes, same solver settings; a different implementation,
  so trajectories agree with MJX-JAX's to float rounding amplified by contacts (``tests/test_metaworld_warp.py``).

The Warp pools are sized from MJX-JAX's static sizes of the same model: ``naconmax`` = the task's envs x its
contact slots (every slot of every env active at once: never exceeded) and ``njmax`` = MJX-JAX's constraint rows per
env. Limits of the Warp path (each refused with an error rather than run wrong): the MT50 scenes outside MT10
(their rewards read contact slots, ``scene_defs.touching``, which the pooled contacts do not give per env) and shared
physics graphs (``physics_graphs``: stacked models of several tasks).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

__all__ = ["IMPLS", "StaticGeoms", "check", "place_static_geoms", "static_geoms", "warp_installed",
           "warp_model"]

IMPLS = ("jax", "warp")
WARP_VERSION = "1.18.0"  # what mujoco-mjx 3.17.0's "warp" extra pins


def warp_installed() -> bool:
    """Whether ``warp-lang`` imports (MJX's own check)."""
    try:
        from mujoco.mjx import warp as mjx_warp
    except ImportError:
        return False
    return bool(mjx_warp.WARP_INSTALLED)


def check(impl: str, scene_tasks: list[str], physics_graphs: int | None) -> None:
    """Raises ``ValueError`` / ``ImportError`` for an implementation that cannot run this env."""
    if impl not in IMPLS:
        raise ValueError(f"unknown physics_impl {impl!r}; valid: {', '.join(IMPLS)}")
    if impl == "jax":
        return
    if scene_tasks:
        raise ValueError(f"physics_impl='warp' runs the MT10 tasks only; {', '.join(scene_tasks)} read per-env "
                         "contact slots in their rewards (scene_defs.touching); use physics_impl='jax'")
    if physics_graphs is not None:
        raise ValueError("physics_impl='warp' steps one graph per task; leave physics_graphs=None "
                         "(--config.env.kwargs.physics_graphs=0)")
    if not warp_installed():
        raise ImportError(f"physics_impl='warp' needs warp-lang: pip install warp-lang=={WARP_VERSION} "
                          "(or mujoco-mjx[warp])")


def warp_model(m: mujoco.MjModel, jax_template, batch: int):
    """``(mjx.Model, mjx.Data template)`` of ``m`` on MuJoCo Warp, pools sized for ``batch`` envs from MJX-JAX's
    ``jax_template`` (``mjx.make_data`` of the same model)."""
    slots = int(jax_template._impl.contact.dist.shape[0])
    rows = int(jax_template._impl.efc_J.shape[0])
    import warp

    # No line per compiled or loaded kernel module (hundreds on a first run); warnings and errors still print.
    warp.config.quiet = True
    warp.config.log_level = max(warp.config.log_level, warp.LOG_WARNING)
    mx = mjx.put_model(m, impl="warp")
    # Warp prints a line per call whose solver or line search stops at its iteration limit; ours stop there by
    # design (Newton 4 + 4, as MJX-JAX, which never says so). Pool overflows (contacts, constraint rows) still warn.
    from mujoco.mjx.third_party.mujoco_warp._src.types import OverflowType

    quiet = int(mx.opt._impl.warn_overflow) & ~int(OverflowType.ITERATIONS | OverflowType.LS_ITERATIONS)
    mx = mx.replace(opt=mx.opt.replace(_impl=mx.opt._impl.replace(warn_overflow=quiet)))
    template = mjx.make_data(m, impl="warp", naconmax=max(1, batch) * max(1, slots), njmax=max(1, rows))
    return mx, template


class StaticGeoms(NamedTuple):
    """The geoms MuJoCo Warp treats as static (on bodies welded to the world, not under a mocap body): ids, their
    bodies, and their poses in those bodies' frames."""

    ids: np.ndarray
    body: np.ndarray
    pos: np.ndarray
    mat: np.ndarray


def static_geoms(m: mujoco.MjModel) -> StaticGeoms:
    """Warp's rule (its ``_geom_local_to_global``): a geom of a body with ``body_weldid == 0`` whose root body is not
    a mocap body is posed once, when the data is made, and never again. Our fixtures (door safe, drawer case, peg
    block, window frame, button box) are such bodies, placed per episode through ``body_pos``."""
    body = m.geom_bodyid
    ids = np.flatnonzero((m.body_weldid[body] == 0) & (m.body_mocapid[m.body_rootid[body]] == -1))
    mats = np.zeros((len(ids), 9))
    for i, g in enumerate(ids):
        mujoco.mju_quat2Mat(mats[i], m.geom_quat[g])
    return StaticGeoms(ids, body[ids], m.geom_pos[ids].astype(np.float32), mats.reshape(-1, 3, 3).astype(np.float32))


def place_static_geoms(sg: StaticGeoms, d):
    """``d`` (one env's data or ``SimState``, its bodies posed) with Warp's static geoms posed from their bodies'
    current poses: without this, a fixture placed by ``body_pos`` keeps the template's collision geometry (found by
    stepping C MuJoCo and Warp from the same window-close state: the window frame stayed 49 mm away)."""
    if not len(sg.ids):
        return d
    xmat = d.xmat[sg.body]
    pos = d.xpos[sg.body] + jnp.einsum("gij,gj->gi", xmat, sg.pos)
    mat = jnp.einsum("gij,gjk->gik", xmat, sg.mat)
    return d.replace(geom_xpos=d.geom_xpos.at[sg.ids].set(pos.astype(d.geom_xpos.dtype)),
                     geom_xmat=d.geom_xmat.at[sg.ids].set(mat.astype(d.geom_xmat.dtype)))

