"""The multi-task gradient-transform contract and the ``mean``/``sum`` baselines.

A multi-task transform is an ``optax.experimental.aggregating.Aggregator``: ``init(params)`` takes *unstacked*
params; ``update(task_grads, state, params=None, **extra)`` takes updates whose every leaf has a leading task
axis ``T`` (e.g. from ``jax.vmap(jax.grad(loss), in_axes=(None, 0))`` over task-major data) and returns a
params-shaped update plus the new state. It composes with ``optax.chain`` (clipping and Adam after it) and
with ``optax.partition`` (apply a method to a parameter subset). This is the only module that imports optax's
experimental API.

``gram_method`` is the factory skeleton the Gram-space methods share (PCGrad, CAGrad, IMTL-G, Aligned-MTL,
UPGrad, Nash-MTL): each method file states only its validation and its weighting or inner solve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from optax.experimental import aggregating

from mtjax.transforms import _gram

__all__ = [
    "Aggregator",
    "MeanState",
    "gram_method",
    "mean",
    "num_tasks_of",
    "process",
    "require_extra",
    "sum",
]

Aggregator = aggregating.Aggregator
process = aggregating.process
num_tasks_of = _gram.num_tasks_of


class MeanState(NamedTuple):
    """State of the ``mean``/``sum`` baselines (stateless but for a diagnostic).

    Attributes:
      task_weight: scalar weight every task got in the last aggregate (``1/T`` for mean, ``1`` for sum).
    """

    task_weight: jax.Array


def require_extra(method: str, name: str, value: Any) -> Any:
    """Raises a ``ValueError`` naming the missing extra argument a method needs."""
    if value is None:
        raise ValueError(f"{method} needs the extra argument `{name}=` in update(); none was given")
    return value


def gram_method(name: str, state_type: type, *, num_tasks: int | None, reduction: str,
                weigh: Callable[..., tuple[jax.Array, tuple]], init_fields: Callable[[], tuple] = tuple,
                finish: Callable[[Any], tuple[Any, tuple]] | None = None) -> Aggregator:
    """The Aggregator of a Gram-space method: every method but FAMO is this skeleton plus its ``weigh``.

    Eagerly validates ``reduction`` and ``num_tasks``. ``update(task_grads, state, params=None, **extra)``
    checks the task axis ``T`` (against ``num_tasks`` when given), forms the Gram matrix ``A [T, T]`` in float32
    at full matmul precision, calls ``weigh``, returns ``sum_i w_i g_i`` (through ``finish`` if given) and
    records the pairwise-conflict diagnostics.

    Args:
      name: the method's name, used in error messages.
      state_type: the method's ``<Method>State``: a NamedTuple whose first four fields are ``num_conflicts``,
        ``min_cosine``, ``mean_cosine`` and ``task_weights`` (``[num_tasks]``, or ``[0]`` without
        ``num_tasks``), followed by the method's own fields.
      num_tasks: optional ``T``.
      reduction: ``"mean"`` or ``"sum"`` (``weigh`` applies it; validated here).
      weigh: ``weigh(gram, state, **extra) -> (w [T], fields)``: the method's weighting or inner solve;
        ``fields`` are the new state's own entries (``state`` is the previous step's, e.g. for a warm start).
      init_fields: ``() -> fields``: the method's own entries of the initial state.
      finish: optional ``finish(update) -> (update, fields)`` applied to the combined update (e.g. a clip);
        its ``fields`` follow ``weigh``'s in the state.

    Returns:
      The Aggregator.
    """
    _gram.check_reduction(name, reduction)
    _gram.check_num_tasks(name, num_tasks)

    def init_fn(params: Any):
        del params
        zero = jnp.zeros((), jnp.float32)
        return state_type(jnp.zeros((), jnp.int32), zero, zero, _gram.weights_buffer(num_tasks), *init_fields())

    @_gram.full_precision
    def update_fn(task_grads, state, params=None, **extra):
        del params
        _gram.tasks_checked(name, task_grads, num_tasks)
        gram = _gram.gram_matrix(task_grads)
        w, fields = weigh(gram, state, **extra)
        update = _gram.combine(w, task_grads)
        if finish is not None:
            update, more = finish(update)
            fields = (*fields, *more)
        nc, mn, me = _gram.conflict_summary(gram)
        return update, state_type(nc, mn, me, _gram.stored_weights(w, num_tasks), *fields)

    return Aggregator(init=init_fn, update=update_fn)


def _weighted(reduction: str):
    def init_fn(params):
        del params
        return MeanState(task_weight=jnp.zeros((), jnp.float32))

    def update_fn(task_grads, state, params=None, **extra):
        del state, params, extra
        t = num_tasks_of(task_grads)
        w = jnp.full((t,), 1.0 / t if reduction == "mean" else 1.0, jnp.float32)
        agg = jax.tree.map(lambda g: jnp.tensordot(w.astype(g.dtype), g, axes=1), task_grads)
        return agg, MeanState(task_weight=w[0])

    return Aggregator(init=init_fn, update=update_fn)


def mean() -> Aggregator:
    """Plain average over tasks: the single-task baseline (equals the gradient of the mean of task losses)."""
    return _weighted("mean")


def sum() -> Aggregator:
    """Plain sum over tasks."""
    return _weighted("sum")

