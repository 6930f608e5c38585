"""PCGrad: projecting conflicting gradients (Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020,
arXiv 2001.06782).

For every task ``i`` a copy of ``g_i`` is walked through a fresh random permutation of all original task
gradients ``g_j`` (``j = i`` included, as in the official code and MTBench's ``grad_mani.pcgrad_backward``);
whenever ``<g_i', g_j> < 0`` the component along ``g_j`` is removed, ``g_i' <- g_i' - <g_i', g_j>/|g_j|^2 g_j``
(the inner product uses the already-projected ``g_i'``). The update is the mean (MTBench, default) or sum of
the projected gradients.

Every projected gradient stays in the span of the originals, ``g_i' = sum_j C_ij g_j``, so the whole
procedure runs on the ``T x T`` coefficient matrix ``C`` and the Gram matrix ``A = G G^T``:
``<g_i', g_j> = (C A)_ij``. That is ``O(T^3)`` work independent of the parameter count, plus one Gram
matrix and one weighted sum over the gradients.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import _gram, base

__all__ = ["PCGradState", "pcgrad", "pcgrad_weights"]


class PCGradState(NamedTuple):
    """Diagnostics of the last PCGrad step.

    Attributes:
      num_conflicts: number of task pairs ``i < j`` with ``<g_i, g_j> < 0`` (int32 scalar).
      min_cosine: smallest pairwise cosine similarity of the raw task gradients.
      mean_cosine: mean pairwise cosine similarity.
      task_weights: ``[num_tasks]`` coefficients of the raw gradients in the update (``[0]`` if the factory
        got no ``num_tasks``).
    """

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array


def pcgrad_weights(gram: jax.Array, perms: jax.Array, unroll: int = _gram.DEFAULT_UNROLL) -> jax.Array:
    """The PCGrad coefficient matrix in Gram space.

    Args:
      gram: ``[T, T]`` Gram matrix ``A_ij = <g_i, g_j>``.
      perms: ``[T, T]`` int; row ``i`` is the order in which task ``i``'s copy visits the other gradients.
      unroll: projection steps unrolled per loop iteration (speed, not the result).

    Returns:
      ``C [T, T]`` with projected gradient ``g_i' = sum_j C_ij g_j``.
    """
    t = gram.shape[0]
    sq_norm = jnp.diag(gram)
    cols = jnp.arange(t)

    def body(k, c):
        j = perms[:, k]                                   # [T] the gradient each copy projects against now
        onehot = (j[:, None] == cols[None, :]).astype(jnp.float32)
        dots = jnp.sum(c * gram[j], axis=1)               # <g_i', g_j> = sum_l C_il A_lj (exact gather)
        nj = sq_norm[j]
        coef = jnp.where((dots < 0) & (nj > 0), dots / jnp.where(nj > 0, nj, 1.0), 0.0)
        return c - coef[:, None] * onehot                 # scatter-free (fuses on GPU)

    return _gram.solver_loop(t, body, jnp.eye(t, dtype=jnp.float32), unroll)


def pcgrad(reduction: str = "mean", num_tasks: int | None = None,
           solver_unroll: int = _gram.DEFAULT_UNROLL) -> base.Aggregator:
    """PCGrad aggregator.

    Args:
      reduction: ``"mean"`` (MTBench and the paper's code) or ``"sum"`` of the projected gradients.
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      solver_unroll: projection steps unrolled per loop iteration: compile time and speed, not the result.

    Returns:
      An Aggregator whose ``update(task_grads, state, params=None, *, key, **extra)`` needs ``key=`` (a
      ``jax.random`` key; the random task orders) and returns a params-shaped update.

    Raises:
      ValueError: bad ``reduction``/``num_tasks``/``solver_unroll`` (eagerly), or at update time a missing
        ``key`` or a task axis that disagrees across leaves or with ``num_tasks``.
    """
    _gram.check_unroll("pcgrad", solver_unroll)

    def weigh(gram, state, *, key=None, **extra):
        del state, extra
        key = base.require_extra("pcgrad", "key", key)
        t = gram.shape[0]
        perms = jax.vmap(lambda k: jax.random.permutation(k, t))(jax.random.split(key, t))
        coeffs = pcgrad_weights(gram, perms, solver_unroll)
        return (jnp.mean(coeffs, axis=0) if reduction == "mean" else jnp.sum(coeffs, axis=0)), ()

    return base.gram_method("pcgrad", PCGradState, num_tasks=num_tasks, reduction=reduction, weigh=weigh)
