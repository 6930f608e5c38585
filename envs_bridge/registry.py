"""``make_env(name, ...)``: one entry point for every environment, with errors that list the valid names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mtjax import envs

__all__ = ["env_names", "make_env", "register"]

_REGISTRY: dict[str, Callable[..., envs.Env]] = {}


def register(name: str, factory: Callable[..., envs.Env]) -> None:
    """Registers ``factory(num_envs=..., **kwargs) -> Env`` under ``name``."""
    _REGISTRY[name] = factory


def env_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def make_env(name: str, num_envs: int, **kwargs: Any) -> envs.Env:
    """Builds a registered environment with ``num_envs`` envs split task-major over its tasks.

    Raises:
      ValueError: unknown ``name`` (the message lists the valid names).
    """
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown environment {name!r}; valid names: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](num_envs=num_envs, **kwargs)


def _toy(num_envs: int, num_tasks: int = 4, **kwargs: Any) -> envs.Env:
    from envs_bridge import toy

    names = tuple(f"point-{k}" for k in range(num_tasks))
    return toy.PointReach(envs.TaskSet.even(names, num_envs), **kwargs)


def _load_builtin() -> None:
    if "toy" in _REGISTRY:
        return
    register("toy", _toy)
    import importlib.util

    # Meta-World on MJX registers "mt10" and its single-task names on import.
    if importlib.util.find_spec("envs_bridge.metaworld") is not None:
        importlib.import_module("envs_bridge.metaworld")
    # Go1 parkour on MJX registers "parkour_easy", "parkour_hard" and "parkour_hard_cl" on import.
    if importlib.util.find_spec("envs_bridge.parkour") is not None:
        importlib.import_module("envs_bridge.parkour")
