"""UPGrad: unconflicting projection of gradients (Quinton & Rey, "Jacobian Descent for Multi-Objective
Optimization", 2024, arXiv 2406.16232).

Each task gradient ``g_i`` is projected onto the dual cone ``{x : <g_j, x> >= 0 for all j}`` and the
projections are averaged, so the update never conflicts with any task and equals the mean when no pair
conflicts. The projection of ``G^T u`` is ``G^T v*`` with ``v* = argmin_{v >= u} v^T A v`` (``A = G G^T``),
a box-constrained QP in ``T`` variables; the ``T`` problems (``u = e_i``) are solved together on device with
a fixed number of accelerated projected-gradient iterations on the Jacobi-preconditioned, slightly regularised
Gram matrix (``A / mean(diag A) + reg * I``, as the reference implementation regularises its QP).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import _gram, base

__all__ = ["UPGradState", "upgrad", "upgrad_weights"]


class UPGradState(NamedTuple):
    """Diagnostics of the last UPGrad step (see ``PCGradState``); ``dual [T, T]`` is the last QP solution
    (the warm start; ``[0, 0]`` without ``num_tasks``)."""

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    dual: jax.Array


def upgrad_weights(gram: jax.Array, num_iters: int = 200, reg: float = 1e-4,
                   v_init: jax.Array | None = None) -> jax.Array:
    """``V [T, T]``: row ``i`` solves ``min_{v >= e_i} v^T A v``; the update weights are ``mean_i V[i]``.

    ``v_init`` (optional ``[T, T]``, e.g. the previous step's ``V``) warm-starts the solver.
    """
    t = gram.shape[0]
    scale = jnp.maximum(jnp.mean(jnp.diag(gram)), 1e-30)
    a = gram / scale + reg * jnp.eye(t, dtype=jnp.float32)
    # Jacobi preconditioning: v = D x with D = diag(A)^(-1/2) keeps the constraint a box (x >= D^-1 e_i)
    # and turns A into a unit-diagonal matrix, so unequal gradient norms do not slow the solver down.
    d = jax.lax.rsqrt(jnp.diag(a))
    a = a * d[:, None] * d[None, :]
    lip = 2.0 * jnp.max(jnp.sum(jnp.abs(a), axis=1))     # Gershgorin bound on the Hessian 2A
    lower = jnp.diag(1.0 / d)
    def body(_, carry):
        x, y, tk = carry
        x_new = jnp.maximum(y - (2.0 * y @ a) / lip, lower)
        restart = jnp.sum((y - x_new) * (x_new - x), axis=1, keepdims=True) > 0
        t_new = (1.0 + jnp.sqrt(1.0 + 4.0 * tk * tk)) / 2.0
        y_new = jnp.where(restart, x_new, x_new + ((tk - 1.0) / t_new) * (x_new - x))
        return x_new, y_new, jnp.where(restart, 1.0, t_new)

    ones = jnp.ones((t, 1), jnp.float32)
    x0 = lower if v_init is None else jnp.maximum(v_init / d[None, :], lower)
    x, _, _ = _gram.solver_loop(num_iters, body, (x0, x0, ones))
    return x * d[None, :]


def upgrad(num_iters: int = 200, reg: float = 1e-4, reduction: str = "mean",
           num_tasks: int | None = None, warm_start: bool = True) -> base.Aggregator:
    """UPGrad aggregator.

    Args:
      num_iters: fixed iteration count of the batched dual QP solver.
      reg: ridge added to the normalised Gram matrix (keeps the QP strongly convex).
      reduction: ``"mean"`` (paper default preference ``1/T``) or ``"sum"``.
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      warm_start: with ``num_tasks``, start each solve from the previous step's solution.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``num_iters``/``reg``/``reduction``/``num_tasks``; an inconsistent task axis.
    """
    if not isinstance(num_iters, int) or num_iters < 1:
        raise ValueError(f"upgrad: num_iters must be a positive int; got {num_iters!r}")
    if not reg >= 0:
        raise ValueError(f"upgrad: reg must be >= 0; got {reg!r}")
    _gram.check_reduction("upgrad", reduction)
    _gram.check_num_tasks("upgrad", num_tasks)

    def init_fn(params: Any) -> UPGradState:
        del params
        zero = jnp.zeros((), jnp.float32)
        n = num_tasks or 0
        return UPGradState(jnp.zeros((), jnp.int32), zero, zero, _gram.weights_buffer(num_tasks),
                           jnp.eye(n, dtype=jnp.float32))

    @_gram.full_precision
    def update_fn(task_grads, state, params=None, **extra):
        del params, extra
        t = _gram.tasks_checked("upgrad", task_grads, num_tasks)
        gram = _gram.gram_matrix(task_grads)
        v = upgrad_weights(gram, num_iters, reg, state.dual if (warm_start and num_tasks) else None)
        w = jnp.mean(v, axis=0) * _gram.scale_for(reduction, t)
        nc, mn, me = _gram.conflict_summary(gram)
        dual = v if num_tasks else state.dual
        return _gram.combine(w, task_grads), UPGradState(nc, mn, me, _gram.stored_weights(w, num_tasks), dual)

    return base.Aggregator(init=init_fn, update=update_fn)
