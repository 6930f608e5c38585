"""Nash-MTL: multi-task learning as a bargaining game (Navon et al., "Multi-Task Learning as a Bargaining
Game", ICML 2022, arXiv 2202.01017).

The update ``g = sum_i alpha_i g_i`` uses the Nash bargaining weights ``alpha > 0`` solving
``G G^T alpha = 1 / alpha`` (element-wise): every task's projection on the update is inversely proportional to
its weight, and ``|g|^2 = alpha^T G G^T alpha = T``. The official code (``methods/weight_methods.py``,
class ``NashMTL``) hands cvxpy the Gram matrix divided by its Frobenius norm ``F`` but keeps ``F`` in the
constraint ``alpha_i F (A/F alpha)_i >= 1``, so its ``alpha`` solves the *un-normalised* equation; it then
back-propagates ``sum_i alpha_i L_i`` and clips the shared gradient to ``max_norm = 1``
(``clip_grad_norm_``). Here the normalised problem ``A' b = 1/b`` (``A' = A/F``) is solved as the unique
minimiser of the strictly convex, self-concordant ``f(b) = b^T A' b / 2 - sum_i log b_i`` with a fixed number
of damped Newton steps ``b <- b - H^-1 grad / (1 + lambda)`` (``lambda`` the Newton decrement; they stay
inside ``b > 0`` and converge quadratically), started from the diagonal solution ``1/sqrt(A'_ii)`` rescaled to
the best point on its ray; then ``alpha = b / sqrt(F)`` and the same clip follow. A small ridge
(``reg * mean(diag A')``) keeps the problem bounded when gradients are exactly opposed. See
``docs/deviations.md``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import _gram, base

__all__ = ["NashMTLState", "nash_mtl", "nash_mtl_weights"]

_CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), clamped to <= 1


class NashMTLState(NamedTuple):
    """Diagnostics of the last Nash-MTL step (see ``PCGradState``).

    ``task_weights`` are ``alpha`` (after the reduction, before the clip, like the official ``weights``);
    ``residual`` is ``max_i |(A alpha)_i alpha_i - 1|`` of the solve; ``update_norm`` is the global norm of
    ``sum_i w_i g_i`` before the clip (``sqrt(T)`` for ``reduction="sum"`` at an exact solution).
    """

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    residual: jax.Array
    update_norm: jax.Array


def nash_mtl_weights(gram: jax.Array, num_iters: int = 40, reg: float = 1e-6,
                     unroll: int = _gram.DEFAULT_UNROLL) -> tuple[jax.Array, jax.Array]:
    """``(alpha [T], residual)``: Nash bargaining weights solving ``A alpha = 1/alpha`` (the official scale).

    The residual ``max_i |(A alpha)_i alpha_i - 1|`` is scale free (it equals that of the normalised solve).
    ``unroll`` Newton steps run per loop step (speed, not the result).
    """
    t = gram.shape[0]
    fro = jnp.maximum(jnp.linalg.norm(gram), 1e-30)
    a = gram / fro
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

    x = _gram.solver_loop(num_iters, body, x0, unroll)
    residual = jnp.max(jnp.abs((a @ x) * x - 1.0))
    return (x * jax.lax.rsqrt(fro)).astype(jnp.float32), residual.astype(jnp.float32)


def _clip(update: Any, max_norm: float) -> tuple[Any, jax.Array]:
    """``clip_grad_norm_(update, max_norm)`` as torch does it; returns ``(clipped, norm before the clip)``."""
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(x.astype(jnp.float32))) for x in jax.tree.leaves(update)))
    if max_norm <= 0:
        return update, norm
    coef = jnp.minimum(max_norm / (norm + _CLIP_EPS), 1.0)
    return jax.tree.map(lambda x: (x.astype(jnp.float32) * coef).astype(x.dtype), update), norm


def nash_mtl(num_iters: int = 40, reg: float = 1e-6, reduction: str = "sum", num_tasks: int | None = None,
             max_norm: float = 1.0, solver_unroll: int = _gram.DEFAULT_UNROLL) -> base.Aggregator:
    """Nash-MTL aggregator.

    Args:
      num_iters: damped Newton steps (T = 50 random problems converge in about 30).
      reg: ridge relative to the mean diagonal of the normalised Gram matrix.
      reduction: ``"sum"`` (default, the paper: ``sum_i alpha_i g_i``) or ``"mean"`` (divided by ``T``, before
        the clip).
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      max_norm: the official clip of the combined update's global norm (``1.0``, torch's
        ``clip_grad_norm_`` rule); ``<= 0`` turns it off, as in the official code. It covers the parameters
        given to this aggregator (the official code clips the shared parameters: use ``optax.partition`` to
        restrict it likewise).
      solver_unroll: Newton steps unrolled per loop step: compile time and speed, not the result.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``num_iters``/``reg``/``reduction``/``num_tasks``/``max_norm``/``solver_unroll``; an
        inconsistent task axis.
    """
    if not isinstance(num_iters, int) or num_iters < 1:
        raise ValueError(f"nash_mtl: num_iters must be a positive int; got {num_iters!r}")
    if not reg >= 0:
        raise ValueError(f"nash_mtl: reg must be >= 0; got {reg!r}")
    if not isinstance(max_norm, (int, float)) or math.isnan(max_norm):
        raise ValueError(f"nash_mtl: max_norm must be a number (<= 0 disables the clip); got {max_norm!r}")
    _gram.check_unroll("nash_mtl", solver_unroll)

    def weigh(gram, state, **extra):
        del state, extra
        alpha, residual = nash_mtl_weights(gram, num_iters, reg, solver_unroll)
        return alpha / (gram.shape[0] if reduction == "mean" else 1.0), (residual,)

    def finish(update):
        update, norm = _clip(update, float(max_norm))
        return update, (norm,)

    def init_fields():
        return jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32)

    return base.gram_method("nash_mtl", NashMTLState, num_tasks=num_tasks, reduction=reduction, weigh=weigh,
                            init_fields=init_fields, finish=finish)
