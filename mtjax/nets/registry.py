"""Network registry: ``make_net(name, ...)`` and the actor-critic factory used by the on-policy trainers.

Every registered network is a Linen module with fields ``out_dim`` and ``num_tasks`` (plus its own sizes)
and the call signature ``module(x, task_id) -> [B, out_dim]``, where ``x`` is the ``[B, obs]`` observation
whose last ``num_tasks`` dims are the task one-hot, and ``task_id`` is ``[B]`` int.
"""

from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from mtjax.nets import mlp

__all__ = ["NETS", "register_net", "make_net", "ActorCritic", "make_actor_critic", "net_names"]

NETS: dict[str, type[nn.Module]] = {"mlp": mlp.MLPNet, "multihead": mlp.MultiHeadNet}


def register_net(name: str, cls: type[nn.Module]) -> None:
    """Adds a network class to the registry under ``name``."""
    NETS[name] = cls


def net_names() -> list[str]:
    return sorted(NETS)


def make_net(name: str, *, out_dim: int, num_tasks: int, **kwargs: Any) -> nn.Module:
    """Instantiates a registered network.

    Raises:
      ValueError: unknown name (lists the valid names) or unknown keyword for that network.
    """
    if name not in NETS:
        raise ValueError(f"unknown network {name!r}; valid: {', '.join(net_names())}")
    cls = NETS[name]
    fields = set(cls.__dataclass_fields__) - {"parent", "name"}
    bad = set(kwargs) - fields
    if bad:
        raise ValueError(f"network {name!r} has no option(s) {sorted(bad)}; valid: {sorted(fields)}")
    return cls(out_dim=out_dim, num_tasks=num_tasks, **kwargs)


class ActorCritic(nn.Module):
    """Gaussian actor with a state-independent log-std and a separate critic (MTBench ``separate: True``).

    Returns ``(mu [B, A], log_std [A], value [B])``; the critic's value is in normalised units.
    Parameters live under ``actor``, ``critic`` and ``log_std`` (the ``critic`` prefix is what
    ``mtrl_target="critic"`` selects).
    """

    actor: nn.Module
    critic: nn.Module
    action_size: int
    log_std_init: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array):
        mu = self.actor(x, task_id)
        value = self.critic(x, task_id)[..., 0]
        log_std = self.param("log_std", nn.initializers.constant(self.log_std_init), (self.action_size,))
        return mu, log_std, value


def make_actor_critic(
    *,
    actor_net: str,
    critic_net: str,
    action_size: int,
    num_tasks: int,
    actor_kwargs: dict | None = None,
    critic_kwargs: dict | None = None,
    log_std_init: float = 0.0,
) -> tuple[Callable, Callable]:
    """Builds the policy/value network and returns ``(init, apply)``.

    ``init(key, x [B, obs], task_id [B]) -> variables``;
    ``apply(variables, x, task_id) -> (mu [B, A], log_std [A], value [B])``.
    """
    actor = make_net(actor_net, out_dim=action_size, num_tasks=num_tasks, **(actor_kwargs or {}))
    critic = make_net(critic_net, out_dim=1, num_tasks=num_tasks, **(critic_kwargs or {}))
    module = ActorCritic(actor=actor, critic=critic, action_size=action_size, log_std_init=log_std_init)

    def init(key, x, task_id):
        return module.init(key, x, jnp.asarray(task_id, jnp.int32))

    def apply(variables, x, task_id):
        return module.apply(variables, x, task_id)

    return init, apply
