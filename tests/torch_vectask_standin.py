"""The stand-in for IsaacGym in tests: a small vectorised torch env that follows MTBench's VecTask interface.

IsaacGym Preview 4 cannot be installed here (an NVIDIA download, CPython <= 3.8), so the bridge is tested
against this class, which reproduces the *interface and timing* of MTBench's ``FrankaBaseEnvV2`` (Joshi et al., 2025,
arXiv 2507.23172), not its physics:

* ``make(seed, task, num_envs, sim_device, rl_device, graphics_device_id, headless, multi_gpu,
  virtual_screen_capture, force_render, cfg)`` mirrors ``isaacgymenvs.make``; ``cfg.task["env"]`` holds
  ``numEnvs``, ``tasks`` (MTBench task ids), ``taskEnvCount``, ``episodeLength``, ``reward_scale``,
  ``termination_on_success``, ``taskEmbedding``, ``clipObservations``, ``clipActions``.
* buffers ``obs_buf [N, 39+K]``, ``rew_buf [N]`` (written **in place** every step), ``reset_buf``,
  ``progress_buf``, ``success_buf``; ``extras`` with ``task_indices`` (contiguous 0..K-1), ``ordered_task_names``,
  ``time_outs`` and, on steps where envs finish, ``episode`` statistics keyed ``task_{tid}_*``.
* ``reset()`` returns ``obs_dict`` with an all-zero observation (as MTBench's); ``step(actions)`` clamps
  actions, applies them, increments ``progress``, resets lazily the envs flagged at the *previous* step
  (MTBench's lazy reset), computes obs then reward/success, sets ``reset_buf = progress >= max_len - 1``, scales rewards by
  ``reward_scale`` except on success steps, and returns ``(obs_dict, rew_buf, reset_buf, extras)``.

Physics: a point "end effector" moved by ``0.01 * a[:3]`` per step must reach a per-env goal; the observation
slots follow MTBench's layout (eef 0:3, openness 3, object 4:18, previous frame 18:36, goal 36:39, one-hot).
``interleave=True`` in ``cfg.task["env"]`` lays tasks out round-robin instead of task-major (to test sorting).
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import torch

TASK_IDX_TO_NAME = {4: "button_press_topdown", 16: "door_open", 17: "drawer_close", 18: "drawer_open",
                    28: "peg_insert_side", 31: "pick_place", 38: "push", 40: "reach", 48: "window_close",
                    49: "window_open"}


class PointVecTask:
    """MTBench-VecTask-shaped point-reaching env (see module docstring). Torch only."""

    def __init__(self, cfg, rl_device, sim_device, graphics_device_id, headless, virtual_screen_capture=False,
                 force_render=False):
        self.cfg = cfg
        env = cfg["env"]
        self.device = sim_device
        self.rl_device = rl_device
        self.num_envs = int(env["numEnvs"])
        self.task_idx = list(env["tasks"])
        self.task_env_count = list(env["taskEnvCount"])
        assert sum(self.task_env_count) == self.num_envs, "Sum of taskEnvCount should be equal to num_envs"
        self.max_episode_length = int(env.get("episodeLength", 150))
        self.reward_scale = float(env.get("reward_scale", 1.0))
        self.termination_on_success = bool(env.get("termination_on_success", False))
        self.clip_obs = float(env.get("clipObservations", 5.0))
        self.clip_actions = float(env.get("clipActions", 1.0))
        self.action_scale = float(env.get("actionScale", 0.01))
        self.num_tasks = len(self.task_idx)
        self.num_obs = self.num_observations = 39 + (len(set(self.task_idx)) if env.get("taskEmbedding", True) else 0)
        self.num_actions = 4
        self.num_states = 0
        g = torch.Generator().manual_seed(int(env.get("seed", 0)))
        self._gen = g
        ids = []
        for tid, count in zip(self.task_idx, self.task_env_count):
            ids.extend([tid] * count)
        ids = torch.tensor(ids)
        if env.get("interleave", False):
            order = torch.argsort(torch.arange(self.num_envs) % self.num_tasks, stable=True)
            inv = torch.empty_like(order)
            inv[order] = torch.arange(self.num_envs)
            ids = ids[inv]
        self.task_indices = ids.to(self.device)
        uniq = torch.unique(self.task_indices)
        remap = {int(t): i for i, t in enumerate(uniq)}
        contiguous = torch.tensor([remap[int(t)] for t in self.task_indices], device=self.device)
        self.task_embedding = torch.nn.functional.one_hot(contiguous, len(uniq)).float()
        # per-task goal offsets (data, not branches)
        angles = 2 * torch.pi * contiguous.float() / len(uniq)
        self.goal_dir = torch.stack([torch.cos(angles), torch.sin(angles), torch.zeros_like(angles)], -1)
        self.obs_buf = torch.zeros((self.num_envs, self.num_obs), device=self.device)
        self.rew_buf = torch.zeros(self.num_envs, device=self.device)
        self.reset_buf = torch.ones(self.num_envs, device=self.device, dtype=torch.long)
        self.timeout_buf = torch.zeros(self.num_envs, device=self.device, dtype=torch.long)
        self.progress_buf = torch.zeros(self.num_envs, device=self.device, dtype=torch.long)
        self.success_buf = torch.zeros(self.num_envs, device=self.device, dtype=torch.bool)
        self.eef = torch.zeros((self.num_envs, 3), device=self.device)
        self.target_pos = torch.zeros((self.num_envs, 3), device=self.device)
        self.actions = torch.zeros((self.num_envs, 4), device=self.device)
        self.obs_dict = {}
        self.extras = {"task_indices": contiguous,
                       "ordered_task_names": [TASK_IDX_TO_NAME.get(int(t), f"task_{int(t)}").replace("_", "-")
                                              for t in uniq]}
        self.cumulatives = defaultdict(lambda: torch.zeros(self.num_envs, device=self.device))
        self.control_steps = 0
        self.reset_idx(torch.arange(self.num_envs, device=self.device))

    # --------------------------------------------------------------------------------- VecTask API
    def reset_idx(self, env_ids):
        n = len(env_ids)
        noise = (torch.rand((n, 3), generator=self._gen) - 0.5) * 0.1
        self.eef[env_ids] = noise.to(self.device)
        self.target_pos[env_ids] = 0.1 * self.goal_dir[env_ids]
        self.progress_buf[env_ids] = 0
        self.reset_buf[env_ids] = 0
        self.success_buf[env_ids] = False

    def reset(self):
        self.obs_dict["obs"] = torch.clamp(self.obs_buf, -self.clip_obs, self.clip_obs).to(self.rl_device)
        return self.obs_dict

    def pre_physics_step(self, actions):
        self.actions = actions.clone().to(self.device)
        self.eef += self.action_scale * self.actions[:, :3]

    def compute_observations(self):
        openness = torch.clamp(0.5 + 0.5 * self.actions[:, 3:4], 0.0, 1.0)
        obj = torch.zeros((self.num_envs, 14), device=self.device)
        obj[:, 0:3] = self.target_pos
        obj[:, 6] = 1.0  # quaternion w
        prev = self.obs_buf[:, 0:18].clone()
        frame = torch.cat([self.eef, openness, obj], -1)
        self.obs_buf = torch.cat([frame, prev, self.target_pos, self.task_embedding], -1)

    def compute_reward(self):
        dist = torch.norm(self.eef - self.target_pos, dim=-1)
        self.success_buf[:] = dist < 0.05
        self.rew_buf[:] = -dist  # in place, like MTBench's rew_buf[ids] = ...
        self.rew_buf[self.success_buf] = 10.0
        if self.termination_on_success:
            self.reset_buf = (self.progress_buf >= self.max_episode_length - 1) | self.success_buf
        else:
            self.reset_buf = self.progress_buf >= self.max_episode_length - 1
        scale = torch.ones_like(self.rew_buf) * self.reward_scale
        scale[self.success_buf] = 1.0
        self.rew_buf *= scale

    def post_physics_step(self):
        self.progress_buf += 1
        env_ids = self.reset_buf.nonzero(as_tuple=False).squeeze(-1)
        if len(env_ids) > 0:
            self.reset_idx(env_ids)
        self.compute_observations()
        self.compute_reward()
        self.cumulatives["reward"] += self.rew_buf
        self.cumulatives["success"] += self.success_buf
        env_ids = self.reset_buf.nonzero(as_tuple=False).squeeze(-1)
        if len(env_ids) > 0:
            ep = {"success": self.cumulatives["success"].clone() > 0}
            for tid in self.task_idx:
                done_t = torch.logical_and(self.task_indices == tid, self.reset_buf).nonzero().squeeze(-1)
                ep[f"task_{tid}_reward"] = self.cumulatives["reward"][done_t].clone()
                ep[f"task_{tid}_success"] = self.cumulatives["success"][done_t].clone() > 0
                ep[f"task_{tid}_eplength"] = self.progress_buf[done_t].clone()
            self.extras["episode"] = ep
            self.cumulatives["reward"][env_ids] = 0
            self.cumulatives["success"][env_ids] = 0

    def step(self, actions):
        action_tensor = torch.clamp(actions, -self.clip_actions, self.clip_actions)
        self.pre_physics_step(action_tensor)
        self.post_physics_step()
        self.control_steps += 1
        self.timeout_buf = (self.progress_buf >= self.max_episode_length - 1) & (self.reset_buf != 0)
        self.extras["time_outs"] = self.timeout_buf.to(self.rl_device)
        self.obs_dict["obs"] = torch.clamp(self.obs_buf, -self.clip_obs, self.clip_obs).to(self.rl_device)
        return self.obs_dict, self.rew_buf.to(self.rl_device), self.reset_buf.to(self.rl_device), self.extras


def make(seed, task, num_envs, sim_device, rl_device, graphics_device_id=-1, headless=False, multi_gpu=False,
         virtual_screen_capture=False, force_render=True, cfg=None):
    """Mirrors ``isaacgymenvs.make``: ``cfg.task`` (a dict, as ``omegaconf_to_dict`` gives) configures the env."""
    if cfg is None:
        cfg = SimpleNamespace(task={"name": task, "env": {"numEnvs": num_envs, "tasks": [40],
                                                          "taskEnvCount": [num_envs]}})
    task_cfg = cfg.task
    task_cfg["env"].setdefault("seed", seed)
    return PointVecTask(task_cfg, rl_device, sim_device, graphics_device_id, headless, virtual_screen_capture,
                        force_render)


def compose(overrides):
    """Parses the Hydra-style overrides the adapter produces into the config ``make`` expects (test helper)."""
    kv = dict(o.split("=", 1) for o in overrides)

    def ints(s):
        return [int(x) for x in s.strip("[]").split(",") if x]

    env = {"numEnvs": int(kv["num_envs"]), "tasks": ints(kv["task_id"]), "taskEnvCount": ints(kv["task_counts"]),
           "reward_scale": float(kv.get("reward_scale", 1.0)),
           "termination_on_success": kv.get("termination_on_success", "False") == "True",
           "seed": int(kv.get("seed", 0)), "episodeLength": int(kv.get("task.env.episodeLength", 150)),
           "interleave": kv.get("+task.env.interleave", "False") == "True"}
    return SimpleNamespace(task={"name": kv["task"], "env": env}, overrides=list(overrides))
