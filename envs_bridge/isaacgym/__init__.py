"""Bridge to MTBench's IsaacGym environments (torch) for mtjax learners. Not jittable; torch imported lazily.

``adapter``: ``make_isaacgym_env(IsaacGymConfig)`` -> ``VecTaskAdapter`` (EnvState via DLPack).
``fast_step``: ``VecTaskAdapter.bind_packed()`` -> ``PackedBinding`` (one persistent block JAX aliases once).
The trainer that drives these envs from a Python loop is ``mtjax.algos.host_loop``.
``ipc`` / ``ipc_server``: out-of-process bridge (IsaacGym on Python 3.8 as a torch-only server, JAX learner
in another process, buffers shared through CUDA IPC).
"""

from envs_bridge.isaacgym.adapter import (
    INSTALL_HELP,
    IsaacGymConfig,
    VecTaskAdapter,
    hydra_overrides,
    import_isaacgymenvs,
    make_isaacgym_env,
)
from envs_bridge.isaacgym.fast_step import PackedBinding
from envs_bridge.isaacgym.tasks import GO1_TERRAINS, METAWORLD_TASKS, MT10_IDS, SUITES, task_ids_for

__all__ = [
    "GO1_TERRAINS",
    "INSTALL_HELP",
    "METAWORLD_TASKS",
    "MT10_IDS",
    "SUITES",
    "IsaacGymConfig",
    "PackedBinding",
    "VecTaskAdapter",
    "hydra_overrides",
    "import_isaacgymenvs",
    "make_isaacgym_env",
    "task_ids_for",
]
