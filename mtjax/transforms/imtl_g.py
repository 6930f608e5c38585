"""IMTL-G: impartial multi-task learning, gradient part (Liu et al., "Towards Impartial Multi-task Learning",
ICLR 2021).

IMTL-G finds the update ``g = sum_i alpha_i g_i`` (``sum_i alpha_i = 1``) whose projections onto every unit
task gradient ``u_i = g_i/|g_i|`` are equal. With ``D`` the rows ``g_1 - g_i`` and ``U`` the rows ``u_1 - u_i``
(``i = 2..T``), the closed form is ``alpha_{2:T} = g_1 U^T (D U^T)^{-1}`` and ``alpha_1 = 1 - sum alpha_{2:T}``.
All inner products come from the Gram matrix, so the solve is one ``(T-1) x (T-1)`` linear system. Where it is
singular (linearly dependent gradients) the method falls back to the mean.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import _gram, base

__all__ = ["IMTLGState", "imtl_g", "imtl_g_weights"]


class IMTLGState(NamedTuple):
    """Diagnostics of the last IMTL-G step (see ``PCGradState``); ``fallback`` is 1 where the mean was used."""

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    fallback: jax.Array


def imtl_g_weights(gram: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(alpha [T], fallback)``: IMTL-G weights from a ``[T, T]`` Gram matrix (they sum to one)."""
    t = gram.shape[0]
    if t == 1:
        return jnp.ones((1,), jnp.float32), jnp.zeros((), jnp.int32)
    norm = jnp.sqrt(jnp.maximum(jnp.diag(gram), 0.0))
    inv = jnp.where(norm > 0, 1.0 / jnp.where(norm > 0, norm, 1.0), 0.0)
    gu = gram * inv[None, :]                        # gu[i, j] = <g_i, u_j>
    r = gu[0, 0] - gu[0, 1:]                        # <g_1, u_1 - u_j>, j = 2..T
    m = (gu[0, 0] - gu[0, 1:])[None, :] - (gu[1:, 0][:, None] - gu[1:, 1:])  # <g_1 - g_i, u_1 - u_j>
    alpha_rest = jnp.linalg.solve(m.T, r)
    alpha = jnp.concatenate([1.0 - jnp.sum(alpha_rest, keepdims=True), alpha_rest])
    ok = jnp.all(jnp.isfinite(alpha)) & jnp.all(norm > 0)
    alpha = jnp.where(ok, alpha, jnp.full((t,), 1.0 / t))
    return alpha.astype(jnp.float32), (~ok).astype(jnp.int32)


def imtl_g(reduction: str = "mean", num_tasks: int | None = None) -> base.Aggregator:
    """IMTL-G aggregator.

    Args:
      reduction: ``"mean"`` (weights sum to one, the paper) or ``"sum"`` (times ``T``).
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``reduction``/``num_tasks``; an inconsistent task axis at update time.
    """
    _gram.check_reduction("imtl_g", reduction)
    _gram.check_num_tasks("imtl_g", num_tasks)

    def init_fn(params: Any) -> IMTLGState:
        del params
        zero = jnp.zeros((), jnp.float32)
        izero = jnp.zeros((), jnp.int32)
        return IMTLGState(izero, zero, zero, _gram.weights_buffer(num_tasks), izero)

    @_gram.full_precision
    def update_fn(task_grads, state, params=None, **extra):
        del state, params, extra
        t = _gram.tasks_checked("imtl_g", task_grads, num_tasks)
        gram = _gram.gram_matrix(task_grads)
        alpha, fallback = imtl_g_weights(gram)
        w = alpha * _gram.scale_for(reduction, t)
        nc, mn, me = _gram.conflict_summary(gram)
        return _gram.combine(w, task_grads), IMTLGState(nc, mn, me, _gram.stored_weights(w, num_tasks), fallback)

    return base.Aggregator(init=init_fn, update=update_fn)
