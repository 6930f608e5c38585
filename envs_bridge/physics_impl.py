"""Which MuJoCo implementation steps an MJX env: MJX's JAX one or MuJoCo Warp (shared by every env family).

``MetaWorldEnv(..., physics_impl=...)`` and ``ParkourEnv(..., physics_impl=...)``:

* ``"jax"`` (default): MJX-JAX, every platform (the CPU test suite, CI). Contacts live in fixed per-env slots (one
  per possible contact of every pair), and every slot's constraint rows are solved whether the contact is active or
  not; on the GPU the arm's step cost follows those slots (``docs/metaworld_mjx.md``, "The options, speed x parity").
* ``"warp"``: MJX's MuJoCo Warp backend (``mjx.put_model(..., impl="warp")``; needs ``warp-lang``, NVIDIA GPUs for
  speed, runs slowly on the CPU too). Contacts are generated per step into one pool shared by the batch and only the
  active ones become constraint rows. Same model, same scenes, same solver settings; a different implementation,
  so trajectories agree with MJX-JAX's to float rounding amplified by contacts (``tests/test_metaworld_warp.py``,
  ``tests/test_parkour_warp.py``).

What lives here is generic MJX/Warp plumbing; each env family adds its own (Meta-World: ``metaworld/task_model.py``,
``metaworld/warp_groups.py``; parkour: ``parkour/warp_physics.py``). The Warp pools are sized from MJX-JAX's static
sizes of the same model plus what C MuJoCo's box-box test adds (``box_box_as_c``: 8 contacts per box pair, MJX-JAX
4): ``naconmax`` = the envs x those contact slots (every slot of every env active at once: never exceeded) and
``njmax`` = those constraint rows per env. Rewards that test contacts (Meta-World's ``scene_defs.touching``: the
pads on an MT50 task's object) read MJX-JAX's per-env contact slots; on Warp ``PairTable`` turns the batch's pool
into the same per-env view (one slot per contact pair, its smallest distance). ``static_geoms`` /
``place_static_geoms`` re-pose the geoms Warp treats as static when a fixture's body is moved per episode.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

__all__ = ["GRAPH_MODES", "IMPLS", "NO_CONTACT", "PairTable", "StaticGeoms", "box_box_as_c", "check",
           "place_static_geoms", "static_geoms", "warp_installed", "warp_model", "warp_template"]

IMPLS = ("jax", "warp")
WARP_VERSION = "1.18.0"  # what mujoco-mjx 3.17.0's "warp" extra pins


def warp_installed() -> bool:
    """Whether ``warp-lang`` imports (MJX's own check)."""
    try:
        from mujoco.mjx import warp as mjx_warp
    except ImportError:
        return False
    return bool(mjx_warp.WARP_INSTALLED)


# MuJoCo Warp's CUDA-graph capture per Warp call (``mjx.put_model(..., graph_mode=...)``): "default" is MJX's choice
# (Warp captures and replays a graph per call on the GPU, "warp"; JAX's on the CPU, where "warp" is refused).
GRAPH_MODES = ("default", "warp", "jax", "none")


def check(impl: str, graph_mode: str = "default") -> None:
    """Raises ``ValueError`` / ``ImportError`` for an implementation that cannot run this env (any ``physics_graphs``
    runs on Warp too; a group whose members differ in a field Warp cannot batch is refused by ``warp_groups``)."""
    if impl not in IMPLS:
        raise ValueError(f"unknown physics_impl {impl!r}; valid: {', '.join(IMPLS)}")
    if graph_mode not in GRAPH_MODES or (graph_mode != "default" and impl != "warp"):
        raise ValueError(f"warp_graph_mode {graph_mode!r}: valid: {', '.join(GRAPH_MODES)} (other than 'default' "
                         "with physics_impl='warp' only)")
    if impl == "jax":
        return
    if not warp_installed():
        raise ImportError(f"physics_impl='warp' needs warp-lang: pip install warp-lang=={WARP_VERSION} "
                          "(or mujoco-mjx[warp])")


def warp_model(m: mujoco.MjModel, jax_template, batch: int, graph_mode: str = "default"):
    """``(mjx.Model, mjx.Data template)`` of ``m`` on MuJoCo Warp, pools sized for ``batch`` envs from MJX-JAX's
    ``jax_template`` (``mjx.make_data`` of the same model); ``graph_mode`` one of ``GRAPH_MODES``."""
    import warp

    from envs_bridge import warp_streams

    warp_streams.install()  # one registration per external CUDA stream (suspected in MT50's first GPU failure)
    # No line per compiled or loaded kernel module (hundreds on a first run); warnings and errors still print.
    warp.config.quiet = True
    warp.config.log_level = max(warp.config.log_level, warp.LOG_WARNING)
    m = box_box_as_c(m)
    mx = mjx.put_model(m, impl="warp", graph_mode=_graph_mode(graph_mode))
    # Warp prints a line per call whose solver or line search stops at its iteration limit; ours stop there by
    # design (Newton 4 + 4, as MJX-JAX, which never says so). Pool overflows (contacts, constraint rows) still warn.
    from mujoco.mjx.third_party.mujoco_warp._src.types import OverflowType

    quiet = int(mx.opt._impl.warn_overflow) & ~int(OverflowType.ITERATIONS | OverflowType.LS_ITERATIONS)
    mx = mx.replace(opt=mx.opt.replace(_impl=mx.opt._impl.replace(warn_overflow=quiet)))
    return mx, warp_template(m, jax_template, batch)


def warp_template(m: mujoco.MjModel, jax_template, batch: int):
    """One env's Warp ``mjx.make_data`` of ``m`` whose pools hold ``batch`` envs: ``naconmax`` = ``batch`` x (MJX-JAX's
    contact slots of ``jax_template`` + the box-box extra), ``njmax`` = MJX-JAX's rows + the extra (module docstring).
    A shared group's template (``warp_groups``) sizes them for all its envs."""
    box_contacts, box_rows = _box_box_extra(m)
    slots = int(jax_template._impl.contact.dist.shape[0]) + box_contacts
    rows = int(jax_template._impl.efc_J.shape[0]) + box_rows
    return mjx.make_data(box_box_as_c(m), impl="warp", naconmax=max(1, batch) * max(1, slots), njmax=max(1, rows))


def box_box_as_c(m: mujoco.MjModel) -> mujoco.MjModel:
    """A copy of ``m`` whose box-box pairs MuJoCo Warp collides as C MuJoCo and MJX-JAX do.

    C MuJoCo's box-box test (``mjc_BoxBox``: separating axes, then the incident face clipped against the reference
    face, up to 8 contacts) is ported to Warp as ``box_box``, but Warp only takes it when ``mjDSBL_NATIVECCD`` is set
    (its ``_narrowphase``; the flag has no other use in Warp). By default Warp collides box pairs with GJK/EPA and
    ``multicontact``, which treats two nearly parallel faces as an edge on a face: door-open's leaf end face on the
    safe's side wall (tilted 0.03 rad to it, 0.71 and 0.13 mm deep at its two edges) got 2 contacts where C MuJoCo
    and MJX-JAX have 4, about half the stop's force, and the door hinge's velocity after one substep was 1.152 rad/s
    against C's 0.895 (with the flag: 0.895). C MuJoCo ignores the flag for box pairs (it only picks libccd over
    its native convex solver for the other convex pairs), so the copy is for Warp only. A model that already has the
    flag is returned as it is."""
    if m.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_NATIVECCD:
        return m
    m = copy.deepcopy(m)
    m.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_NATIVECCD
    return m


def _box_box_extra(m: mujoco.MjModel) -> tuple[int, int]:
    """Contacts and constraint rows per env beyond MJX-JAX's static sizes: C's box-box test (``box_box_as_c``) gives
    up to 8 contacts per box pair where MJX-JAX has 4 slots (pools sized by MJX-JAX's alone overflowed once in the
    ten-task parity run, on a 16-slot task: drawer-close or button-press-topdown)."""
    box = mujoco.mjtGeom.mjGEOM_BOX
    dims = [int(m.pair_dim[i]) for i in range(m.npair)
            if m.geom_type[m.pair_geom1[i]] == box and m.geom_type[m.pair_geom2[i]] == box]
    return 4 * len(dims), 4 * sum(max(dim, 2 * (dim - 1)) for dim in dims)


def _graph_mode(name: str):
    if name == "default":
        return None
    from mujoco.mjx.warp import types as mjxw_types

    return getattr(mjxw_types.GraphMode, name.upper())


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



NO_CONTACT = 1.0e6  # the distance of a pair with no contact in the pool (MJX-JAX's inactive slots are also > 0)


class PairTable(NamedTuple):
    """MuJoCo Warp's pooled contacts as per-env contact slots, one per contact pair of the model (every contact of our
    scenes comes from an explicit pair): ``contact_geom1/2`` the pair's geoms, ``contact_dist`` the smallest distance
    among the pair's contacts in that env (``NO_CONTACT`` where it has none). What ``scene_defs.touching`` reads
    (``dist < 0`` between two geoms) is then the same as on MJX-JAX's slots."""

    geom1: np.ndarray  # [npair] int32
    geom2: np.ndarray
    lookup: np.ndarray  # [ngeom, ngeom] -> pair index, npair where the geoms form no pair

    @classmethod
    def of(cls, m: mujoco.MjModel) -> PairTable:
        g1, g2 = m.pair_geom1.astype(np.int32), m.pair_geom2.astype(np.int32)
        lookup = np.full((m.ngeom, m.ngeom), m.npair, np.int32)
        lookup[g1, g2] = lookup[g2, g1] = np.arange(m.npair, dtype=np.int32)
        return cls(g1, g2, lookup)

    @staticmethod
    def pool(d) -> tuple:
        """The pool fields of one (vmapped) Warp ``mjx.Data``: geoms, distance, world of each entry, entries used."""
        i = d._impl
        return i.contact__geom, i.contact__dist, i.contact__worldid, i.nacon

    def per_env(self, pool: tuple) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(geom1, geom2, dist)``, each ``[n, npair]``, from ``pool`` as a ``vmap`` over n envs returns it (the one
        pool broadcast to every env: row 0 is all of it)."""
        geom, dist, world, nacon = (x[0] for x in pool)
        n, npair = pool[1].shape[0], len(self.geom1)
        pair = jnp.asarray(self.lookup)[geom[:, 0], geom[:, 1]]
        used = (jnp.arange(dist.shape[0]) < nacon[0]) & (pair < npair)
        slot = jnp.where(used, world * npair + pair, n * npair)  # unused entries land out of range: dropped
        best = jnp.full((n * npair,), NO_CONTACT, jnp.float32).at[slot].min(dist.astype(jnp.float32), mode="drop")
        tile = lambda g: jnp.broadcast_to(jnp.asarray(g), (n, npair))
        return tile(self.geom1), tile(self.geom2), best.reshape(n, npair)
