"""CAGrad: conflict-averse gradient descent (Liu et al., "Conflict-Averse Gradient Descent for Multi-task
Learning", NeurIPS 2021, arXiv 2110.14048).

With ``G = [g_1 .. g_T]``, ``A = G G^T``, ``g0 = mean_i g_i`` and ``c' = c |g0| + 1e-8`` (with
``|g0| = sqrt(mean(A) + 1e-8)``), the dual weights solve

    w* = argmin_{w in simplex}  w^T A 1/T + c' sqrt(w^T A w + 1e-8)

and the update is ``g = g0 + c'/(|G^T w*| + 1e-8) G^T w*``, optionally rescaled. This is exactly the objective of
the official code and of MTBench's ``grad_mani.cagrad_backward``, which both solve it with scipy SLSQP on the
host every step. Here the simplex problem is solved on device in a fixed number of iterations: accelerated
projected gradient (``optax.projections.projection_simplex``) whose step size comes from the concave
majoriser of the square root (``1/L`` with ``L = c' lambda_max(A)/sqrt(w^T A w)``, ``lambda_max`` bounded by
Gershgorin), with gradient-based adaptive restarts, run in a ``fori_loop`` on the ``T x T`` Gram matrix (scale-normalised,
which leaves the minimiser unchanged).

Rescaling conventions (``rescale``, as in the official code): ``0`` none, ``1`` divide by ``1 + c^2``
(official default and MTBench), ``2`` divide by ``1 + c``. MTBench then multiplies by ``T`` "to match the sum
loss": use ``reduction="sum"`` for that (``reduction="mean"``, the default, keeps the mean-gradient scale, so
``c = 0`` reproduces ``mean()``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from mtjax.transforms import _gram, base

__all__ = ["CAGradState", "cagrad", "cagrad_solve"]


class CAGradState(NamedTuple):
    """Diagnostics of the last CAGrad step.

    Attributes:
      num_conflicts: number of task pairs ``i < j`` with ``<g_i, g_j> < 0`` (int32 scalar).
      min_cosine: smallest pairwise cosine similarity of the raw task gradients.
      mean_cosine: mean pairwise cosine similarity.
      task_weights: ``[num_tasks]`` final coefficients of the raw gradients in the update (``[0]`` without
        ``num_tasks``).
      objective: value of the dual objective at the returned ``w*`` (in the units of ``A``).
      w_star: ``[num_tasks]`` simplex solution of the last step (the next step's warm start; ``[0]`` without
        ``num_tasks``).
    """

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    objective: jax.Array
    w_star: jax.Array


def cagrad_solve(gram: jax.Array, c: float, num_iters: int = 100, w_init: jax.Array | None = None,
                 projection: str = "optax") -> tuple[jax.Array, jax.Array]:
    """Solves CAGrad's dual simplex problem on device.

    Args:
      gram: ``[T, T]`` Gram matrix of the task gradients.
      c: the CAGrad radius ``c >= 0``.
      num_iters: fixed number of accelerated projected-gradient iterations.
      w_init: optional ``[T]`` simplex starting point (default uniform, SLSQP's start in the reference).
      projection: ``"optax"`` (``optax.projections.projection_simplex``, sort based) or ``"pairwise"``
        (sort-free ``O(T^2)``, fewer GPU kernels per iteration); same result up to rounding.

    Returns:
      ``(w*, c')``: the ``[T]`` simplex weights and the effective radius ``c' = c |g0| + 1e-8``.
    """
    t = gram.shape[0]
    project = optax.projections.projection_simplex if projection == "optax" else _gram.projection_simplex_pairwise
    c_eff = c * jnp.sqrt(jnp.mean(gram) + 1e-8) + 1e-8
    scale = jnp.maximum(jnp.mean(jnp.diag(gram)), 1e-30)
    a = gram / scale                                    # f(w; A) = scale * f(w; A/scale) with these rescalings
    eps = 1e-8 / scale
    ce = c_eff / jnp.sqrt(scale)
    b = jnp.mean(a, axis=1)
    lmax = jnp.max(jnp.sum(jnp.abs(a), axis=1))         # Gershgorin bound on lambda_max(A)
    w0 = jnp.full((t,), 1.0 / t, jnp.float32) if w_init is None else w_init.astype(jnp.float32)

    def body(_, carry):
        x, y, tk = carry
        q = y @ a @ y + eps
        grad = b + ce * (a @ y) / jnp.sqrt(q)
        lip = ce * lmax / jnp.sqrt(q) + 1e-12
        x_new = project(y - grad / lip)
        restart = jnp.dot(y - x_new, x_new - x) > 0     # gradient-based adaptive restart (O'Donoghue & Candes)
        t_new = jnp.where(restart, 1.0, (1.0 + jnp.sqrt(1.0 + 4.0 * tk * tk)) / 2.0)
        y_new = jnp.where(restart, x_new, x_new + ((tk - 1.0) / t_new) * (x_new - x))
        return x_new, y_new, t_new

    w, _, _ = _gram.solver_loop(num_iters, body, (w0, w0, jnp.ones((), jnp.float32)))
    return w, c_eff


def cagrad(c: float = 0.4, num_iters: int = 100, rescale: int = 1, reduction: str = "mean",
           num_tasks: int | None = None, warm_start: bool = True, projection: str = "optax") -> base.Aggregator:
    """CAGrad aggregator.

    Args:
      c: conflict-aversion radius (0.4 in MTBench and the paper's Meta-World runs); ``c = 0`` gives the mean.
      num_iters: fixed iteration count of the on-device simplex solver.
      rescale: ``0`` none, ``1`` divide by ``1 + c^2`` (official default, MTBench), ``2`` divide by ``1 + c``.
      reduction: ``"mean"`` keeps the mean-gradient scale; ``"sum"`` multiplies by ``T`` (MTBench).
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      warm_start: with ``num_tasks``, start each solve from the previous step's ``w*`` (consecutive minibatches
        have similar Gram matrices, so few iterations suffice); the first step starts from uniform.
      projection: simplex projection of the solver, ``"optax"`` or ``"pairwise"`` (see ``cagrad_solve``).

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments needed).

    Raises:
      ValueError: ``c < 0``, ``num_iters < 1``, ``rescale`` not in ``{0, 1, 2}``, bad ``reduction`` or
        ``num_tasks``; at update time, an inconsistent task axis.
    """
    if not c >= 0:
        raise ValueError(f"cagrad: c must be >= 0; got {c!r}")
    if not isinstance(num_iters, int) or num_iters < 1:
        raise ValueError(f"cagrad: num_iters must be a positive int; got {num_iters!r}")
    if projection not in ("optax", "pairwise"):
        raise ValueError(f"cagrad: projection must be one of 'optax', 'pairwise'; got {projection!r}")
    if rescale not in (0, 1, 2):
        raise ValueError(f"cagrad: rescale must be one of 0 (none), 1 (1+c^2), 2 (1+c); got {rescale!r}")
    _gram.check_reduction("cagrad", reduction)
    _gram.check_num_tasks("cagrad", num_tasks)
    divisor = {0: 1.0, 1: 1.0 + c * c, 2: 1.0 + c}[rescale]

    def init_fn(params: Any) -> CAGradState:
        del params
        zero = jnp.zeros((), jnp.float32)
        w0 = jnp.full((num_tasks or 0,), 1.0 / (num_tasks or 1), jnp.float32)
        return CAGradState(jnp.zeros((), jnp.int32), zero, zero, _gram.weights_buffer(num_tasks), zero, w0)

    @_gram.full_precision
    def update_fn(task_grads, state, params=None, **extra):
        del params, extra
        t = _gram.tasks_checked("cagrad", task_grads, num_tasks)
        gram = _gram.gram_matrix(task_grads)
        w_init = state.w_star if (warm_start and num_tasks) else None
        w_star, c_eff = cagrad_solve(gram, c, num_iters, w_init, projection)
        gw_norm = jnp.sqrt(jnp.maximum(w_star @ gram @ w_star, 0.0))
        lam = c_eff / (gw_norm + 1e-8)
        w = (jnp.full((t,), 1.0 / t) + lam * w_star) / divisor * _gram.scale_for(reduction, t)
        obj = w_star @ jnp.mean(gram, axis=1) + c_eff * jnp.sqrt(w_star @ gram @ w_star + 1e-8)
        nc, mn, me = _gram.conflict_summary(gram)
        new_state = CAGradState(nc, mn, me, _gram.stored_weights(w, num_tasks), obj.astype(jnp.float32),
                                _gram.stored_weights(w_star, num_tasks))
        return _gram.combine(w, task_grads), new_state

    return base.Aggregator(init=init_fn, update=update_fn)
