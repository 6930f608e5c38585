"""What a task's compiled physics graph depends on, and how tasks could share one graph (the MT50 compile plan).

An MJX step is traced once per model *structure*: the body tree, joint types, geom types and the explicit contact
pairs by geom-type combination. Tasks of one structure can share one ``mjx.step`` ``vmap``ped over their stacked
model parameters; tasks of different structures can share one only when each is padded to the group's shape (for
pairs: as many slots of each geom-type combination as the group's largest member has), and every env then pays for
the padded slots. ``cluster`` trades the number of graphs (compile time) against the padded pair slots per env
(step time) greedily; ``python -m envs_bridge.metaworld.structure`` prints the trade-off for the fifty tasks
(``docs/metaworld_mt50.md``, "Speed and compile").
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Mapping, Sequence

import mujoco

__all__ = ["Shape", "cluster", "padded_slots", "shape_of"]

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


def padded_slots(shapes: Sequence[Shape]) -> int:
    """Pair slots of the group's padded shape: per geom-type combination, the largest member's count."""
    most: dict = collections.Counter()
    for s in shapes:
        for combo, n in s.pairs.items():
            most[combo] = max(most[combo], n)
    return sum(most.values())


def cluster(shapes: Mapping[str, Shape], groups: int) -> list[list[str]]:
    """Greedy agglomerative grouping of tasks into ``groups`` groups.

    Starts from one group per exact structure (free: no padding) and merges, while more than ``groups`` remain, the
    two groups whose merge adds the fewest padded pair slots summed over their tasks (every env of a group steps the
    padded shape). Ties go to the earlier pair in task order, so the result is deterministic.
    """
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    by_key: dict = {}
    for name, s in shapes.items():
        by_key.setdefault(s.key, []).append(name)
    parts = list(by_key.values())

    def cost(names: list[str]) -> int:
        return len(names) * padded_slots([shapes[n] for n in names])

    while len(parts) > groups:
        best = None
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                extra = cost(parts[i] + parts[j]) - cost(parts[i]) - cost(parts[j])
                if best is None or extra < best[0]:
                    best = (extra, i, j)
        _, i, j = best
        parts[i] = parts[i] + parts[j]
        del parts[j]
    return parts


def main(argv: Sequence[str] | None = None) -> None:
    from envs_bridge.metaworld import scenes

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hand", default="floating", help="hand model (scenes.HANDS)")
    p.add_argument("--groups", type=int, nargs="+", default=[1, 3, 5, 8, 12, 20, 30])
    args = p.parse_args(argv)
    shapes = {t: shape_of(scenes.build_model(t, 1, hand=args.hand)) for t in scenes.ALL_TASKS}
    own = sum(padded_slots([s]) for s in shapes.values()) / len(shapes)
    print(f"{len(shapes)} tasks, {len({s.key for s in shapes.values()})} distinct structures; "
          f"pair slots per env without padding: {own:.2f}")
    print("graphs  pair slots per env (mean over tasks)  x unpadded")
    for g in args.groups:
        parts = cluster(shapes, g)
        mean = sum(len(q) * padded_slots([shapes[n] for n in q]) for q in parts) / len(shapes)
        print(f"{len(parts):6d}  {mean:37.2f}  {mean / own:10.2f}")


if __name__ == "__main__":
    main()
