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

from typing import NamedTuple

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


def upgrad_weights(gram: jax.Array, num_iters: int = 200, reg: float = 1e-4, v_init: jax.Array | None = None,
                   unroll: int = _gram.DEFAULT_UNROLL) -> jax.Array:
    """``V [T, T]``: row ``i`` solves ``min_{v >= e_i} v^T A v``; the update weights are ``mean_i V[i]``.

    ``v_init`` (optional ``[T, T]``, e.g. the previous step's ``V``) warm-starts the solver; ``unroll`` solver
    iterations run per loop step (speed, not the result).
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
    x, _, _ = _gram.solver_loop(num_iters, body, (x0, x0, ones), unroll)
    return x * d[None, :]


def upgrad(num_iters: int = 200, reg: float = 1e-4, reduction: str = "mean",
           num_tasks: int | None = None, warm_start: bool = True,
           solver_unroll: int = _gram.DEFAULT_UNROLL) -> base.Aggregator:
    """UPGrad aggregator.

    Args:
      num_iters: fixed iteration count of the batched dual QP solver.
      reg: ridge added to the normalised Gram matrix (keeps the QP strongly convex).
      reduction: ``"mean"`` (paper default preference ``1/T``) or ``"sum"``.
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      warm_start: with ``num_tasks``, start each solve from the previous step's solution.
      solver_unroll: solver iterations unrolled per loop step: compile time and speed, not the result.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``num_iters``/``reg``/``reduction``/``num_tasks``/``solver_unroll``; an inconsistent task
        axis.
    """
    if not isinstance(num_iters, int) or num_iters < 1:
        raise ValueError(f"upgrad: num_iters must be a positive int; got {num_iters!r}")
    if not reg >= 0:
        raise ValueError(f"upgrad: reg must be >= 0; got {reg!r}")
    _gram.check_unroll("upgrad", solver_unroll)

    def weigh(gram, state, **extra):
        del extra
        t = gram.shape[0]
        v = upgrad_weights(gram, num_iters, reg, state.dual if (warm_start and num_tasks) else None, solver_unroll)
        return jnp.mean(v, axis=0) * _gram.scale_for(reduction, t), (v if num_tasks else state.dual,)

    return base.gram_method("upgrad", UPGradState, num_tasks=num_tasks, reduction=reduction, weigh=weigh,
                            init_fields=lambda: (jnp.eye(num_tasks or 0, dtype=jnp.float32),))
