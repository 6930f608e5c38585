"""Several devices of one host: the environments (and so the rollout and the minibatches) are split over a mesh.

The trainer is the same program; only where its arrays live changes (GSPMD, ``jax.sharding``):

* a 1-D mesh ``("envs",)`` over ``num_devices`` devices;
* the env state is split along its env axis (leaves whose leading dimension is a multiple of the device count;
  Meta-World keeps one state block per task, so every task's block is split over the devices and each device
  holds a task-major slice of every task);
* everything else (parameters, optimiser state, normaliser statistics, keys, the iteration counter) is
  replicated. XLA inserts the cross-device reductions, so the per-task gradients reach the multi-task transform
  summed over all devices (the transform sees the whole ``[T, ...]`` task-gradient matrix) and the normaliser
  statistics are merged over all envs. Results equal one device's up to float reduction order.

A leaf whose leading dimension is not a multiple of the device count (e.g. a task block of 2,457 envs on two
devices) stays replicated: correct, only not split.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["ENV_AXIS", "env_mesh", "resolve_num_devices", "shard_train_state", "train_state_shardings"]

ENV_AXIS = "envs"


def resolve_num_devices(num_devices: int) -> int:
    """``num_devices`` (0 = all visible devices), checked against ``jax.devices()``."""
    available = len(jax.devices())
    n = available if num_devices == 0 else int(num_devices)
    if not 1 <= n <= available:
        raise ValueError(f"num_devices={num_devices}: valid 0 (all) or 1..{available} (visible devices: {available})")
    return n


def env_mesh(num_devices: int) -> Mesh:
    """A 1-D mesh named ``"envs"`` over the first ``num_devices`` devices (0 = all)."""
    n = resolve_num_devices(num_devices)
    return Mesh(np.asarray(jax.devices()[:n]), (ENV_AXIS,))


def _split_or_replicate(mesh: Mesh, x: Any) -> NamedSharding:
    n = mesh.devices.size
    shape = np.shape(x)
    if len(shape) >= 1 and shape[0] >= n and shape[0] % n == 0:
        return NamedSharding(mesh, PartitionSpec(ENV_AXIS))
    return NamedSharding(mesh, PartitionSpec())


def train_state_shardings(state: Any, mesh: Mesh) -> Any:
    """Shardings for a ``TrainState``: ``env_state`` split along the env axis, everything else replicated."""
    replicated = NamedSharding(mesh, PartitionSpec())
    out = jax.tree.map(lambda _: replicated, state)
    env = jax.tree.map(lambda x: _split_or_replicate(mesh, x), state.env_state)
    return out.replace(env_state=env)


def shard_train_state(state: Any, mesh: Mesh) -> Any:
    """Places a ``TrainState`` on the mesh (``train_state_shardings``)."""
    return jax.device_put(state, train_state_shardings(state, mesh))
