"""Tasks that share one compiled physics step: padded scenes of one skeleton, stepped by one vmapped ``mjx.step``.

An MJX step is traced once per model *structure* (``structure.py``), so an env of fifty tasks with one model each
compiles fifty ``mjx.step`` graphs (the MT50 compile, ``docs/metaworld_mt50.md``, "Speed and compile"). Here tasks
whose scenes have the same *skeleton* (``skeleton_key``: the same jointed or mocap subtrees under the worldbody) are
padded to one structure and share one graph:

- the worldbody's task subtrees are put in one order (sorted by signature) and the static subtrees a member lacks
  are added as parked massless bodies (no degrees of freedom), so all members have one body tree;
- per body, the geoms and sites are sorted by type and padded to the group's largest count of each type (padding
  geoms are massless 1-mm shapes at the body origin; contacts come only from explicit pairs, so they touch nothing);
- the pair list is the union, over the group, of every member's pairs written in those shared geom slots; a member's
  padding pairs have a margin of ``-PAD_MARGIN`` metres, so their contacts are never active (MJX and C MuJoCo
  activate a contact when ``dist - margin < 0``): the collision work is done, the force is always zero.

Everything a member's physics reads stays its own: geom sizes, positions, frictions, masses, joint ranges, pair
parameters are per-task leaves of the stacked model (``GroupModel``). Ids are resolved by name on the padded model,
so the env's readers are unchanged. The padded scene of a task follows the same trajectory as its own scene up to
float rounding (``tests/test_metaworld_shared_physics.py``).
"""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from flax import struct
from mujoco.mjx._src import support  # is_sparse: mujoco-mjx is pinned (pyproject.toml)

from envs_bridge import mjx_levels

__all__ = ["CARRIED", "PAD_MARGIN", "GroupModel", "SimState", "pad_group", "padded_pairs",
           "plan_groups", "run_group", "skeleton_key"]

PAD_MARGIN = 1000.0  # metres; a padding pair's contact would need dist < -1000 to be active

# Static (numpy) fields of ``mjx.Model`` that ``mjx.step`` does not read, or reads only for what our scenes lack
# (names, rendering, sensors): members of a group may differ in them; the group steps with the first member's.
_FREE_STATIC = ("name_", "body_sameframe", "geom_sameframe", "site_sameframe", "body_simple", "dof_simplenum",
                "site_size", "cam_", "light_", "tex_", "mesh_", "key_", "numeric_", "tuple_", "geom_group")
# The sparse mass-matrix layout: read by ``mjx.step`` only when the model is sparse (refused below).
_DENSE_ONLY = ("M_rowadr", "M_rownnz", "M_colind", "dof_Madr")


def padded_pairs(xmls: Mapping[str, str]) -> int:
    """Pair slots of the group's padded structure (every env of the group steps this many contacts)."""
    return len(ET.fromstring(next(iter(pad_group(xmls).values()))).find("contact").findall("pair"))


def plan_groups(xmls: Mapping[str, str], graphs: int) -> list[list[str]]:
    """Groups of tasks that share a physics graph: at most ``graphs`` groups where the skeletons allow.

    Starts from one group per exact structure (``structure.shape_of``: sharing costs nothing) and, while more than
    ``graphs`` groups remain, merges the two groups of one skeleton (``skeleton_key``) whose merge adds the fewest
    pair slots summed over their tasks (each task's envs step the padded pairs). Skeletons never merge, so the
    result has at least as many groups as there are skeletons (11 for the fifty floating-hand scenes). Deterministic.
    """
    from envs_bridge.metaworld import structure  # structure imports scenes lazily; no cycle

    models = {t: mujoco.MjModel.from_xml_string(x) for t, x in xmls.items()}
    parts: dict = {}
    for t, m in models.items():
        parts.setdefault(structure.shape_of(m).key, []).append(t)
    parts = list(parts.values())
    keys = {t: skeleton_key(x) for t, x in xmls.items()}
    cache: dict = {}

    def cost(names: list[str]) -> int:
        key = tuple(sorted(names))
        if key not in cache:
            cache[key] = len(names) * padded_pairs({t: xmls[t] for t in names})
        return cache[key]

    while len(parts) > graphs:
        best = None
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                if keys[parts[i][0]] != keys[parts[j][0]]:
                    continue
                extra = cost(parts[i] + parts[j]) - cost(parts[i]) - cost(parts[j])
                if best is None or extra < best[0]:
                    best = (extra, i, j)
        if best is None:
            break
        _, i, j = best
        parts[i] = parts[i] + parts[j]
        del parts[j]
    return parts


def _signature(b: ET.Element) -> tuple:
    """A body subtree's skeleton: mocap flag, joints (type, limited), the children's signatures in order."""
    joints = tuple(sorted(("free", False) if c.tag == "freejoint" else
                          (c.get("type", "hinge"), c.get("range") is not None and c.get("limited") != "false")
                          for c in b if c.tag in ("joint", "freejoint")))
    return (b.get("mocap") == "true", joints, tuple(_signature(c) for c in b if c.tag == "body"))


def _static(sig: tuple) -> bool:
    """A subtree without joints or mocap bodies: padding may add it (it adds no degree of freedom)."""
    mocap, joints, children = sig
    return not mocap and not joints and all(_static(c) for c in children)


def _task_subtrees(root: ET.Element) -> list[ET.Element]:
    """The worldbody's body children other than the hand's (the mocap target and the subtree holding "hand")."""
    wb = root.find("worldbody")
    return [c for c in wb if c.tag == "body" and c.get("name") != "mocap"
            and not any(b.get("name") == "hand" for b in c.iter("body"))]


def skeleton_key(xml: str) -> tuple:
    """What tasks must share to be padded to one structure: their scenes' non-static task subtrees (sorted);
    static subtrees (fixtures without joints) are padded with parked dummies."""
    return tuple(sorted(sig for sig in map(_signature, _task_subtrees(ET.fromstring(xml))) if not _static(sig)))


def _dummy(sig: tuple, name: str, pos: str = "0 0 -5") -> ET.Element:
    e = ET.Element("body", {"name": name, "pos": pos})
    for i, child in enumerate(sig[2]):
        e.append(_dummy(child, f"{name}_{i}", "0 0 0"))
    return e


def _canonical_world(trees: Mapping[str, ET.Element]) -> None:
    """Puts every member's task subtrees in one order (sorted by signature) and pads the static ones the member
    lacks with parked dummy bodies, so that all members have one body tree. Body order is not physics; names keep
    the ids."""
    sigs = {name: [(_signature(b), b) for b in _task_subtrees(root)] for name, root in trees.items()}
    most: dict = collections.Counter()
    for member in sigs.values():
        for sig, n in collections.Counter(s for s, _ in member).items():
            most[sig] = max(most[sig], n)
    for name, root in trees.items():
        wb = root.find("worldbody")
        for _, b in sigs[name]:
            wb.remove(b)
        pad = 0
        for sig in sorted(most):
            own = [b for s, b in sigs[name] if s == sig]
            if len(own) < most[sig] and not _static(sig):
                raise ValueError(f"{name} lacks a jointed subtree {sig} of its group; only static ones are padded")
            for b in own:
                wb.append(b)
            for _ in range(most[sig] - len(own)):
                wb.append(_dummy(sig, f"_pad_body{pad}"))
                pad += 1


def _bodies(root: ET.Element) -> list[ET.Element]:
    """Body elements in MuJoCo's order (depth-first, document order), the worldbody first."""
    out = []

    def walk(b):
        out.append(b)
        for c in b:
            if c.tag == "body":
                walk(c)

    walk(root.find("worldbody"))
    return out


def _kind(e: ET.Element) -> str:
    kind = e.get("type", "sphere")
    if kind in ("mesh", "hfield", "sdf"):
        raise ValueError(f"shared physics pads primitive geoms only; {e.get('name')!r} is a {kind}")
    return kind


def _reorder(body: ET.Element, tag: str, slots: list[tuple[str, int]], prefix: str, b: int,
             uses: Mapping[str, int]) -> dict:
    """Rewrites ``body``'s ``tag`` children in slot order (type, index), padding missing slots; returns
    ``{element name: slot}``. Within a type the elements in most pairs (``uses``, by name) take the first slots,
    so that the busy geoms of different members share slots and their pairs coincide."""
    own = [c for c in body if c.tag == tag]
    by_kind: dict = collections.defaultdict(list)
    for c in sorted(own, key=lambda c: -uses.get(c.get("name"), 0)):  # stable: document order among equals
        by_kind[_kind(c)].append(c)
    first = list(body).index(own[0]) if own else len(body)
    for c in own:
        body.remove(c)
    names = {}
    ordered = []
    for kind, i in slots:
        have = by_kind[kind]
        if i < len(have):
            e = have[i]
            if e.get("name") is None:
                e.set("name", f"{prefix}{b}_{kind}_{i}")
        else:
            e = ET.Element(tag, {"name": f"{prefix}{b}_{kind}_{i}", "type": kind, "size": "0.001 0.001 0.001"})
            if tag == "geom":
                e.set("mass", "0")
        names[e.get("name")] = (b, kind, i)
        ordered.append(e)
    for j, e in enumerate(ordered):
        body.insert(first + j, e)
    return names


def _slots(trees: Sequence[ET.Element], tag: str) -> list[list[tuple[str, int]]]:
    """Per body, the group's (type, index) slots of ``tag``: each type as often as its most-counting member."""
    per_body = []
    for bodies in zip(*(_bodies(t) for t in trees)):
        most: dict = collections.Counter()
        for body in bodies:
            count = collections.Counter(_kind(c) for c in body if c.tag == tag)
            for kind, n in count.items():
                most[kind] = max(most[kind], n)
        per_body.append([(kind, i) for kind in sorted(most) for i in range(most[kind])])
    return per_body


def pad_group(xmls: Mapping[str, str]) -> dict[str, str]:
    """Pads the scenes of one skeleton group to one structure; returns ``{task: padded MJCF}``."""
    trees = {name: ET.fromstring(x) for name, x in xmls.items()}
    _canonical_world(trees)
    geom_slots, site_slots = _slots(list(trees.values()), "geom"), _slots(list(trees.values()), "site")
    slot_names, pairs = {}, {}
    for name, root in trees.items():
        contact = root.find("contact")
        uses = collections.Counter(p.get(g) for p in ([] if contact is None else contact) if p.tag == "pair"
                                   for g in ("geom1", "geom2"))
        names = {}
        for b, body in enumerate(_bodies(root)):
            names.update(_reorder(body, "geom", geom_slots[b], "_pad_geom", b, uses))
            _reorder(body, "site", site_slots[b], "_pad_site", b, {})
        slot_names[name] = {slot: n for n, slot in names.items()}
        contact = root.find("contact")
        own = [] if contact is None else [p for p in contact if p.tag == "pair"]
        pairs[name] = {(names[p.get("geom1")], names[p.get("geom2")], p.get("condim", "3")): p for p in own}
    union = sorted({key for member in pairs.values() for key in member})
    out = {}
    for name, root in trees.items():
        contact = root.find("contact")
        if contact is None:
            contact = ET.SubElement(root, "contact")
        for p in [p for p in contact if p.tag == "pair"]:
            contact.remove(p)
        for key in union:
            p = pairs[name].get(key)
            if p is None:
                g1, g2, condim = key
                p = ET.Element("pair", {"geom1": slot_names[name][g1], "geom2": slot_names[name][g2],
                                        "condim": condim, "margin": f"{-PAD_MARGIN:g}"})
            contact.append(p)
        out[name] = ET.tostring(root, encoding="unicode")
    return out


def _static_fields(mx) -> dict[str, np.ndarray]:
    return {f: v for f in mx.__dataclass_fields__ if isinstance(v := getattr(mx, f), np.ndarray)}


class GroupModel:
    """The stacked MJX models of one group: shared leaves once, per-task leaves ``[T, ...]``.

    Attributes:
      names: the member tasks, in stacking order.
      base: the first member's ``mjx.Model`` (its static fields serve the whole group).
      varying: indices (into the flattened model leaves) of the leaves that differ between members.
    """

    def __init__(self, names: Sequence[str], models: Sequence):
        self.names = tuple(names)
        self.base = models[0]
        if any(support.is_sparse(mx) for mx in models):
            raise ValueError(f"shared physics needs dense mass matrices; {names} has a sparse one")
        ref = _static_fields(self.base)
        for name, mx in zip(names[1:], models[1:]):
            for f, v in _static_fields(mx).items():
                if not f.startswith(_FREE_STATIC + _DENSE_ONLY) and not np.array_equal(v, ref[f]):
                    raise ValueError(f"{name} and {names[0]} differ in the static field {f}; they cannot share "
                                     "one physics graph")
        leaves = [jax.tree_util.tree_leaves(mx) for mx in models]
        self._treedef = jax.tree_util.tree_structure(self.base)
        self.varying = tuple(i for i, x in enumerate(leaves[0])
                             if any(not np.array_equal(np.asarray(x), np.asarray(o[i])) for o in leaves[1:]))
        self._stacked = {i: jnp.stack([jnp.asarray(o[i]) for o in leaves]) for i in self.varying}
        self._shared = leaves[0]

    def per_member(self):
        """``(model, in_axes)`` for a ``jax.vmap`` over the members: the varying leaves stacked ``[T, ...]``, the
        shared ones unbatched."""
        leaves = [self._stacked.get(i, x) for i, x in enumerate(self._shared)]
        axes = [0 if i in self._stacked else None for i in range(len(self._shared))]
        return (jax.tree_util.tree_unflatten(self._treedef, leaves),
                jax.tree_util.tree_unflatten(self._treedef, axes))

    def unbatched_axes(self):
        """``in_axes`` with every model leaf unbatched (the structure of ``per_member``'s)."""
        return jax.tree_util.tree_unflatten(self._treedef, [None] * len(self._shared))


@struct.dataclass
class SimState:
    """The carried fields of a (batched) ``mjx.Data`` (``CARRIED``: every field below but the contact ones and the two
    velocity-stage fields), read like the ``mjx.Data`` they came from, plus ``contact_geom1/2`` and ``contact_dist``
    of its contact slots (read by ``scene_defs.touching``), plus ``cvel`` and ``cdof_dot`` on MuJoCo Warp (empty,
    ``[..., 0]``, on MJX-JAX): Warp builds its constraint rows before its velocity stage, so the weld's ``Jdot v``
    term reads the previous step's body velocities; carried, each substep sees its predecessor's, as in a continuous
    Warp simulation (rebuilt from the template they would be zero at every control step's first substep)."""

    time: jax.Array
    qpos: jax.Array
    qvel: jax.Array
    act: jax.Array
    qacc_warmstart: jax.Array
    ctrl: jax.Array
    mocap_pos: jax.Array
    mocap_quat: jax.Array
    xpos: jax.Array
    xquat: jax.Array
    xmat: jax.Array
    geom_xpos: jax.Array
    geom_xmat: jax.Array
    site_xpos: jax.Array
    site_xmat: jax.Array
    contact_geom1: jax.Array
    contact_geom2: jax.Array
    contact_dist: jax.Array
    cvel: jax.Array
    cdof_dot: jax.Array

    @classmethod
    def of(cls, d) -> SimState:
        """The carried fields of ``d`` (an ``mjx.Data``), with its contact slots' geoms and distances."""
        c = getattr(d._impl, "contact", None)  # None on MuJoCo Warp: pooled contacts, no per-env slots
        empty = lambda dtype: jnp.zeros((*d.qpos.shape[:-1], 0), dtype)
        if c is None:
            extra = {"contact_geom1": empty(jnp.int32), "contact_geom2": empty(jnp.int32),
                     "contact_dist": empty(jnp.float32), "cvel": d.cvel, "cdof_dot": d.cdof_dot}
        else:
            extra = {"contact_geom1": c.geom1, "contact_geom2": c.geom2, "contact_dist": c.dist,
                     "cvel": empty(jnp.float32), "cdof_dot": empty(jnp.float32)}
        return cls(**{f: getattr(d, f) for f in CARRIED}, **extra)

    def data(self, template):
        """A full ``mjx.Data``: ``template`` (``mjx.make_data`` of the env's model) with the carried fields set."""
        vel = {f: getattr(self, f) for f in WARP_CARRIED if getattr(self, f).size}
        return template.replace(**{f: getattr(self, f) for f in CARRIED}, **vel)


# The ``mjx.Data`` fields an env carries from one control step to the next: the integrated state and controls (what
# ``mjx.step`` does not recompute) and the poses the observation and reward read. Every other field (contacts,
# constraint rows, mass matrix, forces) is recomputed by the next ``mjx.step`` from these and is not carried, so a
# training loop's carry holds 18 arrays per task instead of 84 (with the contact slots' geoms and distances, which
# some rewards read: ``scene_defs.touching``; on MuJoCo Warp two more, ``WARP_CARRIED``, see ``SimState``).
WARP_CARRIED = ("cvel", "cdof_dot")
CARRIED = tuple(f for f in SimState.__dataclass_fields__ if not f.startswith("contact_") and f not in WARP_CARRIED)


def run_group(group: GroupModel, fn, states: Sequence[SimState], body_pos: Sequence[jax.Array] | None, fence: bool,
              template, pairs=None) -> list[SimState]:
    """``fn(model, data)`` (``mjx.step`` substeps, ``mjx.kinematics``) of every env of a group: a ``vmap`` over the
    members (their stacked model leaves) of a ``vmap`` over each member's envs (its model shared by them).

    Args:
      group: the group's stacked models.
      fn: ``(mjx.Model, mjx.Data) -> mjx.Data`` of one env.
      states: per member, the carried state of its envs, ``[n_i, ...]``.
      body_pos: per member, ``[n_i, nbody, 3]`` per-env body positions (placed fixtures), or None to keep the
        members' own.
      fence: put ``mjx_levels``' barriers between body-tree levels (the arm hand).
      template: one env's ``mjx.Data`` of the group's structure (``mjx.make_data``), filled in with the states.
      pairs: MuJoCo Warp only (one task per group): a ``physics_impl.PairTable`` that fills the states' contact
        fields from the batch's contact pool; ``None`` leaves them empty there.

    Returns:
      Per member, the new state of its envs. Members with fewer envs than the largest are padded with copies of
      their own envs for the call (MT50's 24,576 envs: 491 or 492 per task, one copy).
    """
    inner_axes = group.unbatched_axes()
    if body_pos is not None:
        inner_axes = inner_axes.replace(body_pos=0)

    def one(m, s):
        with mjx_levels.fenced_levels(fence):
            d = fn(m, s.data(template))
        return SimState.of(d) if pairs is None else (SimState.of(d), pairs.pool(d))

    inner = jax.vmap(one, in_axes=(inner_axes, 0))
    if len(states) == 1:  # one task: its own model, no stacking
        mx = group.base if body_pos is None else group.base.replace(body_pos=body_pos[0])
        if pairs is None:
            return [inner(mx, states[0])]
        s, pool = inner(mx, states[0])
        g1, g2, dist = pairs.per_env(pool)
        return [s.replace(contact_geom1=g1, contact_geom2=g2, contact_dist=dist)]
    counts = [int(jax.tree_util.tree_leaves(s)[0].shape[0]) for s in states]
    most = max(counts)

    def stack(xs):
        fill = lambda x, n: x if n == most else x[np.arange(most) % n]
        return jax.tree_util.tree_map(lambda *a: jnp.stack([fill(x, n) for x, n in zip(a, counts)]), *xs)

    mx, axes = group.per_member()
    if body_pos is not None:
        mx, axes = mx.replace(body_pos=stack(body_pos)), axes.replace(body_pos=0)
    out = jax.vmap(inner, in_axes=(axes, 0))(mx, stack(states))
    return [jax.tree_util.tree_map(lambda x, j=j, n=n: x[j, :n], out) for j, n in enumerate(counts)]
