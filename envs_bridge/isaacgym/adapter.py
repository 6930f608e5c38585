"""Adapter from MTBench's IsaacGym VecTask environments to our ``EnvState`` protocol. **Not jittable.**

MTBench (Joshi et al., 2025, arXiv 2507.23172) runs Meta-World-on-Franka (MT10/MT50) and Go1 parkour in
IsaacGym Preview 4 with torch tensors; its ``VecTask.step(actions)`` returns ``(obs_dict, rew_buf, reset_buf,
extras)``. ``VecTaskAdapter`` wraps such an object behind the
``mtjax.envs.Env``-style ``reset(key)``/``step(state, action)`` calls; both are host calls (the simulator
steps in torch), so a trainer must drive it from a Python loop (``mtjax.algos.host_loop``).

Per step: the JAX action is exported to torch without a copy (``dlpack.jax_to_torch``; the tensor is kept
alive until the next step so torch's stream never reads a freed buffer), the simulator steps, and obs, reward,
reset flag, time-out flag, success and progress are packed by one ``torch.cat`` into a *fresh* buffer that JAX
then aliases (one DLPack import per step). That ``cat`` is the copy policy of ``envs_bridge.dlpack`` RULE 2:
``rew_buf``/``obs_buf`` are overwritten in place by the next step, the packed buffer never is. A jitted
function splits it and updates the episode accumulators (``envs.update_episode_stats``).

Mapping to ``EnvState``: ``task_id`` = ``extras["task_indices"]`` (MTBench's contiguous 0..K-1 index = rank of
the task id, the same as our task order since ids are sorted); ``done = reset_buf != 0``; ``truncated =
extras["time_outs"]``; ``info["success"]`` = the env's ``success_buf`` (Meta-World; per step) and
``info["progress"]`` = success as float for Meta-World, ``cur_goal_idx / num_goals`` for Go1 when the env
exposes them; the episode statistics are accumulated here (MTBench's "success at any step of the episode",
at any step of the episode). If the env's task layout is not task-major, envs are permuted into task-major order and actions
back. Timing caveat: MTBench resets lazily, so the observation returned with ``done`` is the
terminal one and the next action is spent on it before the reset; we keep that behaviour (it is the
simulator's) and document it rather than hide it.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from envs_bridge import dlpack
from envs_bridge.isaacgym import fast_step, ipc_server
from envs_bridge.isaacgym import tasks as ig_tasks
from mtjax import envs

__all__ = [
    "INSTALL_HELP",
    "IsaacGymConfig",
    "VecTaskAdapter",
    "hydra_overrides",
    "import_isaacgymenvs",
    "make_finish",
    "make_isaacgym_env",
    "warn_if_preallocating",
]

INSTALL_HELP = """IsaacGym / MTBench's isaacgymenvs is not importable in this Python ({py}).
To use --config.env_backend=isaacgym:
  1. IsaacGym Preview 4 supports CPython 3.6-3.8 only. Create such an environment, e.g.
       conda create -n mtbench python=3.8 && conda activate mtbench
  2. Download IsaacGym Preview 4 from https://developer.nvidia.com/isaac-gym (NVIDIA licence), then
       cd isaacgym/python && pip install -e .
  3. git clone https://github.com/Viraj-Joshi/MTBench && cd MTBench && pip install -e .
     (installs isaacgymenvs with the Meta-World and Go1 tasks, rl_games, skrl, hydra-core)
  4. In Python 3.8 the newest JAX is 0.4.13: pip install "jax[cuda12_pip]==0.4.13" -f
     https://storage.googleapis.com/jax-releases/jax_cuda_releases.html (the legacy DLPack path is used), or
     keep a modern JAX in another Python and use the out-of-process bridge (envs_bridge.isaacgym.ipc).
  5. export XLA_PYTHON_CLIENT_PREALLOCATE=false (else JAX takes 75% of GPU memory and PhysX fails).
Import error: {err}"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class IsaacGymConfig:
    """How to build an MTBench IsaacGym environment.

    Attributes:
      suite: "mt10", "mt50", "metaworld" (explicit ``task_names``), "go1_easy", "go1_hard", "go1_hard_cl".
      task_names: subset of the suite's tasks (our names; MTBench ids are looked up). Empty: the suite's set.
      num_envs: total envs. task_counts: envs per task (Meta-World; default MTBench's even split).
      seed: env seed. sim_device / rl_device: torch devices ("cuda:0"). graphics_device_id: -1 for none.
      fixed: MTBench "fixed" (True) or "-rand" (False, all reported runs).
      reward_scale: 100 for Meta-World PPO, 1 for Go1. termination_on_success: False in all reported runs.
      init_at_random_progress: MTBench's flag (overwritten by its initial reset for Meta-World).
      episode_length: override of ``task.env.episodeLength`` (0 keeps the YAML's 150).
      overrides: extra Hydra overrides passed verbatim.
      repair_reset_onehot: write the task one-hot into the all-zero observation MTBench's reset() returns.
    """

    suite: str = "mt10"
    task_names: tuple[str, ...] = ()
    num_envs: int = 4096
    task_counts: tuple[int, ...] = ()
    seed: int = 0
    sim_device: str = "cuda:0"
    rl_device: str = "cuda:0"
    graphics_device_id: int = 0
    fixed: bool = False
    reward_scale: float = 100.0
    termination_on_success: bool = False
    init_at_random_progress: bool = True
    episode_length: int = 0
    overrides: tuple[str, ...] = ()
    repair_reset_onehot: bool = True


def hydra_overrides(cfg: IsaacGymConfig) -> tuple[list[str], tuple[str, ...]]:
    """MTBench Hydra overrides (``isaacgymenvs/cfg/config.yaml`` keys) and our task names, in task order."""
    ids, names = ig_tasks.task_ids_for(cfg.suite, cfg.task_names)
    hydra_task = ig_tasks.SUITES[cfg.suite][0]
    counts = cfg.task_counts or envs.TaskSet.even(names, cfg.num_envs).envs_per_task
    if len(counts) != len(ids) or sum(counts) != cfg.num_envs:
        raise ValueError(f"task_counts {counts} must have {len(ids)} entries summing to num_envs={cfg.num_envs}")
    ov = [f"task={hydra_task}", "train=meta-world-v2PPO", f"num_envs={cfg.num_envs}",
          f"task_id=[{','.join(map(str, ids))}]", f"task_counts=[{','.join(map(str, counts))}]",
          f"seed={cfg.seed}", f"fixed={cfg.fixed}", f"reward_scale={cfg.reward_scale}",
          f"termination_on_success={cfg.termination_on_success}",
          f"init_at_random_progress={cfg.init_at_random_progress}", f"sim_device={cfg.sim_device}",
          f"rl_device={cfg.rl_device}", f"graphics_device_id={cfg.graphics_device_id}", "headless=True"]
    if cfg.sim_device == "cpu":
        ov.append("pipeline=cpu")  # MTBench derives use_gpu_pipeline from this key
    if cfg.episode_length:
        if hydra_task != "meta-world-v2":
            raise ValueError(f"episode_length applies to the Meta-World suites; {cfg.suite!r} sets its episode "
                             "in seconds: pass overrides=('task.env.episode_length_s=...',) and episode_length=0")
        ov.append(f"task.env.episodeLength={cfg.episode_length}")
    return ov + list(cfg.overrides), names


def import_isaacgymenvs():
    """Imports ``isaacgym`` (which must precede torch) and ``isaacgymenvs``; clear error if missing."""
    try:  # IsaacGym refuses to load after torch ("PyTorch was imported before isaacgym"); import us first.
        importlib.import_module("isaacgym")
        return importlib.import_module("isaacgymenvs")
    except ImportError as e:
        raise ImportError(INSTALL_HELP.format(py=sys.version.split()[0], err=e)) from e


def warn_if_preallocating() -> bool:
    """Warns (and returns True) when JAX on a GPU would preallocate 75 % of its memory next to PhysX/torch."""
    if os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "").lower() == "false" or \
            "XLA_PYTHON_CLIENT_MEM_FRACTION" in os.environ or "XLA_PYTHON_CLIENT_ALLOCATOR" in os.environ:
        return False
    if jax.default_backend() != "gpu":
        return False
    warnings.warn("JAX preallocates 75% of GPU memory by default, starving IsaacGym/torch: set "
                  "XLA_PYTHON_CLIENT_PREALLOCATE=false before JAX is imported", stacklevel=2)
    return True


def make_isaacgym_env(cfg: IsaacGymConfig, make_fn: Callable | None = None,
                      compose_fn: Callable | None = None) -> VecTaskAdapter:
    """Builds an MTBench env through ``isaacgymenvs.make`` and wraps it. Not jittable.

    Args:
      cfg: what to build.
      make_fn: ``isaacgymenvs.make``-compatible factory (default: the real one; tests pass the torch stand-in).
      compose_fn: ``overrides -> cfg`` (default: Hydra's compose over ``isaacgymenvs.cfg``).

    Raises:
      ImportError: IsaacGym or isaacgymenvs missing (the message gives install instructions).
      ValueError: unknown suite/task names, bad counts.
    """
    overrides, names = hydra_overrides(cfg)
    warn_if_preallocating()
    if make_fn is None:
        make_fn = import_isaacgymenvs().make
    hydra_cfg = (compose_fn or ipc_server.compose_hydra)(overrides)
    vectask = make_fn(seed=cfg.seed, task=overrides[0].split("=", 1)[1], num_envs=cfg.num_envs,
                      sim_device=cfg.sim_device, rl_device=cfg.rl_device,
                      graphics_device_id=cfg.graphics_device_id, headless=True, multi_gpu=False,
                      virtual_screen_capture=False, force_render=False, cfg=hydra_cfg)
    return VecTaskAdapter(vectask, names, repair_reset_onehot=cfg.repair_reset_onehot)


def make_finish(obs_size: int, one_hot: jax.Array, repair_reset_onehot: bool,
                goal_progress: bool = False) -> Callable:
    """Jitted ``(episode, packed [N, O+5], task_id, key, is_reset) -> EnvState`` (shared with the IPC bridge).

    ``packed`` columns: obs ``[:O]`` | reward | reset flag | time-out flag | success | progress. The slices are
    new XLA buffers, so nothing returned aliases ``packed``. ``goal_progress`` (Go1): progress is the count of
    goals reached, which only grows within an episode, but the env resets inside ``step`` so the value read at
    the episode's last step is already the reset one; the running maximum of the episode is used instead.
    """
    t = one_hot.shape[-1]

    def finish(episode, packed, task_id, key, is_reset):
        o = obs_size
        obs = packed[:, :o]
        if repair_reset_onehot and is_reset:  # MTBench's reset() returns all zeros, one-hot included
            missing = jnp.sum(jnp.abs(obs[:, o - t:]), -1, keepdims=True) == 0
            obs = jnp.concatenate([obs[:, : o - t], jnp.where(missing, one_hot, obs[:, o - t:])], -1)
        if is_reset:  # no transition happened yet
            reward, done, trunc = packed[:, o], packed[:, o + 1] > 0.5, packed[:, o + 2] > 0.5
            info = {"success": packed[:, o + 3] > 0.5, "progress": packed[:, o + 4],
                    **envs.update_episode_stats(episode, reward, packed[:, o + 3] > 0.5, packed[:, o + 4],
                                                done)[1]}
            return envs.EnvState(obs=obs, reward=reward, done=jnp.zeros_like(done), truncated=jnp.zeros_like(trunc),
                                 task_id=task_id, info=info, sim=None, episode=episode, key=key)
        stats, tr = envs.packed_transition(episode, packed, obs_size, goal_progress)
        return envs.EnvState(obs=obs, reward=tr["reward"], done=tr["done"], truncated=tr["truncated"],
                             task_id=task_id, info=tr["info"], sim=None, episode=stats, key=key)

    return jax.jit(finish, static_argnums=4)


class VecTaskAdapter:
    """Wraps an MTBench ``VecTask`` as a (host-side, not jittable) multi-task env; see the module docstring.

    Attributes:
      env: the wrapped VecTask. task_set: task-major layout derived from ``extras["task_indices"]``.
      obs_size, action_size: from the VecTask.
    """

    def __init__(self, vectask: Any, task_names: tuple[str, ...], repair_reset_onehot: bool = True):
        import torch

        self._torch = torch
        self.env = vectask
        extras = getattr(vectask, "extras", {}) or {}
        tidx = extras.get("task_indices", getattr(vectask, "task_indices", None))
        if tidx is None:
            raise ValueError("VecTask exposes no extras['task_indices']; cannot map envs to tasks")
        tidx_np = np.asarray(tidx.detach().cpu().numpy(), dtype=np.int64)
        if tidx_np.min() < 0 or tidx_np.max() >= len(task_names):
            uniq = np.unique(tidx_np)  # raw MTBench ids: convert to ranks
            tidx_np = np.searchsorted(uniq, tidx_np)
        counts = np.bincount(tidx_np, minlength=len(task_names))
        if len(counts) != len(task_names) or counts.min() < 1:
            raise ValueError(f"env task layout {counts.tolist()} does not match tasks {task_names}")
        self.task_set = envs.TaskSet(tuple(task_names), tuple(int(c) for c in counts))
        self.obs_size = int(getattr(vectask, "num_obs", getattr(vectask, "num_observations", 0)))
        self.action_size = int(vectask.num_actions)
        self.repair_reset_onehot = repair_reset_onehot
        perm = np.argsort(tidx_np, kind="stable")
        dev = self._device()
        self._perm = None if np.array_equal(perm, np.arange(len(perm))) else torch.as_tensor(perm, device=dev)
        inv = np.empty_like(perm)
        inv[perm] = np.arange(len(perm))
        self._inv_perm = None if self._perm is None else torch.as_tensor(inv, device=dev)
        self._task_id = jnp.asarray(self.task_set.task_ids)
        self._one_hot = jnp.asarray(self.task_set.one_hot())
        self._held_action = None
        self.goal_progress = self._goal_counter() is not None
        self._finish = make_finish(self.obs_size, self._one_hot, repair_reset_onehot, self.goal_progress)

    @property
    def num_tasks(self) -> int:
        return self.task_set.num_tasks

    def _device(self):
        return getattr(self.env, "rl_device", "cpu")

    # ------------------------------------------------------------------------------------------- signals
    def _goal_counter(self):
        """Go1 parkour's ``(cur_goal_idx [N], num_goals)``, or None for envs without goals."""
        goal = getattr(self.env, "cur_goal_idx", None)
        num_goals = getattr(getattr(getattr(self.env, "cfg", None), "terrain", None), "num_goals", None)
        return None if goal is None or not num_goals else (goal, num_goals)

    def _success_progress(self, extras):
        torch = self._torch
        n = self.task_set.num_envs
        succ = getattr(self.env, "success_buf", None)
        if succ is None:
            succ = torch.zeros(n, dtype=torch.bool, device=self._device())
        goals = self._goal_counter()
        if goals is not None:  # Go1 parkour: fraction of the 8 goals reached
            prog = goals[0].float() / float(goals[1])
        else:
            prog = succ.float()
        return succ, prog

    @staticmethod
    def _columns(obs, reward, reset, timeouts, succ, prog) -> list:
        """The packed block's columns: obs ``[N, O]`` | reward | reset | time-out | success | progress."""
        return [obs, reward.reshape(-1, 1), reset.reshape(-1, 1), timeouts.reshape(-1, 1), succ.reshape(-1, 1),
                prog.reshape(-1, 1)]

    def _pack(self, obs, reward, reset, timeouts, succ, prog):
        torch = self._torch
        # One kernel: torch.cat promotes bool/int columns to float32 (reset_buf is 0/1, bool or long).
        packed = torch.cat(self._columns(obs, reward, reset, timeouts, succ, prog), 1)  # fresh: dlpack RULE 2
        if packed.dtype != torch.float32:
            packed = packed.float()
        if self._perm is not None:
            packed = packed.index_select(0, self._perm)
        return dlpack.torch_to_jax(packed, copy=None)  # alias the fresh buffer; no second copy

    # ----------------------------------------------------------------------------------------- protocol
    def reset(self, key: jax.Array) -> envs.EnvState:
        """Calls ``VecTask.reset()`` (host call) and returns the initial ``EnvState`` (zero rewards/flags)."""
        torch = self._torch
        obs = self.env.reset()["obs"]
        n = self.task_set.num_envs
        z = torch.zeros(n, device=obs.device)
        packed = self._pack(obs, z, z, z, z.bool(), z)
        return self._finish(envs.init_episode_stats(n), packed, self._task_id, key, True)

    def step(self, state: envs.EnvState, action: jax.Array) -> envs.EnvState:
        """One simulator step (host call; not jittable). ``action`` is ``[N, A]`` in task-major order."""
        return self._finish(state.episode, self.step_packed(action), state.task_id, state.key, False)

    def step_packed(self, action: jax.Array) -> jax.Array:
        """Like ``step`` but returns the raw ``[N, O+5]`` packed block (a private buffer) without bookkeeping.

        The host loop's packed path: it slices obs inside its jitted ``act`` and computes the episode statistics
        once per iteration (``packed_transition`` in a scan), saving one dispatch per step.
        """
        return self._pack(*self._sim_step(action))

    def bind_packed(self, order: str = "auto") -> fast_step.PackedBinding:
        """The persistent-buffer fast path: one ``[N, O+5]`` buffer packed in place, aliased by JAX once.

        See ``envs_bridge.isaacgym.fast_step`` (and its ``order`` rule for CUDA streams). Not jittable.
        """
        return fast_step.PackedBinding(self, order=order)

    def _sim_step(self, action: jax.Array) -> tuple:
        """Exports ``action`` [N, A] (task-major) zero-copy, steps the VecTask, returns the six column sources."""
        torch = self._torch
        if action.dtype != jnp.float32:  # (astype would copy even a weakly typed float32 array)
            action = action.astype(jnp.float32)
        aliased = dlpack.jax_to_torch(action)  # zero-copy; never written (VecTask clamps)
        a = aliased if self._inv_perm is None else aliased.index_select(0, self._inv_perm)
        obs_dict, rew, reset, extras = self.env.step(a)
        # Keep JAX's buffer referenced until the next step: torch's stream may still read it, and the next
        # import (which waits on torch's stream) orders those reads before JAX can reuse the memory.
        self._held_action = aliased
        timeouts = extras.get("time_outs")
        if timeouts is None:
            timeouts = torch.zeros_like(rew, dtype=torch.bool)
        succ, prog = self._success_progress(extras)
        return obs_dict["obs"], rew, reset, timeouts, succ, prog
