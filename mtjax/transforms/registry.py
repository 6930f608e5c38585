"""Method registry: ``make_mtrl(method, target, num_tasks=T)`` builds the trainer's gradient aggregator.

The chosen method is applied to one parameter subset and ``mean()`` to the rest via ``optax.partition``.
Subsets follow MTBench's split into critic (value network) and actor parameters: a parameter belongs to the
critic when a key on its path contains ``"critic"`` or ``"value"``; everything else (actor trunk, mean head,
log-std) is the actor.
``target="both"`` applies the method to every parameter. MTBench's shipped configs manipulate the critic only.

Loss routing: the trainer passes ``task_losses=`` (total per-task losses), ``critic_task_losses=`` and
``actor_task_losses=``. A method that needs losses (FAMO) receives, as its ``task_losses=``, the critic losses
for ``target="critic"``, the actor losses for ``"actor"`` and the total losses for ``"both"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import optax

from mtjax.transforms import base
from mtjax.transforms.aligned_mtl import aligned_mtl
from mtjax.transforms.cagrad import cagrad
from mtjax.transforms.famo import famo
from mtjax.transforms.imtl_g import imtl_g
from mtjax.transforms.nash_mtl import nash_mtl
from mtjax.transforms.pcgrad import pcgrad
from mtjax.transforms.upgrad import upgrad

__all__ = ["METHODS", "TARGETS", "critic_labels", "make_method", "make_mtrl", "method_names"]

METHODS: dict[str, Callable[..., base.Aggregator]] = {
    "mean": lambda num_tasks=None, **kw: base.mean(**kw),
    "sum": lambda num_tasks=None, **kw: base.sum(**kw),
    "pcgrad": pcgrad,
    "cagrad": cagrad,
    "famo": famo,
    "imtl_g": imtl_g,
    "aligned_mtl": aligned_mtl,
    "upgrad": upgrad,
    "nash_mtl": nash_mtl,
}
NEEDS_LOSSES = frozenset({"famo"})
TARGETS = ("critic", "actor", "both")
_LOSS_SOURCE = {"critic": "critic_task_losses", "actor": "actor_task_losses", "both": "task_losses"}


def method_names() -> list[str]:
    return sorted(METHODS)


def make_method(method: str, *, num_tasks: int | None = None, **kwargs: Any) -> base.Aggregator:
    """Instantiates one registered method.

    Raises:
      ValueError: unknown method (lists the valid names) or a bad hyperparameter.
    """
    if method not in METHODS:
        raise ValueError(f"unknown multi-task method {method!r}; valid: {', '.join(method_names())}")
    try:
        return METHODS[method](num_tasks=num_tasks, **kwargs)
    except TypeError as e:  # unknown keyword
        raise ValueError(f"bad options {sorted(kwargs)} for method {method!r}: {e}") from e


def _is_critic(path) -> bool:
    for k in path:
        name = str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", "")))).lower()
        if "critic" in name or "value" in name:
            return True
    return False


def critic_labels(tree: Any) -> Any:
    """Labels a params (or task-stacked updates) tree: ``"critic"`` or ``"actor"`` per leaf."""
    return jax.tree_util.tree_map_with_path(lambda p, _: "critic" if _is_critic(p) else "actor", tree)


def _routed(inner: base.Aggregator, method: str, source: str, loss_scale: float) -> base.Aggregator:
    """Feeds ``loss_scale * extra[source]`` to ``inner`` as ``task_losses=``."""

    def update_fn(task_grads, state, params=None, **extra):
        losses = extra.pop(source, None)
        extra.pop("task_losses", None)
        losses = base.require_extra(f"{method} (losses routed from `{source}`)", source, losses)
        return inner.update(task_grads, state, params, task_losses=loss_scale * losses, **extra)

    return base.Aggregator(init=inner.init, update=update_fn)


def _scaled(inner: base.Aggregator, factor: float) -> base.Aggregator:
    def update_fn(task_grads, state, params=None, **extra):
        upd, state = inner.update(task_grads, state, params, **extra)
        return jax.tree.map(lambda u: u * factor, upd), state

    return base.Aggregator(init=inner.init, update=update_fn)


def _mean_allow_empty() -> base.Aggregator:
    """``mean()`` that passes an empty (fully masked) subset through, e.g. a critic-only params tree."""
    inner = base.mean()

    def update_fn(task_grads, state, params=None, **extra):
        if not jax.tree.leaves(task_grads):
            return task_grads, state
        return inner.update(task_grads, state, params, **extra)

    return base.Aggregator(init=inner.init, update=update_fn)


def make_mtrl(method: str, target: str = "critic", *, num_tasks: int, output_scale: float = 1.0,
              loss_scale: float = 1.0, **kwargs: Any) -> base.Aggregator:
    """The MT-PPO gradient aggregator: ``method`` on the ``target`` subset, ``mean()`` elsewhere.

    Args:
      method: one of ``method_names()``.
      target: ``"critic"`` (MTBench), ``"actor"`` or ``"both"``.
      num_tasks: ``T``.
      output_scale: factor on the method's update of the target subset (MTBench parity: its PCGrad/CAGrad
        critic losses omit PPO's ``0.5 * critic_coef`` factor, so ``1 / (0.5 * critic_coef)``).
      loss_scale: factor on the routed task losses (MTBench's FAMO sees ``0.5 * critic_coef`` times the value
        loss; matters through FAMO's ``eps``).
      **kwargs: hyperparameters of the method (e.g. ``c=0.4`` for CAGrad, ``variant="mtbench"`` for FAMO).

    Returns:
      An Aggregator; ``update(task_grads, state, params, *, key=..., task_losses=..., critic_task_losses=...,
      actor_task_losses=...)``, extras beyond what the method needs are ignored.

    Raises:
      ValueError: unknown method/target (lists the valid ones), bad hyperparameters, or (at init) a target
        subset that is empty in the given params.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown mtrl target {target!r}; valid: {', '.join(TARGETS)}")
    if not isinstance(num_tasks, int) or num_tasks < 1:
        raise ValueError(f"make_mtrl: num_tasks must be a positive int; got {num_tasks!r}")
    agg = make_method(method, num_tasks=num_tasks, **kwargs)
    if method in NEEDS_LOSSES:
        agg = _routed(agg, method, _LOSS_SOURCE[target], loss_scale)
    if output_scale != 1.0:
        agg = _scaled(agg, output_scale)
    if target == "both" or method == "mean":
        return agg
    other = "actor" if target == "critic" else "critic"
    part = optax.partition({target: agg, other: _mean_allow_empty()}, critic_labels)

    def init_fn(params):
        if target not in jax.tree.leaves(critic_labels(params)):
            raise ValueError(f"make_mtrl: no parameter belongs to target={target!r} (critic = a path key "
                             f"containing 'critic' or 'value'); use target='both' for this params tree")
        return part.init(params)

    return base.Aggregator(init=init_fn, update=part.update)
