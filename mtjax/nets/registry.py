"""Network registry: ``make_net(name, ...)`` and the actor-critic factory used by the on-policy trainers.

Every registered network is a Linen module with fields ``out_dim`` and ``num_tasks`` (plus its own sizes)
and the call signature ``module(x, task_id) -> [B, out_dim]``, where ``x`` is the ``[B, obs]`` observation
whose last ``num_tasks`` dims are the task one-hot, and ``task_id`` is ``[B]`` int.

Two options of ``make_actor_critic``: ``popart=True`` adds the per-task PopArt head ``critic_popart`` after the
critic (MT-PPO's ``value_norm="popart"``, ``docs/ppo.md``), and ``critic_net="none"`` builds an actor without a
critic (MT-GRPO, whose value output is zeros). ``make_q_network`` builds MT-PQN's decoupled Q-network
(``[B, A, bins]`` utilities, ``mtjax.algos.pqn``) from any registered network, by default ``qnet``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from mtjax.nets import bro, care, mlp, moore, paco, qnet, simba, softmod
from mtjax.nets.layers import MLP, TaskHeads, TorchDense

__all__ = [
    "NETS",
    "NO_CRITIC",
    "POPART_HEAD",
    "SHARED",
    "SHARED_BODIES",
    "ActorCritic",
    "ActorOnly",
    "DecoupledQ",
    "PopArtHead",
    "SharedActorCritic",
    "make_actor_critic",
    "make_net",
    "make_q_network",
    "net_names",
    "register_net",
]

NETS: dict[str, type[nn.Module]] = {
    "mlp": mlp.MLPNet,
    "multihead": mlp.MultiHeadNet,
    "moore": moore.MOORENet,
    "moore_mh": moore.MultiHeadMOORENet,
    "paco": paco.PaCoNet,
    "care": care.CARENet,
    "care_mh": care.MultiHeadCARENet,
    "softmod": softmod.SoftModularNet,
    "simba": simba.SimbaV2Net,
    "bro": bro.BroNet,
    "qnet": qnet.QNetwork,
}

# ``critic_net=SHARED``: the critic is a value head on the actor's trunk (MTBench ``separate: False``).
SHARED = "shared"
# ``critic_net=NO_CRITIC``: no critic; the value output is zeros (MT-GRPO, ``mtjax.algos.grpo``).
NO_CRITIC = "none"
# Name of the PopArt head's params under the top level of the actor-critic's params (a critic-set name).
POPART_HEAD = "critic_popart"


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


class PopArtHead(nn.Module):
    """Per-task PopArt head on the critic's output ``c [B]``: ``n = kernel[0, task] * c + bias[task]``.

    The layout of ``mtjax.popart`` (a ``Dense(T)`` on the one feature ``c``: kernel ``[1, T]``, bias ``[T]``),
    initialised to the identity (kernel 1, bias 0) so the network starts as the plain critic. ``rescale_head``
    of this head preserves every task's de-normalised value whatever the critic network is.
    """

    num_tasks: int

    @nn.compact
    def __call__(self, c: jax.Array, task_id: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.ones, (1, self.num_tasks))
        bias = self.param("bias", nn.initializers.zeros, (self.num_tasks,))
        return kernel[0, task_id] * c + bias[task_id]


def _value_out(value: jax.Array, task_id: jax.Array, popart_tasks: int) -> jax.Array:
    return PopArtHead(popart_tasks, name=POPART_HEAD)(value, task_id) if popart_tasks else value


class ActorCritic(nn.Module):
    """Gaussian actor with a state-independent log-std and a separate critic (MTBench ``separate: True``).

    Returns ``(mu [B, A], log_std [A], value [B])``; the critic's value is in normalised units.
    Parameters live under ``actor``, ``critic`` and ``log_std`` (the ``critic`` prefix is what
    ``mtrl_target="critic"`` selects), plus ``critic_popart`` when ``popart_tasks`` > 0 (``PopArtHead``).
    """

    actor: nn.Module
    critic: nn.Module
    action_size: int
    log_std_init: float = 0.0
    popart_tasks: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array):
        mu = self.actor(x, task_id)
        value = _value_out(self.critic(x, task_id)[..., 0], task_id, self.popart_tasks)
        log_std = self.param("log_std", nn.initializers.constant(self.log_std_init), (self.action_size,))
        return mu, log_std, value


class ActorOnly(nn.Module):
    """Gaussian actor without a critic (``critic_net="none"``, MT-GRPO): returns ``(mu, log_std, zeros [B])``."""

    actor: nn.Module
    action_size: int
    log_std_init: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array):
        mu = self.actor(x, task_id)
        log_std = self.param("log_std", nn.initializers.constant(self.log_std_init), (self.action_size,))
        return mu, log_std, jnp.zeros(mu.shape[:-1], mu.dtype)


class _SharedActor(nn.Module):
    """Shared trunk + policy head: ``(x, task_id) -> (mu [B, A], h [B, H], ctx)``."""

    body: nn.Module
    head: nn.Module

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array):
        h, ctx = self.body(x, task_id)
        return self.head(h, ctx, task_id), h, ctx


class SharedActorCritic(nn.Module):
    """One trunk (under ``actor``) with a policy head, plus a value head (``critic``); returns as ActorCritic."""

    actor: nn.Module
    critic: nn.Module
    action_size: int
    log_std_init: float = 0.0
    popart_tasks: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array):
        mu, h, ctx = self.actor(x, task_id)
        value = _value_out(self.critic(h, ctx, task_id)[..., 0], task_id, self.popart_tasks)
        log_std = self.param("log_std", nn.initializers.constant(self.log_std_init), (self.action_size,))
        return mu, log_std, value


class _MLPBody(nn.Module):
    hidden: tuple
    act: str = "elu"

    @nn.compact
    def __call__(self, x, task_id):
        return MLP(self.hidden, self.act)(x), None


class _DenseHead(nn.Module):
    out_dim: int
    num_tasks: int
    multi_head: bool = False

    @nn.compact
    def __call__(self, h, ctx, task_id):
        del ctx
        if self.multi_head:
            return TaskHeads(self.num_tasks, self.out_dim)(h, task_id)
        return TorchDense(self.out_dim)(h)


def _mlp_shared_parts(num_tasks: int, hidden=(256, 128, 64), act: str = "elu", multi_head: bool = False):
    return _MLPBody(tuple(hidden), act), lambda out_dim: _DenseHead(out_dim, num_tasks, multi_head)


# name -> fn(num_tasks, **kwargs) -> (body, head_fn): body(x, task_id) -> (h, ctx);
# head_fn(out_dim) -> head module called as head(h, ctx, task_id).
SHARED_BODIES: dict[str, Callable] = {
    "mlp": _mlp_shared_parts,
    "multihead": lambda num_tasks, **kw: _mlp_shared_parts(num_tasks, multi_head=True, **kw),
    "paco": paco.paco_shared_parts,
}


def make_actor_critic(
    *,
    actor_net: str,
    critic_net: str,
    action_size: int,
    num_tasks: int,
    actor_kwargs: dict | None = None,
    critic_kwargs: dict | None = None,
    log_std_init: float = 0.0,
    popart: bool = False,
) -> tuple[Callable, Callable]:
    """Builds the policy/value network and returns ``(init, apply)``.

    ``init(key, x [B, obs], task_id [B]) -> variables``;
    ``apply(variables, x, task_id) -> (mu [B, A], log_std [A], value [B])``.

    ``critic_net="shared"`` builds one trunk for actor and critic (MTBench ``separate: False``, e.g. PaCo)
    from ``actor_net``/``actor_kwargs`` (it must be in ``SHARED_BODIES``; ``critic_kwargs`` must be empty).
    Its params are ``{"actor": {"body", "head"}, "critic": <value head>, "log_std"}``: as in rl_games, the
    shared trunk belongs to the actor set and only the value head to the critic set (what
    ``mtrl_target="critic"`` selects).

    ``popart=True`` adds ``PopArtHead`` (params ``critic_popart``) after the critic. ``critic_net="none"``
    builds ``ActorOnly`` (no critic params, value zeros; ``critic_kwargs`` must be empty, ``popart`` False).
    """
    pt = num_tasks if popart else 0
    if critic_net == NO_CRITIC:
        if critic_kwargs or popart:
            raise ValueError("critic_net='none' takes no critic_kwargs and no popart head")
        actor = make_net(actor_net, out_dim=action_size, num_tasks=num_tasks, **(actor_kwargs or {}))
        module = ActorOnly(actor=actor, action_size=action_size, log_std_init=log_std_init)
    elif critic_net == SHARED:
        if actor_net not in SHARED_BODIES:
            raise ValueError(
                f"critic_net='shared' needs an actor_net with a shared trunk; valid: {sorted(SHARED_BODIES)}")
        if critic_kwargs:
            raise ValueError(f"critic_net='shared' takes no critic_kwargs (got {sorted(critic_kwargs)}); "
                             "size the shared trunk with actor_kwargs")
        body, head_fn = SHARED_BODIES[actor_net](num_tasks=num_tasks, **(actor_kwargs or {}))
        shared_actor = _SharedActor(body=body, head=head_fn(action_size))
        module = SharedActorCritic(actor=shared_actor, critic=head_fn(1),
                                   action_size=action_size, log_std_init=log_std_init, popart_tasks=pt)
    else:
        actor = make_net(actor_net, out_dim=action_size, num_tasks=num_tasks, **(actor_kwargs or {}))
        critic = make_net(critic_net, out_dim=1, num_tasks=num_tasks, **(critic_kwargs or {}))
        module = ActorCritic(actor=actor, critic=critic, action_size=action_size, log_std_init=log_std_init,
                             popart_tasks=pt)

    def init(key, x, task_id):
        return module.init(key, x, jnp.asarray(task_id, jnp.int32))

    def apply(variables, x, task_id):
        return module.apply(variables, x, task_id)

    return init, apply


class DecoupledQ(nn.Module):
    """A registered network as MT-PQN's Q-network: ``(x, task_id) -> [B, action_size, num_bins]`` utilities.

    The inner network (params under ``critic``: MTBench calls its Q-network the critic, and the name puts it in
    the set that ``mtrl_target="critic"`` selects) outputs ``[B, action_size * num_bins]``, reshaped dim-major
    as MTBench's ``view(-1, action_dim, num_bins)``.
    """

    critic: nn.Module
    action_size: int
    num_bins: int

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        q = self.critic(x, task_id)
        return q.reshape(q.shape[:-1] + (self.action_size, self.num_bins))


def make_q_network(*, action_size: int, num_bins: int, num_tasks: int, net: str = "qnet",
                   net_kwargs: dict | None = None) -> tuple[Callable, Callable]:
    """Builds MT-PQN's decoupled Q-network and returns ``(init, apply)``.

    ``init(key, x [B, obs], task_id [B]) -> variables``; ``apply(variables, x, task_id) -> q [B, A, bins]``.
    ``net="qnet"`` with no kwargs is MTBench's MT10 network (``mtjax.nets.qnet.QNetwork``: hidden 256, one
    residual block); any other registered name works too (its ``out_dim`` is ``action_size * num_bins``).

    Raises:
      ValueError: unknown network or option (as ``make_net``), or ``action_size``/``num_bins`` < 1 / 2.
    """
    if action_size < 1 or num_bins < 2:
        raise ValueError(f"make_q_network: need action_size >= 1 and num_bins >= 2, got {action_size}, {num_bins}")
    inner = make_net(net, out_dim=action_size * num_bins, num_tasks=num_tasks, **(net_kwargs or {}))
    module = DecoupledQ(critic=inner, action_size=action_size, num_bins=num_bins)

    def init(key, x, task_id):
        return module.init(key, x, jnp.asarray(task_id, jnp.int32))

    def apply(variables, x, task_id):
        return module.apply(variables, x, task_id)

    return init, apply
