"""Which tasks step in one physics call: the env's physics groups on MJX-JAX or MuJoCo Warp.

``MetaWorldEnv`` steps its tasks group by group: by default every task is its own group (one ``mjx.step`` graph per
task); with ``physics_graphs`` set, tasks of one skeleton are padded to one structure and share a graph
(``shared_physics.py``). On MJX-JAX a shared group is a ``vmap`` over its members' stacked models
(``shared_physics.run_group``); on MuJoCo Warp it is one Warp call over all its envs (``warp_groups.py``). This
module plans the groups from the scenes and dispatches each control step's physics to the right runner.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import mujoco

from envs_bridge.metaworld import scenes, shared_physics, warp_groups

__all__ = ["PhysicsGroups", "plan"]


def plan(names: Sequence[str], scene_args: tuple, hand: str, physics_graphs: int | None):
    """``(parts, models)``: the task names of each group and, for tasks in shared groups, their padded ``MjModel``
    (tasks absent from ``models`` build their own scene)."""
    if physics_graphs is None:
        return [[n] for n in names], {}
    xmls = {n: scenes.scene_xml(n, *scene_args, hand) for n in names}
    parts, models = shared_physics.plan_groups(xmls, physics_graphs), {}
    for part in parts:
        padded = shared_physics.pad_group({n: xmls[n] for n in part})
        models.update({n: mujoco.MjModel.from_xml_string(x) for n, x in padded.items()})
    return parts, models


class PhysicsGroups:
    """The env's groups: ``groups`` = ``[(GroupModel, task indices)]``, ``warp`` = ``{group index: WarpGroup}`` for
    the shared groups stepped by MuJoCo Warp (a one-task group keeps ``run_group``'s path on Warp too)."""

    def __init__(self, tasks: Sequence, parts: Sequence[Sequence[str]], envs_per_task: Sequence[int],
                 physics_impl: str, level_barriers: bool):
        names = [t.name for t in tasks]
        self.tasks, self.level_barriers = tuple(tasks), bool(level_barriers)
        self.groups = [(shared_physics.GroupModel(part, [tasks[names.index(n)].mx for n in part]),
                        [names.index(n) for n in part]) for part in parts]
        self.warp = {g: warp_groups.WarpGroup(group, [envs_per_task[i] for i in idx], tasks[idx[0]].mj,
                                              any(tasks[i].pair_table is not None for i in idx))
                     for g, (group, idx) in enumerate(self.groups) if physics_impl == "warp" and len(idx) > 1}

    def __len__(self) -> int:
        return len(self.groups)

    def run(self, fn, datas: Sequence, body_pos: Sequence[jax.Array], always_placed: bool = False) -> list:
        """``fn(model, data)`` of every env, one vmapped call per group; per-env ``body_pos`` where a member places
        fixtures per episode (or ``always_placed``)."""
        out = list(datas)
        for g, (group, idx) in enumerate(self.groups):
            placed = always_placed or any(self.tasks[i].anchor_body >= 0 for i in idx)
            pos = [body_pos[i] for i in idx] if placed else None
            if g in self.warp:
                new = warp_groups.run(self.warp[g], fn, [datas[i] for i in idx], pos, fence=self.level_barriers)
            else:
                new = shared_physics.run_group(group, fn, [datas[i] for i in idx], pos, fence=self.level_barriers,
                                               template=self.tasks[idx[0]].template,
                                               pairs=self.tasks[idx[0]].pair_table)
            for i, d in zip(idx, new):
                out[i] = d
        return out
