"""The multi-task gradient-transform contract and the ``mean``/``sum`` baselines.

A multi-task transform is an ``optax.experimental.aggregating.Aggregator``: ``init(params)`` takes *unstacked*
params; ``update(task_grads, state, params=None, **extra)`` takes updates whose every leaf has a leading task
axis ``T`` (e.g. from ``jax.vmap(jax.grad(loss), in_axes=(None, 0))`` over task-major data) and returns a
params-shaped update plus the new state. It composes with ``optax.chain`` (clipping and Adam after it) and
with ``optax.partition`` (apply a method to a parameter subset). This is the only module that imports optax's
experimental API.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from optax.experimental import aggregating

__all__ = [
    "Aggregator",
    "process",
    "mean",
    "sum",
    "MeanState",
    "num_tasks_of",
    "flatten_task_grads",
    "unflatten_update",
    "require_extra",
]

Aggregator = aggregating.Aggregator
process = aggregating.process


class MeanState(NamedTuple):
    """State of the ``mean``/``sum`` baselines (stateless but for a diagnostic).

    Attributes:
      task_weight: scalar weight every task got in the last aggregate (``1/T`` for mean, ``1`` for sum).
    """

    task_weight: jax.Array


def num_tasks_of(task_grads: Any) -> int:
    """The leading task axis ``T`` shared by every leaf; raises ``ValueError`` if leaves disagree."""
    leaves = jax.tree.leaves(task_grads)
    if not leaves:
        raise ValueError("task_grads is an empty pytree")
    sizes = {int(x.shape[0]) if x.ndim else -1 for x in leaves}
    if len(sizes) != 1 or -1 in sizes:
        shapes = [tuple(x.shape) for x in leaves]
        raise ValueError(f"every leaf of task_grads needs the same leading task axis T; got shapes {shapes}")
    return sizes.pop()


def flatten_task_grads(task_grads: Any) -> jax.Array:
    """Concatenates every leaf into one ``[T, P]`` matrix (float32)."""
    t = num_tasks_of(task_grads)
    return jnp.concatenate([x.reshape(t, -1).astype(jnp.float32) for x in jax.tree.leaves(task_grads)], axis=1)


def unflatten_update(flat: jax.Array, task_grads: Any) -> Any:
    """Inverse of ``flatten_task_grads`` for a ``[P]`` vector: a params-shaped pytree (leaf dtypes kept)."""
    leaves, treedef = jax.tree.flatten(task_grads)
    out, i = [], 0
    for x in leaves:
        n = int(x[0].size)
        out.append(flat[i:i + n].reshape(x.shape[1:]).astype(x.dtype))
        i += n
    return jax.tree.unflatten(treedef, out)


def require_extra(method: str, name: str, value: Any) -> Any:
    """Raises a ``ValueError`` naming the missing extra argument a method needs."""
    if value is None:
        raise ValueError(f"{method} needs the extra argument `{name}=` in update(); none was given")
    return value


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


def sum() -> Aggregator:  # noqa: A001 - name fixed by the house style
    """Plain sum over tasks."""
    return _weighted("sum")

