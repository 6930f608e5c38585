"""What a task's compiled physics graph depends on: the exact structure key of a model, and the CLI that prints the
MT50 compile trade-off of ``shared_physics.plan_groups``.

An MJX step is traced once per model *structure*: the body tree, joint types, geom types and the explicit contact
pairs. Tasks of one structure share a graph for free; tasks of one skeleton share one after padding
(``shared_physics``), and every env of a group then steps the group's padded pairs.
``python -m envs_bridge.metaworld.structure`` prints graphs against padded pair slots per env for the fifty tasks
(``docs/metaworld_mt50.md``, "Speed and compile").
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Sequence

import mujoco

__all__ = ["Shape", "shape_of"]

_JOINT_NAMES = {0: "free", 1: "ball", 2: "slide", 3: "hinge"}


class Shape(collections.namedtuple("Shape", "pairs joints key")):
    """``pairs``: {(geom type, geom type): count}; ``joints``: {joint type name: count}; ``key``: the exact
    structure (two tasks with equal keys trace the same ``mjx.step``)."""


def shape_of(m: mujoco.MjModel) -> Shape:
    """The structure of one compiled MuJoCo model."""
    combos = [tuple(sorted((int(m.geom_type[a]), int(m.geom_type[b])))) for a, b in zip(m.pair_geom1, m.pair_geom2)]
    joints = collections.Counter(_JOINT_NAMES[int(t)] for t in m.jnt_type)
    key = (m.nq, m.nv, m.nbody, m.njnt, m.ngeom, m.nsite, m.npair, m.neq, m.nmocap, m.nu, tuple(m.body_parentid),
           tuple(m.jnt_type), tuple(m.geom_type), tuple(m.geom_bodyid), tuple(sorted(combos)))
    return Shape(dict(collections.Counter(combos)), dict(joints), key)


def main(argv: Sequence[str] | None = None) -> None:
    from envs_bridge.metaworld import scenes, shared_physics

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hand", default="floating", help="hand model (scenes.HANDS)")
    p.add_argument("--graphs", type=int, nargs="+", default=[1, 12, 16, 20, 24, 30, 50])
    args = p.parse_args(argv)
    xmls = {t: scenes.scene_xml(t, hand=args.hand) for t in scenes.ALL_TASKS}
    models = {t: mujoco.MjModel.from_xml_string(x) for t, x in xmls.items()}
    own = sum(m.npair for m in models.values()) / len(models)
    print(f"{len(models)} tasks, {len({shape_of(m).key for m in models.values()})} distinct structures, "
          f"{len({shared_physics.skeleton_key(x) for x in xmls.values()})} skeletons; pair slots per env "
          f"without padding: {own:.2f}")
    print("graphs  padded pair slots per env (mean over tasks)  x unpadded")
    for g in args.graphs:
        parts = shared_physics.plan_groups(xmls, g)
        mean = sum(len(q) * shared_physics.padded_pairs({t: xmls[t] for t in q}) for q in parts) / len(models)
        print(f"{len(parts):6d}  {mean:44.2f}  {mean / own:10.2f}")


if __name__ == "__main__":
    main()
