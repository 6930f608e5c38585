"""MTBench's Go1 parkour (Joshi et al., 2025, arXiv 2507.23172; after Cheng et al., 2023, arXiv 2309.14341) as a
pure, jittable, task-major JAX env on MuJoCo MJX (``docs/parkour.md``).

One ``mjx.Model`` (``scene.py``) serves every task: a task is a terrain type and its tiles are data
(``terrain.tile_arrays``), so all envs step in one ``vmap`` and the curriculum moves an env between levels without
recompiling. Per control step (dt 0.02 s): the ``K`` boxes nearest the robot are put into the model's slots, then
4 substeps of 5 ms apply MTBench's PD torques. Rewards, goals, termination, observation (233 floats for 21 tasks)
and the hard_cl curriculum follow spec 2.3-2.8; ``info["progress"]`` is the fraction of the 8 goals reached and
``info["success"]`` whether all 8 were, so ``mtjax.metrics``' ``progress`` is MTBench's parkour metric.
``physics_impl="warp"`` steps the same scene on MuJoCo Warp through MJX (``warp_physics.py``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from mujoco import mjx

from envs_bridge import fingerprint
from envs_bridge import physics_impl as physics_impl_mod
from envs_bridge.parkour import dynamics, robot, scan, scene, terrain, warp_physics
from envs_bridge.parkour.dynamics import ParkourState
from mtjax import envs

__all__ = ["MODES", "ParkourEnv", "ParkourState"]

MODES = ("easy", "hard", "hard_cl")


class ParkourEnv:
    """Go1 parkour tasks (terrain types) on MJX, task-major (``envs.TaskSet`` of ``terrain.TERRAIN_NAMES``).

    Attributes:
      task_set: the batch layout. mode: "easy" (every level at row difficulty 0), "hard" (levels round-robin),
        "hard_cl" (levels from U{0,1,2}, then the curriculum). episode_length: 2000 steps (40 s).
      action_scale: PD target offset per unit action (1.0; MTBench's test config 0.25).
      action_clip: actions are clamped to ``[-action_clip, action_clip]`` before scaling (5.0: the task yaml's
        ``clip_actions: 5.0`` with rl_games' ``clip_actions: False``, MTBench's go1-PPO-Vanilla; 1.0: rl_games'
        ``clip_actions: True``, which MTBench's launch scripts may have meant with their missing
        ``go1-PPO-clip-Vanilla`` config: ``docs/deviations.md``).
      active_boxes: box slots in the MJX model (``scene.py``); the cost knob of the env.
      active_spheres: sphere slots (None: 3 if a task's tiles have spheres, else 0).
      num_task_slots: width of the task one-hot (None: the number of tasks, column = task index; an int >= 21:
        column = MTBench's terrain id, so a flat-only run and the 21-task run share the 233-float observation).
      iterations, ls_iterations: MuJoCo solver and line-search iterations.
      domain_rand: friction, added mass, CoM, motor strength and pushes as spec 2.6 (off: nominal values).
      random_init_step: first episodes start at a uniform step in [0, episode_length) (MTBench does).
      physics_impl: "jax" (MJX-JAX, default) or "warp" (MuJoCo Warp through MJX, ``warp_physics.py``; needs
        ``warp-lang``). warp_graph_mode: constructor argument, Warp's CUDA-graph capture
        (``physics_impl.GRAPH_MODES`` of ``envs_bridge/physics_impl.py``; "default": MJX's choice).
      obs_size: 212 + one-hot width. action_size: 12. goal_progress: True (``mtjax.envs.packed_transition``).
    """

    action_size = 12
    goal_progress = True

    def __init__(self, task_set: envs.TaskSet, mode: str = "hard", episode_length: int = 2000,
                 action_scale: float = 1.0, action_clip: float = 5.0, active_boxes: int = 6, domain_rand: bool = True,
                 random_init_step: bool = True, iterations: int = 4, ls_iterations: int = 4,
                 active_spheres: int | None = None, num_task_slots: int | None = None,
                 physics_impl: str = "jax", warp_graph_mode: str = "default"):
        physics_impl_mod.check(physics_impl, warp_graph_mode)
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
        names = {n: i for i, n in enumerate(terrain.TERRAIN_NAMES) if i in terrain.IMPLEMENTED}
        bad = [t for t in task_set.task_names if t not in names]
        if bad:
            raise ValueError(f"unknown or unimplemented parkour tasks {bad}; valid: {', '.join(names)}")
        if episode_length < 1 or active_boxes < 1 or active_boxes > terrain.MAX_BOXES:
            raise ValueError(f"need episode_length >= 1 and 1 <= active_boxes <= {terrain.MAX_BOXES}")
        if not action_clip > 0:
            raise ValueError(f"need action_clip > 0, got {action_clip}")
        self.action_clip = float(action_clip)
        self.task_set, self.mode = task_set, mode
        self.episode_length, self.action_scale = int(episode_length), float(action_scale)
        self.active_boxes, self.domain_rand = int(active_boxes), bool(domain_rand)
        self.random_init_step = bool(random_init_step)
        self.terrain_ids = tuple(names[t] for t in task_set.task_names)
        tiles = terrain.tile_arrays(self.terrain_ids, mode == "easy")
        self.tiles = {k: jnp.asarray(v) for k, v in tiles.items()}
        if active_spheres is None:
            active_spheres = 3 if bool((tiles["spheres"][..., 2] > -40).any()) else 0
        if not 0 <= active_spheres <= terrain.MAX_SPHERES:
            raise ValueError(f"need 0 <= active_spheres <= {terrain.MAX_SPHERES}")
        self.active_spheres = int(active_spheres)
        self.mj = scene.build_model(self.active_boxes, iterations, ls_iterations, self.active_spheres)
        self.mx = mjx.put_model(self.mj)
        self._template = mjx.make_data(self.mx)
        self.contact_slots = int(self._template._impl.contact.dist.shape[0])
        self._groups = jnp.asarray(scene.contact_groups(self.mj))
        self._trunk = self.mj.body("trunk").id
        self.physics_impl = physics_impl
        if physics_impl == "warp":
            self._init_warp(warp_graph_mode)
        self._task_id = jnp.asarray(task_set.task_ids)
        self.num_task_slots = self._check_slots(num_task_slots)
        if num_task_slots is None:
            self._one_hot = jnp.asarray(task_set.one_hot())
        else:  # column = terrain id (MTBench's env_class), fixed width
            cols = np.asarray(self.terrain_ids)[np.asarray(task_set.task_ids)]
            self._one_hot = jnp.asarray(np.eye(self.num_task_slots, dtype=np.float32)[cols])
        self.obs_size = 212 + self.num_task_slots

    def fingerprint(self) -> dict:
        """Digest of the compiled model, terrain tiles and settings (``envs_bridge/fingerprint.py``)."""
        return fingerprint.parkour(self)

    def _check_slots(self, num_task_slots):
        if num_task_slots is None:
            return self.task_set.num_tasks
        if num_task_slots < len(terrain.TERRAIN_NAMES):
            raise ValueError(f"num_task_slots must be None or >= {len(terrain.TERRAIN_NAMES)} (one column per "
                             f"terrain id), got {num_task_slots}")
        return int(num_task_slots)

    def _init_warp(self, graph_mode: str) -> None:
        """The Warp model and data template (pools for every env), and the carried part of the template."""
        self.mx, self._warp_template = physics_impl_mod.warp_model(self.mj, self._template,
                                                                   self.task_set.num_envs, graph_mode)
        self._template = warp_physics.Carry.of(self._warp_template)
        self._world_geoms = slice(0, self.active_boxes + self.active_spheres + 1)  # ground, boxes, spheres
        static = physics_impl_mod.static_geoms(self.mj).ids  # what Warp poses only once (warp_physics.py)
        if not np.array_equal(static, np.arange(self._world_geoms.stop)):
            raise AssertionError(f"Warp's static geoms {static} are not the ground and terrain slots")
        self._mass_bodies = warp_physics.ancestors(self.mj, self._trunk)

    @property
    def num_tasks(self) -> int:
        return self.task_set.num_tasks

    # ------------------------------------------------------------------ per-env (unbatched) pieces
    def _model(self, boxes, spheres, ground, friction, added_mass, com):
        """The env's model: its nearest boxes and spheres in the slots, its ground, friction and trunk mass/CoM."""
        m, k, e = self.mx, self.active_boxes, self.active_boxes + self.active_spheres
        fr = m.geom_friction.at[: e + 1, 0].set(friction)
        pos = m.geom_pos.at[1: k + 1].set(boxes[:, :3]).at[k + 1: e + 1].set(spheres[:, :3])
        size = m.geom_size.at[1: k + 1].set(boxes[:, 3:6]).at[k + 1: e + 1, 0].set(spheres[:, 3])
        m = m.replace(geom_pos=pos.at[scene.GROUND, 2].set(ground), geom_size=size,
                      geom_quat=m.geom_quat.at[1: k + 1].set(boxes[:, 6:10]), geom_friction=fr,
                      body_mass=m.body_mass.at[self._trunk].add(added_mass),
                      body_ipos=m.body_ipos.at[self._trunk].add(com))
        if self.physics_impl == "warp":  # what Warp precomputes from those fields (warp_physics.py)
            m = m.replace(**warp_physics.warp_fields(m, slice(1, k + 1), slice(k + 1, e + 1),
                                                      self._mass_bodies, added_mass))
        return m

    def physics(self, data, boxes, spheres, ground, friction, added_mass, com, q_target, kp, kd):
        """Every env's control step of physics (arguments ``[N, ...]``, as ``_physics``'s): the new data,
        the last substep's torques ``[N, 12]`` and the contact forces per group ``[N, 12]``
        (``_group_forces``)."""
        args = (data, boxes, spheres, ground, friction, added_mass, com, q_target, kp, kd)
        if self.physics_impl == "jax":
            d, tau = jax.vmap(self._physics)(*args)
            return d, tau, jax.vmap(self._group_forces)(d)
        d, tau, (pool, efc_force) = jax.vmap(self._physics_warp)(*args)
        pool = tuple(x[0] for x in pool)  # the one pool, as the vmap broadcast it to every env
        return d, tau, warp_physics.group_forces(pool, efc_force, self._groups)

    def _physics_warp(self, carry, *args):
        """``_physics`` on MuJoCo Warp for one env's ``warp_physics.Carry``: the env's terrain slots posed
        in its data, then the substeps; returns the new carry, the torques and the contact pool with the
        env's efc forces."""
        pose = functools.partial(warp_physics.pose_world_geoms, geoms=self._world_geoms)
        d, tau = self._physics(carry.data(self._warp_template), *args, pose=pose)
        i = d._impl
        pool = (i.contact__geom, i.contact__worldid, i.contact__efc_address, i.nacon)
        return warp_physics.Carry.of(d), tau, (pool, i.efc__force)

    def _physics(self, d, tile_boxes, tile_spheres, ground, friction, added_mass, com, q_target, kp, kd,
                 pose=None):
        boxes = scan.nearest_boxes(tile_boxes, d.qpos[:2], self.active_boxes)
        spheres = scan.nearest_spheres(tile_spheres, d.qpos[:2], self.active_spheres)
        m = self._model(boxes, spheres, ground, friction, added_mass, com)
        if pose is not None:
            d = pose(m, d)

        def sub(d, _):
            tau = robot.pd_torque(q_target, d.qpos[7:], d.qvel[6:], kp, kd)
            return mjx.step(m, d.replace(ctrl=tau)), tau

        d, taus = jax.lax.scan(sub, d, None, length=robot.DECIMATION)
        return d, taus[-1]

    def _group_forces(self, d) -> jax.Array:
        """``[12]`` summed normal contact force on each foot (0-3) and thigh/calf (4-11) of the last substep."""
        c = d._impl.contact
        rows = c.efc_address[:, None] + jnp.arange(4)[None]  # pyramidal condim 3: 4 rows; normal = their sum
        fn = jnp.where(c.efc_address >= 0, d._impl.efc_force[jnp.maximum(rows, 0)].sum(-1), 0.0)
        g = jnp.maximum(self._groups[c.geom[:, 0]], self._groups[c.geom[:, 1]])
        return jnp.zeros(12).at[jnp.where(g >= 0, g, 12)].add(fn, mode="drop")

    def _reset_one(self, key):
        """Fresh robot state at the spawn point: base (1, 2, 0.42), joints default + U[0, 0.9] (spec 2.3, Q18)."""
        d = self._template
        q = jnp.asarray(robot.DEFAULT_Q) + jax.random.uniform(key, (12,), maxval=0.9)
        qpos = d.qpos.at[0:3].set(jnp.array([terrain.SPAWN[0], terrain.SPAWN[1], 0.42]))
        qpos = qpos.at[3:7].set(jnp.array([1.0, 0.0, 0.0, 0.0])).at[7:].set(q)
        return d.replace(qpos=qpos, qvel=jnp.zeros_like(d.qvel))

    # ------------------------------------------------------------------ batched pieces
    def _tile(self, level):
        """The envs' tiles: boxes ``[N, M, 10]``, ground ``[N]``, goals ``[N, 8, 2]``, spheres ``[N, S, 5]``."""
        t, lv = self._task_id, level
        return (self.tiles["boxes"][t, lv], self.tiles["ground"][t, lv], self.tiles["goals"][t, lv],
                self.tiles["spheres"][t, lv])

    def _goals(self, goals, goal_idx):
        pad = jnp.concatenate([goals, goals[:, -1:], goals[:, -1:]], 1)  # 2 copies of the last goal
        n = jnp.arange(goals.shape[0])
        return pad[n, jnp.minimum(goal_idx, 9)], pad[n, jnp.minimum(goal_idx + 1, 9)]

    def _observe(self, s: ParkourState, contact_filt, refresh):
        """The 212 task-independent observation floats (spec 2.4) and the refreshed yaw/height buffers."""
        d = s.data
        quat = d.qpos[:, 3:7]
        roll, pitch, yaw = scan.euler_from_quat(quat)
        boxes, ground, goals, spheres = self._tile(s.level)
        cur, nxt = self._goals(goals, s.goal_idx)
        pos = d.qpos[:, :3]
        y_cur = jnp.arctan2(cur[:, 1] - pos[:, 1], cur[:, 0] - pos[:, 0]) - yaw
        y_nxt = jnp.arctan2(nxt[:, 1] - pos[:, 1], nxt[:, 0] - pos[:, 0]) - yaw
        yaw_obs = jnp.where(refresh[:, None], jnp.stack([y_cur, y_nxt], -1), s.yaw_obs)
        fresh_h = jax.vmap(scan.scan_heights)(boxes, spheres, ground, pos, yaw)
        heights = jnp.where(refresh[:, None], fresh_h, s.heights)
        rot = scan.quat_to_mat(quat)
        lin_body = jnp.einsum("nji,nj->ni", rot, d.qvel[:, :3])
        latent = jnp.concatenate([s.added_mass[:, None], s.com, s.friction[:, None], s.kp_scale - 1,
                                  s.kd_scale - 1], -1)
        obs = jnp.concatenate([
            d.qvel[:, 3:6] * 0.25, roll[:, None], pitch[:, None], yaw_obs, s.cmd[:, None],
            d.qpos[:, 7:] - robot.DEFAULT_Q, d.qvel[:, 6:] * 0.05, s.last_action,
            contact_filt.astype(jnp.float32) - 0.5, heights, lin_body * 2.0, latent], -1)
        return jnp.clip(obs, -100.0, 100.0), yaw_obs, heights

    def _fresh(self, key, level, s_dr=None):
        """Reset state for every env at ``level`` (domain randomisation drawn only when ``s_dr`` is None)."""
        n = self.task_set.num_envs
        k_q, k_cmd, k_dr = jax.random.split(key, 3)
        data = jax.vmap(self._reset_one)(jax.random.split(k_q, n))
        cmd = jax.random.uniform(k_cmd, (n,), minval=0.3, maxval=0.8)
        if s_dr is None:
            s_dr = self._draw_dr(k_dr, n)
        zeros = jnp.zeros((n,), jnp.int32)
        return ParkourState(data=data, level=level, goal_idx=zeros, goal_timer=zeros, t=zeros,
                            counter=jnp.zeros((), jnp.int32), cmd=cmd, last_action=jnp.zeros((n, 12)),
                            last_contact=jnp.zeros((n, 4), bool), yaw_obs=jnp.zeros((n, 2)),
                            heights=jnp.zeros((n, 132)), **s_dr)

    def _draw_dr(self, key, n):
        if not self.domain_rand:
            return {"kp_scale": jnp.ones((n, 12)), "kd_scale": jnp.ones((n, 12)), "friction": jnp.ones((n,)),
                        "added_mass": jnp.zeros((n,)), "com": jnp.zeros((n, 3))}
        k = jax.random.split(key, 5)
        bucket = jax.random.randint(k[2], (n,), 0, 64)  # 64 friction buckets uniform in [0.6, 2.0]
        return {"kp_scale": jax.random.uniform(k[0], (n, 12), minval=0.8, maxval=1.2),
                    "kd_scale": jax.random.uniform(k[1], (n, 12), minval=0.8, maxval=1.2),
                    "friction": 0.6 + 1.4 * bucket / 63.0, "added_mass": jax.random.uniform(k[3], (n,), maxval=3.0),
                    "com": jax.random.uniform(k[4], (n, 3), minval=-0.2, maxval=0.2)}

    def _init_level(self, key):
        n_k = np.asarray(self.task_set.envs_per_task)
        within = np.concatenate([np.arange(n) for n in n_k])
        if self.mode == "hard_cl":
            return jax.random.randint(key, (self.task_set.num_envs,), 0, 3)
        return jnp.asarray(within % terrain.NUM_LEVELS, jnp.int32)  # round robin (identical rows in "easy")

    # ------------------------------------------------------------------ protocol
    def reset(self, key: jax.Array) -> envs.EnvState:
        key, k_lvl, k_fresh, k_t = jax.random.split(key, 4)
        n = self.task_set.num_envs
        s = self._fresh(k_fresh, self._init_level(k_lvl))
        if self.random_init_step:
            s = s.replace(t=jax.random.randint(k_t, (n,), 0, self.episode_length))
        obs, yaw_obs, heights = self._observe(s, s.last_contact, jnp.ones((n,), bool))
        s = s.replace(yaw_obs=yaw_obs, heights=heights)
        zeros, falses = jnp.zeros((n,), jnp.float32), jnp.zeros((n,), bool)
        info = {"success": falses, "progress": zeros, "level": s.level.astype(jnp.float32),
                **{f"rew_{k}": zeros for k in dynamics.REWARD_SCALES}, "episode_return": zeros,
                "episode_length": jnp.zeros((n,), jnp.int32), "episode_success": falses, "episode_progress": zeros}
        return envs.EnvState(obs=jnp.concatenate([obs, self._one_hot], -1), reward=zeros, done=falses,
                             truncated=falses, task_id=self._task_id, info=info, sim=s,
                             episode=envs.init_episode_stats(n), key=key)

    def step(self, state: envs.EnvState, action: jax.Array) -> envs.EnvState:
        """Advances every env by one 20 ms control step; ``action`` is ``[N, 12]`` (clipped to +-5)."""
        return dynamics.step(self, state, action)
