"""One Meta-World task as the env holds it: compiled MJX model, MuJoCo ids, reset placements, constants.

``MetaWorldEnv`` (``env.py``) builds one ``TaskModel`` per task of its task set, on the host, once. The MT10 tasks
read their ids and placements from ``tasks.py``; the MT50 tasks outside MT10 from their ``SceneDef``
(``scene_defs.py``, ``scenes_mt50.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

from envs_bridge import physics_impl
from envs_bridge.metaworld import scene_defs, scenes, scenes_mt50, tasks

__all__ = ["TaskModel"]

# Keys of a placement dict that are not per-episode reward constants.
_PLACE_KEYS = ("goal", "obj_init", "body", "joint", "anchor", "hand_init_pos")


class TaskModel:
    """Host-side bundle of one task's compiled model, ids, reset placements and constants (built once per env).

    ``model``: the compiled scene to use instead of ``scenes.build_model``'s (a padded scene of a shared physics
    group, ``shared_physics.pad_group``); ids are looked up by name, so they follow the padding.
    """

    def __init__(self, name: str, frame_skip: int, iterations: int, ls_iterations: int, eulerdamp: bool,
                 rand_vecs_path, hand: str, model: mujoco.MjModel | None = None, impl: str = "jax",
                 batch: int = 1, graph_mode: str = "default"):
        self.name = name
        self.spec = scenes_mt50.spec(name)
        m = model if model is not None else scenes.build_model(name, frame_skip, iterations, ls_iterations,
                                                               eulerdamp, hand)
        self.mj = m
        self.mx = mjx.put_model(m)
        self.template = mjx.make_data(self.mx)
        self.contact_slots = int(self.template._impl.contact.dist.shape[0])
        self.static_geoms = None  # Warp: the geoms it poses only once (physics_impl.static_geoms)
        if impl == "warp":  # MJX-JAX's static sizes bound MuJoCo Warp's pools (physics_impl.py)
            self.mx, self.template = physics_impl.warp_model(m, self.template, batch, graph_mode)
            self.static_geoms = physics_impl.static_geoms(m)
        self.scene = scenes_mt50.SCENES.get(name)  # None for the MT10 tasks (their code paths: tasks.py)
        # Warp: the pooled contacts as per-env slots, for the scenes whose quantities may test contacts
        self.pair_table = (physics_impl.PairTable.of(m) if impl == "warp" and self.scene is not None
                           and self.scene.quantities is not None else None)
        body = lambda n: m.body(n).id
        self.hand, self.rclaw, self.lclaw = body("hand"), body("rightclaw"), body("leftclaw")
        site = lambda n: m.site(n).id
        self.ree, self.lee, self.rpad, self.lpad = (site("rightEndEffector"), site("leftEndEffector"),
                                                    site("rightpad"), site("leftpad"))
        self.hand_mocap = int(m.body_mocapid[body("mocap")])
        anchor = {"door-open": "door", "drawer-open": "drawer", "drawer-close": "drawer",
                  "button-press-topdown": "box", "peg-insert-side": "box", "window-open": "window",
                  "window-close": "window"}.get(name)
        self.anchor_body = body(anchor) if anchor else -1
        self.body_pos = jnp.asarray(m.body_pos, jnp.float32)
        self.obj_qpos = int(m.jnt_qposadr[m.joint("objjoint").id]) if name in ("reach", "push", "pick-place") else (
            int(m.jnt_qposadr[m.joint("pegjoint").id]) if name == "peg-insert-side" else -1)
        self.arm = hand == "arm"
        if self.arm:  # the arm's pose after Meta-World's reset settle at this task's hand_init_pos
            self.arm_q, self.arm_qd = (jnp.asarray(x, jnp.float32) for x in scenes.settled_arm(name))
        else:
            self.hand_offset, self.hand_quat = scenes.settled_hand(frame_skip)
        self.mocap_low = np.asarray(getattr(self.spec, "hand_low", tasks.HAND_LOW), np.float32)
        self.mocap_high = np.asarray(getattr(self.spec, "hand_high", tasks.HAND_HIGH), np.float32)
        if self.scene is None:
            self.ids = tasks.resolve_ids(name, m)
        else:
            self._init_scene(m)
        path = rand_vecs_path or (tasks.RAND_VECS_PATH if self.scene is None else tasks.RAND_VECS_MT50_PATH)
        self.rand_vecs = jnp.asarray(tasks.load_rand_vecs(name, path))

    def _init_scene(self, m) -> None:
        """Ids and reset placements of a task described by a ``SceneDef`` (the MT50 tasks outside MT10)."""
        sd = self.scene
        self.refs = scene_defs.resolve_refs(sd, m)
        joint_adr = lambda n: int(m.jnt_qposadr[m.joint(n).id])
        self.joint_adrs = tuple(joint_adr(n) for n in sd.joints)
        self.ids = tasks.Ids(jnt_qpos=self.joint_adrs[0] if self.joint_adrs else -1)
        self.moved = tuple((m.body(b).id, where) for b, where in sd.moved.items())
        self.free = tuple((joint_adr(j), where, sd.free_quat.get(j, (1.0, 0.0, 0.0, 0.0)))
                          for j, where in sd.free.items())
        self.anchor_body, self.obj_qpos = (self.moved[0][0] if self.moved else -1), -1

    def reset_placed(self, rv: jax.Array):
        """The reset state before kinematics: ``(data with qpos/qvel/mocap/ctrl set, placement dict, body_pos,
        per-episode constants)``."""
        p = scenes_mt50.place(self.name, rv)
        d = self.template
        hand_init = jnp.asarray(self.spec.hand_init, jnp.float32)
        qvel = jnp.zeros_like(d.qvel)
        if self.arm:  # arm joints 0-6 and fingers 7-8, as Meta-World's settle leaves them (still moving)
            qpos, qvel = d.qpos.at[0:9].set(self.arm_q), qvel.at[0:9].set(self.arm_qd)
        else:
            qpos = d.qpos.at[0:3].set(hand_init + self.hand_offset).at[3:7].set(self.hand_quat).at[7:9].set(0.0)
        if self.obj_qpos >= 0:
            a = self.obj_qpos
            qpos = qpos.at[a:a + 3].set(p["body"]).at[a + 3:a + 7].set(jnp.array([1.0, 0.0, 0.0, 0.0]))
        if self.scene is not None:
            qpos = self._place_scene(p, qpos)
        elif self.ids.jnt_qpos >= 0:
            qpos = qpos.at[self.ids.jnt_qpos].set(p["joint"])
        mocap = d.mocap_pos.at[self.hand_mocap].set(hand_init)
        body_pos = self.body_pos
        if self.scene is not None:
            for bid, where in self.moved:
                body_pos = body_pos.at[bid].set(scene_defs.placement(where, p))
        elif self.anchor_body >= 0:
            body_pos = body_pos.at[self.anchor_body].set(p["anchor"])
        d = d.replace(qpos=qpos, qvel=qvel, mocap_pos=mocap, ctrl=jnp.zeros_like(d.ctrl))
        consts = {}
        if self.scene is not None:  # the placement's extra keys and the latched quantities (set on the first step)
            consts = {key: jnp.asarray(v, jnp.float32) for key, v in p.items() if key not in _PLACE_KEYS}
            consts.update({key: jnp.zeros((), jnp.float32) for key in self.scene.latch})
        return d, p, body_pos, consts

    def _place_scene(self, p: dict, qpos: jax.Array) -> jax.Array:
        """A ``SceneDef`` task's reset: free objects at their placements, task joints at ``p["joint"]``."""
        for adr, where, quat in self.free:
            qpos = qpos.at[adr:adr + 3].set(scene_defs.placement(where, p)).at[adr + 3:adr + 7].set(
                jnp.asarray(quat, jnp.float32))
        if self.joint_adrs:
            values = jnp.broadcast_to(jnp.asarray(p["joint"], jnp.float32), (len(self.joint_adrs),))
            for i, adr in enumerate(self.joint_adrs):
                qpos = qpos.at[adr].set(values[i])
        return qpos
