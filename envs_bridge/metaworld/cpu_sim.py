"""One Meta-World task stepped by C MuJoCo on the host, with the env's own reset, observation and reward code.

For CPU checks of scenes (the CI tests and the authoring of the MT50 scenes): an MJX step program costs 30-60 s of
XLA compile per task on a 2-core CPU (the forty MT50 tasks outside MT10 would take over half an hour), while C
MuJoCo steps the same MJCF model with no compile. ``CpuRollout`` runs ``E`` episodes of one task in lockstep:

* reset: the env's own placement (``TaskModel.reset_placed``: objects, joints, hand, fixtures), jitted and
  vmapped, copied into one ``MjData`` per episode (the fixture positions into the episode's own ``MjModel``), then
  C MuJoCo's kinematics and the env's observation code;
* step: the env's control (``MetaWorldEnv.control``: mocap target moved by ``action_scale * a[:3]``, clipped to the
  task's bounds; finger targets ``(a3, -a3)``), then ``frame_skip`` calls of ``mujoco.mj_step`` per episode;
* observation, reward quantities, reward and success: the env's own ``_evaluate``, jitted and vmapped, on an
  ``SimState`` view of the C state (positions, orientations, velocities and the active contacts);
* ``observe`` / ``quantities``: the same observation / reward-quantity code on the current C state, for checks that
  move bodies or call ``mujoco.mj_step`` on ``datas[i]`` themselves.

So the scene, the placements and the env's observation/reward code are the ones the MJX env runs; only the
physics step is C MuJoCo's. ``tests/test_metaworld_cpu_sim.py`` checks the two against each other on MT10 tasks.
"""

from __future__ import annotations

import copy
import functools

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from envs_bridge.metaworld import shared_physics, tasks
from envs_bridge.metaworld.env import MetaWorldEnv
from mtjax import envs

__all__ = ["CpuRollout", "replay_actions", "run_policy"]

_FIELDS = ("qpos", "qvel", "xpos", "xquat", "site_xpos", "geom_xpos", "mocap_pos")
_MATS = ("xmat", "site_xmat", "geom_xmat")


class CpuRollout:
    """``episodes`` episodes of one task, physics by C MuJoCo, everything else by ``MetaWorldEnv``'s code.

    Attributes:
      env: the one-task ``MetaWorldEnv`` whose code and options (``frame_skip``, ``hand``, ...) are used.
      task: the ``TaskModel`` of the task.
      models, datas: one ``MjModel`` (own fixture positions) and ``MjData`` per episode.
    """

    def __init__(self, task: str, episodes: int, **env_kwargs):
        self.env = MetaWorldEnv(envs.TaskSet((task,), (episodes,)), episode_length=2**30, **env_kwargs)
        self.task = k = self.env.task(task)
        self.n = episodes
        self.models = [copy.deepcopy(k.mj) for _ in range(episodes)]
        self.datas = [mujoco.MjData(m) for m in self.models]
        self._slots = k.contact_slots
        self._body_pos32 = np.asarray(k.body_pos)  # bodies the reset leaves here keep the model's float64 positions
        self._place, self._observe, self._evaluate, self._quantities = map(
            self._jit, (self._place_one, self._observe_one, self._evaluate_one, self._quantities_one))
        self._row = None

    def reset(self, rand_vecs: np.ndarray) -> np.ndarray:
        """Starts every episode from its Meta-World variation vector (``[E, D]``); returns the observation
        ``[E, 39]`` (no task one-hot)."""
        rv = jnp.asarray(rand_vecs, jnp.float32)
        if rv.shape[0] != self.n:
            raise ValueError(f"rand_vecs must have {self.n} rows, got {rv.shape[0]}")
        placed = jax.tree.map(np.asarray, self._place(rv))
        for i, (m, dc) in enumerate(zip(self.models, self.datas)):
            mujoco.mj_resetData(m, dc)
            bp = placed["body_pos"][i]
            m.body_pos[:] = np.where(bp != self._body_pos32, bp, self.task.mj.body_pos)
            for f in ("qpos", "qvel", "mocap_pos", "ctrl"):
                getattr(dc, f)[:] = placed[f][i]
            mujoco.mj_kinematics(m, dc)
        frame, tcp = self._observe(self._state())
        goal, obj_init, anchor, consts = (placed[f] for f in ("goal", "obj_init", "anchor", "consts"))
        self._row = {"goal": goal, "obj_init": obj_init, "init_tcp": tcp, "anchor": anchor, "consts": consts,
                     "prev": frame, "t": jnp.zeros((self.n,), jnp.int32)}
        return np.asarray(jnp.concatenate([frame, frame, placed["goal_obs"]], axis=-1))

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """One control step of every episode. Returns ``(obs [E, 39], reward [E], success [E], info)``."""
        if self._row is None:
            raise RuntimeError("call reset() before step()")
        k, a = self.task, np.asarray(actions, np.float64)
        targets, ctrls = self.env.control(k, np.stack([d.mocap_pos[k.hand_mocap] for d in self.datas]), a, xp=np)
        for m, d, target, ctrl in zip(self.models, self.datas, targets, ctrls):
            d.mocap_pos[k.hand_mocap], d.ctrl[:] = target, ctrl
            mujoco.mj_step(m, d, nstep=self.env.frame_skip)
            if self.env.refresh_poses:
                mujoco.mj_kinematics(m, d)
        r = self._row
        obs, frame, reward, success, info, consts = self._evaluate(
            self._state(), r["prev"], r["goal"], r["obj_init"], r["init_tcp"], r["anchor"], r["consts"], r["t"],
            jnp.asarray(actions, jnp.float32))
        self._row = {**r, "prev": frame, "consts": consts, "t": r["t"] + 1}
        return np.asarray(obs), np.asarray(reward), np.asarray(success), {f: np.asarray(v) for f, v in info.items()}

    def observe(self) -> np.ndarray:
        """Observation values 0-17 (``[E, 18]``) of the current C state of every episode, e.g. after a caller moved
        bodies or called ``mujoco.mj_step`` on ``datas[i]`` itself (forward its kinematics first)."""
        return np.asarray(self._observe(self._state())[0])

    def quantities(self) -> dict[str, np.ndarray]:
        """The env's reward quantities (``MetaWorldEnv._quantities``, the scene's own included; ``[E, ...]`` each)
        of the current C state of every episode, with a zero action and the latched values as they stand."""
        if self._row is None:
            raise RuntimeError("call reset() before quantities()")
        r = self._row
        q = self._quantities(self._state(), {f: r[f] for f in ("goal", "obj_init", "init_tcp", "anchor", "consts")})
        return {f: np.asarray(v) for f, v in q.items()}

    def _jit(self, f):
        """``f`` vmapped over the episodes, jitted. The compile is most of its cost (tests call these a few hundred
        times per task): one episode runs unbatched inside (~30 % less compile), and LLVM does not optimise (-18 %
        compile, the same run time)."""
        jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})
        if self.n > 1:
            return jit(jax.vmap(f))
        return jit(lambda *a: jax.tree.map(lambda y: y[None], f(*jax.tree.map(lambda y: y[0], a))))

    def _state(self) -> dict[str, jax.Array]:
        """The C state the env's evaluation reads, batched over the episodes (contacts padded to the MJX slots)."""
        out = {f: np.stack([getattr(d, f) for d in self.datas]) for f in _FIELDS}
        out.update({f: np.stack([getattr(d, f).reshape(-1, 3, 3) for d in self.datas]) for f in _MATS})
        g1 = np.full((self.n, self._slots), -1, np.int32)
        g2, dist = g1.copy(), np.ones((self.n, self._slots), np.float32)
        for i, d in enumerate(self.datas):
            c = min(d.ncon, self._slots)
            g1[i, :c], g2[i, :c], dist[i, :c] = d.contact.geom1[:c], d.contact.geom2[:c], d.contact.dist[:c]
        out.update(geom1=g1, geom2=g2, dist=dist)
        return out

    def _view(self, s):
        """The env's carried state (``shared_physics.SimState``) holding the C state's fields and contacts (the rest:
        the task's template), as the env's evaluation reads it after an MJX step."""
        tpl = shared_physics.SimState.of(self.task.template)
        return tpl.replace(**{f: s[f].astype(getattr(tpl, f).dtype) for f in _FIELDS + _MATS},
                           contact_geom1=s["geom1"], contact_geom2=s["geom2"], contact_dist=s["dist"])

    def _place_one(self, rv):
        """The env's reset placement of one episode (``TaskModel.reset_placed``), before kinematics."""
        d, p, body_pos, consts = self.task.reset_placed(rv)
        return {"qpos": d.qpos, "qvel": d.qvel, "mocap_pos": d.mocap_pos, "ctrl": d.ctrl, "body_pos": body_pos,
                "goal": p["goal"], "obj_init": p["obj_init"], "anchor": p.get("anchor", p["body"]), "consts": consts,
                "goal_obs": self.env._goal_obs(self.task, p["goal"])}

    def _observe_one(self, s):
        """Observation values 0-17 and the tcp of the C state."""
        d, k = self._view(s), self.task
        return self.env._frame(k, d), 0.5 * (d.site_xpos[k.ree] + d.site_xpos[k.lee])

    def _quantities_one(self, s, row):
        d, k = self._view(s), self.task
        return self.env._quantities(k, d, self.env._frame(k, d), row, jnp.zeros(4, jnp.float32))

    def _evaluate_one(self, s, prev, goal, obj_init, init_tcp, anchor, consts, t, action):
        d = self._view(s)
        return self.env._evaluate(self.task, d, prev, goal, obj_init, init_tcp, anchor, consts, t, action)

    def inspect(self) -> dict[str, np.ndarray]:
        """Hand, tcp, mocap and the task joint of every episode (``MetaWorldEnv.inspect``'s fields, from C)."""
        k = self.task
        tcp = np.stack([0.5 * (d.site_xpos[k.ree] + d.site_xpos[k.lee]) for d in self.datas])
        jq = np.array([d.qpos[k.ids.jnt_qpos] if k.ids.jnt_qpos >= 0 else 0.0 for d in self.datas])
        return {"hand": np.stack([d.xpos[k.hand] for d in self.datas]), "tcp": tcp,
                "mocap": np.stack([d.mocap_pos[k.hand_mocap] for d in self.datas]), "joint_q": jq}


def run_policy(act, task: str, tid: int, num_tasks: int, episodes: int, steps: int = 150, **env_kwargs) -> dict:
    """A trained multi-task policy closed loop on one task in C MuJoCo, from its first ``episodes`` seeded variations
    (``tasks.load_rand_vecs``): ``act(obs with the task one-hot [E, 39 + num_tasks], task ids [E]) -> actions``
    (e.g. ``experiments.common.deterministic_policy``), actions clipped to [-1, 1]. Returns ``{"success": the share
    of episodes whose success flag was ever on, "final_dq": mean |task joint at the end - at the start|}``
    (``scripts/policy_in_cpu_scenes.py``, ``tests/test_metaworld_arm.py``)."""
    cpu = CpuRollout(task, episodes, **env_kwargs)
    one_hot = np.zeros((episodes, num_tasks), np.float32)
    one_hot[:, tid] = 1.0
    o = cpu.reset(tasks.load_rand_vecs(task)[:episodes])
    succ, q = [], []
    for _ in range(steps):
        a = np.clip(np.asarray(act(jnp.asarray(np.concatenate([o, one_hot], -1)), jnp.full((episodes,), tid))), -1, 1)
        o, _r, s, _info = cpu.step(a)
        succ.append(s)
        q.append(cpu.inspect()["joint_q"])
    succ, q = np.asarray(succ), np.asarray(q)
    return {"success": float((succ.max(0) > 0).mean()), "final_dq": float(np.abs(q[-1] - q[0]).mean())}


def replay_actions(cpu: CpuRollout, rand_vecs: np.ndarray, actions: np.ndarray) -> dict[str, np.ndarray]:
    """Recorded actions ``[E, T, 4]`` replayed open loop from the variations ``rand_vecs`` (e.g. a real closed loop
    recorded by ``scripts/policy_in_metaworld.py --traces``): ``{"success": [E, T], "hand": [E, T, 3] (obs[0:3]),
    "q": [E, T] (the task joint)}`` after every step (``tests/test_metaworld_arm.py``,
    ``scripts/metaworld_version_floor.py``)."""
    cpu.reset(rand_vecs)
    succ, hand, q = [], [], []
    for t in range(actions.shape[1]):
        o, _r, s, _info = cpu.step(actions[:, t])
        succ.append(s)
        hand.append(o[:, :3])
        q.append(cpu.inspect()["joint_q"])
    return {"success": np.asarray(succ).T, "hand": np.stack(hand, 1), "q": np.asarray(q).T}
