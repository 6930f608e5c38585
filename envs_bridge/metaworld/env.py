"""Meta-World MT10 / MT50 (Yu et al., 2019, arXiv 1910.10897) on MuJoCo MJX: a pure, jittable, batched multi-task env.

One ``mjx.Model`` per task (``scenes.py``), each vmapped over its contiguous env block; the physics is stepped per
*physics group*, inside the same trace (a Python loop over static models; no ``lax.switch`` on the task inside
``vmap``): by default each task is its own group (up to fifty ``mjx.step`` graphs), with ``physics_graphs`` the
tasks of one skeleton share one padded structure and one ``mjx.step`` vmapped over their stacked models
(``shared_physics.py``; "mt50" uses 20). The MT10 tasks read their placements and observation from ``tasks.py``, the forty other
MT50 tasks from their ``SceneDef`` (``scene_defs.py``, ``scenes_mt50.py``). Control follows Meta-World: ``action[:3] / 100`` metres (``action_scale`` 0.01; MTBench's
discretised PQN variant uses 0.005) moves the hand's mocap target per control step (clipped to the task's mocap
bounds), ``action[3]`` is the position target ``(+a3, -a3)`` of the two finger actuators, one control step is
12.5 ms of physics (``frame_skip`` substeps). Rewards and success flags are Meta-World's v2 functions from
``rewards.py`` fed the per-env quantities computed here. Finished episodes are reset inside ``step``
(``envs.where_done``); ``info`` carries the Meta-World info fields of the transition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from mujoco import mjx

from envs_bridge import fingerprint
from envs_bridge import physics_impl as physics_impl_mod
from envs_bridge.metaworld import (
    env_physics,
    physics_groups,
    rewards,
    scenes,
    scenes_mt50,
    shared_physics,
    tasks,
)
from envs_bridge.metaworld.task_model import TaskModel
from mtjax import envs

__all__ = ["ARM_PHYSICS", "FLOATING_PHYSICS", "MODES", "MetaWorldEnv", "TaskBlock"]

MODES = ("rand", "fixed")
_MJ_MAXVAL = 1e10  # MuJoCo's mjMAXVAL: a larger |qpos| or |qvel| counts as diverged
ACTION_SCALE = 0.01  # metres of mocap motion per unit action per control step
# The two physics options (``MetaWorldEnv`` keyword arguments; ``docs/metaworld_mjx.md``, "The options, speed x
# parity"). ARM: our Sawyer arm carrying the hand, four 3.125 ms substeps, Newton 4 + 4: the faithful option and the
# benchmark configs' default (``experiments/configs/mt10_ppo.py``); at two 6.25 ms substeps the arm, arriving at its
# reach limit, rolls its elbow and lifts the hand (docs/metaworld_mjx.md, "The reach limit"). FLOATING: a
# gravity-compensated hand welded to the mocap, one 12.5 ms step, Newton 4 + 4: ~5x faster per training iteration
# (against the arm at two substeps), no reach limit, and the constructor's defaults below (the test suite and the
# parity harness build it by name).
ARM_PHYSICS = {"hand": "arm", "frame_skip": 4, "iterations": 4, "ls_iterations": 4}
FLOATING_PHYSICS = {"hand": "floating", "frame_skip": 1, "iterations": 4, "ls_iterations": 4}


@struct.dataclass
class TaskBlock:
    """State of one task's env block (all leaves have a leading ``[n]`` env axis).

    Attributes:
      data: batched ``shared_physics.SimState``: the ``mjx.Data`` fields carried between steps (state, controls,
        poses; read like ``mjx.Data``).
      goal: ``[n, 3]`` target position of the episode.
      obj_init: ``[n, 3]`` Meta-World's ``obj_init_pos``.
      init_tcp: ``[n, 3]`` tcp after the reset.
      anchor: ``[n, 3]`` fixture position (block position for peg-insert-side).
      body_pos: ``[n, nbody, 3]`` per-env ``mjx.Model.body_pos`` (the fixture row moved to ``anchor``).
      prev: ``[n, 18]`` previous frame's observation values 0-17.
      t: ``[n]`` int32 steps taken in the episode.
      variation: ``[n]`` int32 index into Meta-World's 50 variations ("fixed" mode; unused in "rand").
      consts: per-episode constants of the MT50 tasks outside MT10, each ``[n, ...]``: the extra keys of the
        placement (``specs_mt50.place``) and the ``SceneDef.latch`` values (empty for the MT10 tasks).
    """

    data: Any
    goal: jax.Array
    obj_init: jax.Array
    init_tcp: jax.Array
    anchor: jax.Array
    body_pos: jax.Array
    prev: jax.Array
    t: jax.Array
    variation: jax.Array
    consts: dict = struct.field(default_factory=dict)


class MetaWorldEnv(env_physics.PhysicsStep):
    """Batched Meta-World tasks on MJX, task-major (``envs.TaskSet``).

    Attributes:
      task_set: the batch layout; task names from ``scenes.ALL_TASKS`` (the fifty MT50 tasks).
      episode_length: steps before truncation (150 = MTBench's protocol; Meta-World's own limit is 500).
      goal_visible: obs[36:39] holds the goal (MT benchmarks) or zeros (ML benchmarks).
      mode: "rand" (fresh object/goal every episode, Meta-World's ranges) or "fixed" (env ``i`` of a block
        always uses Meta-World's seeded variation ``i % 50`` of ``MT10(seed=0)``, as MTBench's fixed mode keeps
        one variation per env).
      random_init_step: the first episode of every env starts at a uniform random step in
        ``[0, episode_length)`` (de-synchronises truncations of large batches).
      frame_skip: physics substeps per 12.5 ms control step (timestep ``0.0125 / frame_skip``). Default 1
        (one 12.5 ms step; Meta-World uses 5 x 2.5 ms). Chosen by stability, scripted-policy success (100 %
        on 100 episodes of every task) and speed; see ``docs/metaworld_scenes.md`` ("Physics settings").
      iterations, ls_iterations: Newton solver iterations and line-search iterations.
      eulerdamp: implicit joint damping (``scenes.scene_xml``); off by default.
      reward_scale: multiplies the reward (MTBench trains Meta-World with 100; the raw reward stays in
        ``info["unscaled_reward"]``).
      action_scale: metres of mocap motion per unit of ``action[:3]`` per control step (default 0.01 =
        Meta-World's 1/100 and MTBench's ``actionScale``). MTBench's discretised variant for MT-PQN
        (``meta-world-discrete-v2``) is ``episode_length=500, action_scale=0.005``; its 3 bins per dimension are
        mapped to ``{-1, 0, +1}`` by the learner (``mtjax.algos.pqn``), so the env keeps continuous actions.
      rand_vecs_path: JSON file of the "fixed" mode's variations (``tasks.load_rand_vecs``); ``None`` uses
        ``tasks.RAND_VECS_PATH``, Meta-World's ``MT10(seed=0)``. A constructor argument (so an env kwarg of
        the run's config), not an attribute.
      obs_size: 39 + number of tasks (task one-hot last). action_size: 4.
      contact_slots: ``{task: number of MJX contact slots}`` of every task model (the padded one where shared).
      physics_graphs: constructor argument: ``None`` (or ``0``, the value a config flag can give) steps every task
        with its own ``mjx.step`` (one compiled graph per task); an int asks ``shared_physics.plan_groups`` for at
        most that many graphs (never fewer than the tasks' skeletons, 10 for MT50), each shared by padded tasks of
        one skeleton: less compile, more contact pairs per env (``docs/metaworld_mt50.md``, "Speed and compile").
        Same trajectories up to float rounding. The attribute holds the number of graphs built. On Warp each group
        is one Warp call over all its envs (``warp_groups.py``).
      level_barriers: an XLA barrier after each body-tree level of MJX's passes (``envs_bridge/mjx_levels.py``);
        ``None`` (default) puts them in for ``hand="arm"`` on MJX-JAX only (its 7-link chain). Same values either way.
      physics_impl: constructor argument and attribute: ``"jax"`` (MJX-JAX, default) or ``"warp"`` (MuJoCo Warp
        through MJX, ``physics_impl.py``). warp_graph_mode: constructor argument, Warp's CUDA-graph capture
        (``physics_impl.GRAPH_MODES``; "default": MJX's choice).
      refresh_poses: recompute the kinematics after the substeps, before the observation and reward read poses, as
        Meta-World's post-step ``mj_forward`` does (less its contacts; one ``mjx.kinematics`` per control step, on
        MJX-JAX and Warp alike). Off by default: every pose read is then one substep old (``mjx.step`` computes
        positions before it integrates), as the scenes' contact numbers were fitted; on, the arm's MT10 TCP medians
        come closer to the real ones but the MT50 arm's closed-loop parity falls from 46 to 43 of 50 tasks
        (``docs/deviations.md``, "Every observed pose is one substep old").
    """

    action_size = 4

    def __init__(self, task_set: envs.TaskSet, episode_length: int = 150, goal_visible: bool = True,
                 mode: str = "rand", random_init_step: bool = False, frame_skip: int = 1, iterations: int = 4,
                 ls_iterations: int = 4, eulerdamp: bool = False, reward_scale: float = 1.0,
                 rand_vecs_path: str | None = None, action_scale: float = ACTION_SCALE, hand: str = "floating",
                 physics_graphs: int | None = None, level_barriers: bool | None = None,
                 physics_impl: str = "jax", warp_graph_mode: str = "default", refresh_poses: bool = False):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
        if episode_length < 1:
            raise ValueError(f"episode_length must be >= 1, got {episode_length}")
        if not action_scale > 0:
            raise ValueError(f"action_scale must be > 0, got {action_scale}")
        bad = [t for t in task_set.task_names if t not in scenes.ALL_TASKS]
        if bad:
            missing = [t for t in bad if t in scenes_mt50.MT50_TASKS]
            hint = f" (MT50 tasks without a scene yet: {', '.join(missing)})" if missing else ""
            raise ValueError(f"unknown Meta-World tasks {bad}{hint}; valid tasks: {', '.join(scenes.ALL_TASKS)}")
        self.task_set = task_set
        self.episode_length = int(episode_length)
        self.goal_visible = bool(goal_visible)
        self.mode = mode
        self.random_init_step = bool(random_init_step)
        self.frame_skip = int(frame_skip)
        self.reward_scale = float(reward_scale)
        self.action_scale = float(action_scale)
        self.hand = hand
        if physics_graphs == 0:  # a config flag cannot say None: --config.env.kwargs.physics_graphs=0
            physics_graphs = None
        if physics_graphs is not None and physics_graphs < 1:
            raise ValueError(f"physics_graphs must be None or 0 (one per task) or >= 1, got {physics_graphs}")
        names = task_set.task_names
        physics_impl_mod.check(physics_impl, warp_graph_mode)
        self.physics_impl = physics_impl
        self.refresh_poses = bool(refresh_poses)
        auto_barriers = hand == "arm" and physics_impl == "jax"  # they order XLA passes; Warp's kernels need none
        self.level_barriers = auto_barriers if level_barriers is None else bool(level_barriers)
        self.iterations, self.ls_iterations, self.eulerdamp = int(iterations), int(ls_iterations), bool(eulerdamp)
        scene_args = (self.frame_skip, self.iterations, self.ls_iterations, self.eulerdamp)
        parts, models = physics_groups.plan(names, scene_args, hand, physics_graphs)
        self._tasks = [TaskModel(n, *scene_args, rand_vecs_path, hand, models.get(n), physics_impl, count,
                                 warp_graph_mode)
                       for n, count in zip(names, task_set.envs_per_task)]
        self._groups = physics_groups.PhysicsGroups(self._tasks, parts, task_set.envs_per_task, physics_impl,
                                                    self.level_barriers)
        self.physics_graphs = len(self._groups)
        self.contact_slots = {t.name: t.contact_slots for t in self._tasks}
        self.obs_size = 39 + task_set.num_tasks
        self._task_id = jnp.asarray(task_set.task_ids)
        self._one_hot = jnp.asarray(task_set.one_hot())

    @property
    def num_tasks(self) -> int:
        return self.task_set.num_tasks

    def fingerprint(self) -> dict[str, Any]:
        """Digest of the scenes, reset tables and physics settings (``envs_bridge/fingerprint.py``)."""
        return fingerprint.metaworld(self)

    def task(self, name: str) -> TaskModel:
        """The compiled pieces of one task of this env (model, body/geom ids, spec), by Meta-World name."""
        names = self.task_set.task_names
        if name not in names:
            raise ValueError(f"task {name!r} is not in this env; valid: {', '.join(names)}")
        return self._tasks[names.index(name)]

    # ------------------------------------------------------------------ per-env (unbatched) pieces
    def _frame(self, k: TaskModel, d) -> jax.Array:
        """Observation values 0-17 of one env: hand, gripper opening, object pose, empty second object."""
        hand = jnp.clip(d.xpos[k.hand], tasks.HAND_SPACE_LOW, tasks.HAND_SPACE_HIGH)
        grip = jnp.clip(jnp.linalg.norm(d.xpos[k.rclaw] - d.xpos[k.lclaw]) / 0.1, 0.0, 1.0)
        if k.scene is not None:
            objs = k.scene.observe(k.refs, d)
        else:
            pos, quat = tasks.object_pose(k.name, k.ids, d)
            objs = jnp.concatenate([pos, quat, jnp.zeros(7)])
        return jnp.concatenate([hand, grip[None], objs]).astype(jnp.float32)

    def _goal_obs(self, k: TaskModel, goal: jax.Array) -> jax.Array:
        if not self.goal_visible:
            return jnp.zeros(3, jnp.float32)
        return jnp.clip(goal, jnp.asarray(k.spec.goal_low), jnp.asarray(k.spec.goal_high)).astype(jnp.float32)

    def _rand_vec(self, k: TaskModel, key: jax.Array, variation: jax.Array) -> jax.Array:
        if self.mode == "fixed":
            return k.rand_vecs[variation]
        # 64 candidates for the MT50 tasks (box-close's rejection rule refuses 66 % of draws; specs_mt50)
        return tasks.sample_rand_vec(key, k.spec, 16 if k.scene is None else 64)

    def _quantities(self, k: TaskModel, d, frame, blk_row: dict, action) -> dict[str, jax.Array]:
        q = {
            "hand_pos": frame[0:3], "tcp_opened": frame[3], "obj_pos": frame[4:7],
            "tcp_center": 0.5 * (d.site_xpos[k.ree] + d.site_xpos[k.lee]),
            "left_pad": d.site_xpos[k.lpad], "right_pad": d.site_xpos[k.rpad],
            "target_pos": blk_row["goal"], "init_tcp": blk_row["init_tcp"], "obj_init_pos": blk_row["obj_init"],
            "hand_init_pos": jnp.asarray(k.spec.hand_init, jnp.float32), "action": action,
        }
        if k.scene is not None:
            q.update(obj_quat=frame[7:11], obj2_pos=frame[11:14], **blk_row["consts"])
            if k.scene.quantities is not None:
                q.update(k.scene.quantities(k.refs, d, q))
            return q
        if k.name == "door-open":
            q["door_angle"] = d.qpos[k.ids.jnt_qpos]
        if k.name == "peg-insert-side":
            q["peg_head_pos"] = d.site_xpos[k.ids.peg_head]
            q.update(rewards.peg_box_corners(blk_row["anchor"]))
        if k.name == "window-open":
            q["window_handle_pos_init"] = blk_row["anchor"] + jnp.array([-0.04, -0.095, 0.0])
        if k.name == "window-close":
            q["window_handle_pos_init"] = blk_row["anchor"] + jnp.array([0.21, -0.095, 0.0])
        return q

    # ------------------------------------------------------------------ blocks
    def _reset_blocks(self, keys: Sequence[jax.Array], variations: Sequence[jax.Array], t0s: Sequence[jax.Array],
                      rand_vecs: Sequence[jax.Array | None] | None = None) -> list[TaskBlock]:
        """Fresh episodes of every task: placements per task, then kinematics per physics group."""
        placed = []
        for i, (k, n) in enumerate(zip(self._tasks, self.task_set.envs_per_task)):
            rv = None if rand_vecs is None else rand_vecs[i]
            if rv is None:
                rv = jax.vmap(functools.partial(self._rand_vec, k))(jax.random.split(keys[i], n), variations[i])
            d, p, body_pos, consts = jax.vmap(k.reset_placed)(rv)  # each [n, ...]
            placed.append((shared_physics.SimState.of(d), p, body_pos, consts))
        datas = self._grouped(mjx.kinematics, [x[0] for x in placed], [x[2] for x in placed], always_placed=True)
        blocks = []
        for i, (k, (_, p, body_pos, consts), d) in enumerate(zip(self._tasks, placed, datas)):
            if k.static_geoms is not None:  # Warp poses world-welded geoms only once: place the fixtures' here
                d = jax.vmap(functools.partial(physics_impl_mod.place_static_geoms, k.static_geoms))(d)
            tcp = 0.5 * (d.site_xpos[:, k.ree] + d.site_xpos[:, k.lee])
            blocks.append(TaskBlock(data=d, goal=p["goal"], obj_init=p["obj_init"], init_tcp=tcp,
                                    anchor=p.get("anchor", p["body"]), body_pos=body_pos,
                                    prev=jax.vmap(functools.partial(self._frame, k))(d), t=t0s[i],
                                    variation=variations[i], consts=consts))
        return blocks

    def _evaluate(self, k: TaskModel, d, prev, goal, obj_init, init_tcp, anchor, consts, t, action):
        frame = self._frame(k, d)
        row = {"goal": goal, "obj_init": obj_init, "init_tcp": init_tcp, "anchor": anchor, "consts": consts}
        q = self._quantities(k, d, frame, row, action)
        if k.scene is not None and k.scene.latch:  # Meta-World computes these at the first reward call and keeps them
            consts = {**consts, **{name: jnp.where(t == 0, fn(q), consts[name]) for name, fn in k.scene.latch.items()}}
            q.update({name: consts[name] for name in k.scene.latch})
        reward, success, info = rewards.REWARD_FNS[k.name](q)
        obs = jnp.concatenate([frame, prev, self._goal_obs(k, goal)])
        return obs, frame, reward.astype(jnp.float32), success.astype(bool), info, consts

    def _finish_block(self, k: TaskModel, blk: TaskBlock, d, action: jax.Array, fresh: TaskBlock):
        obs, frame, reward, success, info, consts = jax.vmap(functools.partial(self._evaluate, k))(
            d, blk.prev, blk.goal, blk.obj_init, blk.init_tcp, blk.anchor, blk.consts, blk.t, action)
        t = blk.t + 1
        # A diverged simulation (NaN, or beyond MuJoCo's mjMAXVAL) ends its episode with reward 0: C MuJoCo resets
        # such data itself (mj_checkPos / mj_checkVel / mj_checkAcc), MJX does not, and one NaN env would
        # otherwise poison the batch's advantages and normalisers. Rare: MJX's elliptic pad cones (docs/deviations.md).
        sane = (jnp.abs(d.qpos) < _MJ_MAXVAL).all(-1) & (jnp.abs(d.qvel) < _MJ_MAXVAL).all(-1)
        done = (t >= self.episode_length) | ~sane
        reward, success = jnp.where(sane, reward, 0.0), success & sane
        info = envs.where_done(~sane, jax.tree.map(jnp.zeros_like, info), info)
        stepped = TaskBlock(data=d, goal=blk.goal, obj_init=blk.obj_init, init_tcp=blk.init_tcp,
                            anchor=blk.anchor, body_pos=blk.body_pos, prev=frame, t=t, variation=blk.variation,
                            consts=consts)
        nxt = envs.where_done(done, fresh, stepped)
        reset_obs = jnp.concatenate([fresh.prev, fresh.prev, jax.vmap(functools.partial(self._goal_obs, k))(
            fresh.goal)], axis=-1)
        obs = jnp.where(done[:, None], reset_obs, obs)
        return nxt, obs, reward, success, done, info

    # ------------------------------------------------------------------ protocol
    def reset(self, key: jax.Array) -> envs.EnvState:
        return self.reset_from(key, None)

    def reset_from(self, key: jax.Array, rand_vecs: Sequence[jax.Array] | None) -> envs.EnvState:
        """Resets every env, placing objects and goals from given task parameters.

        Args:
          key: PRNG key (random init steps; later auto-resets draw as ``mode`` says).
          rand_vecs: one ``[n_k, D_k]`` array per task of ``task_set`` (``n_k`` its env count): Meta-World's
            per-episode task-variation vector (``env._last_rand_vec``; ``D = 3`` for door, drawer, button and
            window tasks, 6 for reach, push, pick-place and peg-insert-side: object then goal/fixture position).
            ``None`` draws them as ``reset`` does.

        Returns:
          The initial ``EnvState``. Only the first episode uses ``rand_vecs``.

        Example::

            rv = (jnp.array([[0.0, 0.9, 0.0]] * 4),)       # drawer-close, 4 envs, drawer at (0, 0.9, 0)
            state = env.reset_from(jax.random.key(0), rv)
        """
        key, k_step, *k_blocks = jax.random.split(key, 2 + self.num_tasks)
        if rand_vecs is not None and len(rand_vecs) != self.num_tasks:
            raise ValueError(f"rand_vecs needs one array per task ({self.num_tasks}), got {len(rand_vecs)}")
        t0s, rvs, variations = [], [], []
        for i, (k, n) in enumerate(zip(self._tasks, self.task_set.envs_per_task)):
            if self.random_init_step:
                t0s.append(jax.random.randint(jax.random.fold_in(k_step, i), (n,), 0, self.episode_length))
            else:
                t0s.append(jnp.zeros((n,), jnp.int32))
            rv = None
            if rand_vecs is not None:
                rv = jnp.asarray(rand_vecs[i], jnp.float32)
                want = (n, len(k.spec.rand_low))
                if rv.shape != want:
                    raise ValueError(f"rand_vecs[{i}] ({k.name}) must have shape {want}, got {rv.shape}")
            rvs.append(rv)
            variations.append(jnp.arange(n, dtype=jnp.int32) % k.rand_vecs.shape[0])
        blocks = self._reset_blocks(k_blocks, variations, t0s, rvs)
        obs = [jnp.concatenate([b.prev, b.prev, jax.vmap(functools.partial(self._goal_obs, k))(b.goal)], axis=-1)
               for k, b in zip(self._tasks, blocks)]
        n = self.task_set.num_envs
        zeros, falses = jnp.zeros((n,), jnp.float32), jnp.zeros((n,), bool)
        info = {"success": falses, "progress": zeros, **{f: zeros for f in rewards.INFO_KEYS if f != "progress"},
                "episode_return": zeros, "episode_length": jnp.zeros((n,), jnp.int32),
                "episode_success": falses, "episode_progress": zeros}
        return envs.EnvState(obs=self._with_one_hot(obs), reward=zeros, done=falses, truncated=falses,
                             task_id=self._task_id, info=info, sim=tuple(blocks),
                             episode=envs.init_episode_stats(n), key=key)

    def step(self, state: envs.EnvState, action: jax.Array) -> envs.EnvState:
        """Advances every env by one control step; ``action`` is ``[N, 4]``."""
        key, *k_blocks = jax.random.split(state.key, 1 + self.num_tasks)
        actions = [action[off:off + n] for off, n in zip(self.task_set.offsets, self.task_set.envs_per_task)]
        datas = self._physics(state.sim, actions)
        fresh = self._reset_blocks(k_blocks, [b.variation for b in state.sim], [jnp.zeros_like(b.t) for b in state.sim])
        blocks, outs = [], []
        for i, k in enumerate(self._tasks):
            blk, *out = self._finish_block(k, state.sim[i], datas[i], actions[i], fresh[i])
            blocks.append(blk)
            outs.append(out)
        obs, reward, success, done, info = (list(x) for x in zip(*outs))
        info = {f: jnp.concatenate([x[f] for x in info]).astype(jnp.float32) for f in rewards.INFO_KEYS}
        reward = jnp.concatenate(reward) * self.reward_scale
        success, done = jnp.concatenate(success), jnp.concatenate(done)
        progress = info["progress"]
        stats, finished = envs.update_episode_stats(state.episode, reward, success, progress, done)
        info = {**info, "success": success, "progress": progress, **finished}
        return envs.EnvState(obs=self._with_one_hot(obs), reward=reward, done=done, truncated=done,
                             task_id=self._task_id, info=info, sim=tuple(blocks), episode=stats, key=key)

    def inspect(self, state: envs.EnvState) -> dict[str, jax.Array]:
        """Simulator quantities of every env, for parity checks and debugging (task-major, ``[N, ...]``).

        Returns:
          dict with ``hand`` [N, 3] (hand body position, unclipped), ``tcp`` [N, 3] (fingertip midpoint, the
          rewards' ``tcp_center``), ``mocap`` [N, 3] (the hand's mocap target), ``init_tcp`` [N, 3],
          ``obj_pos`` [N, 3] (the observation's object slot), ``joint_q`` [N] (the task joint: door, drawer,
          button, window; 0 for tasks without one).
        """
        out: dict[str, list] = {k: [] for k in ("hand", "tcp", "mocap", "init_tcp", "obj_pos", "joint_q")}
        for k, blk in zip(self._tasks, state.sim):
            d = blk.data
            out["hand"].append(d.xpos[:, k.hand])
            out["tcp"].append(0.5 * (d.site_xpos[:, k.ree] + d.site_xpos[:, k.lee]))
            out["mocap"].append(d.mocap_pos[:, k.hand_mocap])
            out["init_tcp"].append(blk.init_tcp)
            out["obj_pos"].append(blk.prev[:, 4:7])
            q = d.qpos[:, k.ids.jnt_qpos] if k.ids.jnt_qpos >= 0 else jnp.zeros(d.qpos.shape[:1])
            out["joint_q"].append(q)
        return {name: jnp.concatenate(v) for name, v in out.items()}

    def _with_one_hot(self, obs: Sequence[jax.Array]) -> jax.Array:
        return jnp.concatenate([jnp.concatenate(obs), self._one_hot], axis=-1)
