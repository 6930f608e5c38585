"""Nash-MTL: multi-task learning as a bargaining game (Navon et al., "Multi-Task Learning as a Bargaining
Game", ICML 2022, arXiv 2202.01017).

The update ``g = sum_i alpha_i g_i`` uses the Nash bargaining weights ``alpha > 0`` solving
``G G^T alpha = 1 / alpha`` (element-wise), i.e. every task's projection on the update is inversely proportional
to its weight. As in the official code the Gram matrix is first normalised by its Frobenius norm. The official
code solves a sequence of convex problems with cvxpy on the host; here the same solution is the unique
minimiser of the strictly convex, self-concordant ``f(a) = a^T A a / 2 - sum_i log a_i``, found on device with
a fixed number of damped Newton steps ``a <- a - H^-1 grad / (1 + lambda)`` (``lambda`` the Newton decrement),
which stay inside ``a > 0`` and converge quadratically, started from the diagonal solution ``1/sqrt(A_ii)`` rescaled to the best point on its ray.
A small ridge (``reg * mean(diag A)``) keeps the problem bounded when gradients are exactly opposed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import _gram, base

__all__ = ["NashMTLState", "nash_mtl", "nash_mtl_weights"]


class NashMTLState(NamedTuple):
    """Diagnostics of the last Nash-MTL step (see ``PCGradState``); ``residual`` is
    ``max_i |(A alpha)_i alpha_i - 1|`` of the solve on the normalised Gram matrix."""

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    residual: jax.Array


def nash_mtl_weights(gram: jax.Array, num_iters: int = 40, reg: float = 1e-6) -> tuple[jax.Array, jax.Array]:
    """``(alpha [T], residual)``: Nash bargaining weights for ``A / |A|_F`` (official normalisation)."""
    t = gram.shape[0]
    a = gram / jnp.maximum(jnp.linalg.norm(gram), 1e-30)
    a = a + reg * jnp.maximum(jnp.mean(jnp.diag(a)), 1e-30) * jnp.eye(t, dtype=jnp.float32)
    x0 = jax.lax.rsqrt(jnp.maximum(jnp.diag(a), 1e-30))
    x0 = x0 * jnp.sqrt(t / jnp.maximum(x0 @ a @ x0, 1e-30))  # best point on the ray: x^T A x = T

    def body(_, x):
        grad = a @ x - 1.0 / x
        hess = a + jnp.diag(1.0 / (x * x))
        step = jnp.linalg.solve(hess, grad)
        lam = jnp.sqrt(jnp.maximum(jnp.dot(grad, step), 0.0))
        x_new = x - step * jnp.where(lam < 0.25, 1.0, 1.0 / (1.0 + lam))  # pure Newton once close
        return jnp.where(jnp.all(jnp.isfinite(x_new)) & jnp.all(x_new > 0), x_new, x)

    x = _gram.solver_loop(num_iters, body, x0)
    residual = jnp.max(jnp.abs((a @ x) * x - 1.0))
    return x.astype(jnp.float32), residual.astype(jnp.float32)


def nash_mtl(num_iters: int = 40, reg: float = 1e-6, reduction: str = "sum",
             num_tasks: int | None = None) -> base.Aggregator:
    """Nash-MTL aggregator.

    Args:
      num_iters: damped Newton steps (T = 50 random problems converge in about 30).
      reg: ridge relative to the mean diagonal of the normalised Gram matrix.
      reduction: ``"sum"`` (default, the paper: ``sum_i alpha_i g_i``) or ``"mean"`` (divided by ``T``).
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``num_iters``/``reg``/``reduction``/``num_tasks``; an inconsistent task axis.
    """
    if not isinstance(num_iters, int) or num_iters < 1:
        raise ValueError(f"nash_mtl: num_iters must be a positive int; got {num_iters!r}")
    if not reg >= 0:
        raise ValueError(f"nash_mtl: reg must be >= 0; got {reg!r}")
    _gram.check_reduction("nash_mtl", reduction)
    _gram.check_num_tasks("nash_mtl", num_tasks)

    def init_fn(params: Any) -> NashMTLState:
        del params
        zero = jnp.zeros((), jnp.float32)
        return NashMTLState(jnp.zeros((), jnp.int32), zero, zero, _gram.weights_buffer(num_tasks), zero)

    @_gram.full_precision
    def update_fn(task_grads, state, params=None, **extra):
        del state, params, extra
        t = _gram.tasks_checked("nash_mtl", task_grads, num_tasks)
        gram = _gram.gram_matrix(task_grads)
        alpha, residual = nash_mtl_weights(gram, num_iters, reg)
        w = alpha / (t if reduction == "mean" else 1.0)
        nc, mn, me = _gram.conflict_summary(gram)
        new_state = NashMTLState(nc, mn, me, _gram.stored_weights(w, num_tasks), residual)
        return _gram.combine(w, task_grads), new_state

    return base.Aggregator(init=init_fn, update=update_fn)
