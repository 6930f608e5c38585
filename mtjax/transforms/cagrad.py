"""CAGrad: conflict-averse gradient descent (Liu et al., "Conflict-Averse Gradient Descent for Multi-task
Learning", NeurIPS 2021, arXiv 2110.14048).

With ``G = [g_1 .. g_T]``, ``A = G G^T``, ``g0 = mean_i g_i`` and ``c' = c |g0| + 1e-8`` (with
``|g0| = sqrt(mean(A) + 1e-8)``), the dual weights solve

    w* = argmin_{w in simplex}  f(w) = w^T A 1/T + c' sqrt(w^T A w + 1e-8)

and the update is ``g = g0 + c'/(|G^T w*| + 1e-8) G^T w*``, optionally rescaled. This is exactly the objective of
the official code and of MTBench's ``grad_mani.cagrad_backward``, which both call
``scipy.optimize.minimize`` (SLSQP, default tolerances) on the host every step. Here the simplex problem is
solved exactly, on device, in a fixed number of iterations on the scale-normalised ``T x T`` Gram matrix
(``A / mean(diag A)``, which leaves the minimiser unchanged):

1. ``num_iters`` accelerated projected-gradient steps (``optax.projections.projection_simplex``; step ``1/L``
   from the concave majoriser of the square root, ``L = c' lambda_max(A)/sqrt(w^T A w)`` with ``lambda_max``
   bounded by Gershgorin; gradient-based adaptive restarts) find the support approximately.
2. ``num_face_iters`` primal active-set steps finish the solve. On a face ``S`` the stationary point of ``f``
   on the affine hull of ``S`` is closed form: with ``lam = c'/sqrt(w^T A w + 1e-8)`` the stationarity
   condition ``A 1/T + lam A w = mu 1`` is linear in ``(lam w, mu)``, so one ``(T+1) x (T+1)`` KKT solve with
   two right-hand sides gives ``w(lam) = z2 + z1/lam`` and ``lam`` is the positive root of the quadratic
   ``lam^2 (w(lam)^T A w(lam) + 1e-8) = c'^2`` (no positive root: ``f`` is unbounded below on the affine
   hull and ``z1`` is a recession direction). A small proximal term centred at the current point keeps
   affinely dependent faces (duplicate or rank-deficient gradients) solvable in float32 without biasing the
   fixed point. Each step takes the best of: the ratio-test point towards the face point or along ``z1``
   (dropping the first weight that hits zero), projections onto the face of a few longer steps (dropping
   several at once), and one majorised projected-gradient step; ``x`` itself stays if none is better, so
   ``f`` never increases. Once a face is solved, the task whose partial derivative most violates the KKT
   conditions joins it. Defaults: 50 + ``min(2T, 30)`` iterations (an earlier version ran 100
   projected-gradient iterations and missed by up to 1e-2 on ill-conditioned problems).

``docs/deviations.md`` records the measured objective gaps against a float64 reference and
how MTBench's SLSQP call (default ``ftol``, finite differences) departs from the exact solution.

Rescaling conventions (``rescale``, as in the official code): ``0`` none, ``1`` divide by ``1 + c^2``
(official default and MTBench), ``2`` divide by ``1 + c``. MTBench then multiplies by ``T`` "to match the sum
loss": use ``reduction="sum"`` for that (``reduction="mean"``, the default, keeps the mean-gradient scale, so
``c = 0`` reproduces ``mean()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mtjax.transforms import _gram, base

__all__ = ["CAGradState", "cagrad", "cagrad_solve"]

# Proximal weight of the face solve, relative to the normalised Gram (mean diagonal 1). It caps the condition
# number of the KKT block at about 1e4 (float32 solves keep ~3 digits there), and since the term is centred at
# the current point it vanishes at the fixed point. Measured: 1e-5 and 1e-4 alike, 1e-3 slower to converge.
_FACE_PROX = 1e-4
# A task joins the face when its partial derivative is below the face's common value by more than this
# fraction of max|grad f| (float32 gradient noise is ~1e-7 of it).
_KKT_TOL = 1e-6
# Step multiples of the projected search along a face direction (see _along): 8, 64, 512, 4096 (measured as
# good as the ten steps 2, 4, ..., 1024 and cheaper).
_SEARCH_STEPS = 8.0 ** np.arange(1, 5, dtype=np.float32)
# Default active-set iterations: min(2 T, this). Measured need after 50 projected-gradient steps, worst of
# 2,112 random problems (docs/deviations.md): T <= 10: 6, T = 50: 20 (gap <= 1e-4 S).
_FACE_ITERS_CAP = 30


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


class _Problem(NamedTuple):
    """The dual problem on the normalised Gram: ``f(w) = b^T w + ce sqrt(w^T a w + eps)``."""

    a: jax.Array  # [T, T]
    b: jax.Array  # [T]
    ce: jax.Array
    eps: jax.Array

    def value(self, w: jax.Array) -> jax.Array:
        return self.b @ w + self.ce * jnp.sqrt(jnp.maximum(w @ self.a @ w, 0.0) + self.eps)

    def grad(self, w: jax.Array) -> jax.Array:
        return self.b + self.ce * (self.a @ w) / jnp.sqrt(jnp.maximum(w @ self.a @ w, 0.0) + self.eps)


def _projected_gradient(prob: _Problem, w0: jax.Array, num_iters: int, project: Callable,
                        unroll: int) -> jax.Array:
    """Accelerated projected gradient with adaptive restarts (O'Donoghue & Candes) from ``w0``."""
    lmax = jnp.max(jnp.sum(jnp.abs(prob.a), axis=1))    # Gershgorin bound on lambda_max(A)

    def body(_, carry):
        x, y, tk = carry
        q = jnp.maximum(y @ prob.a @ y, 0.0) + prob.eps
        lip = prob.ce * lmax / jnp.sqrt(q) + 1e-12
        x_new = project(y - prob.grad(y) / lip)
        restart = jnp.dot(y - x_new, x_new - x) > 0
        t_new = jnp.where(restart, 1.0, (1.0 + jnp.sqrt(1.0 + 4.0 * tk * tk)) / 2.0)
        y_new = jnp.where(restart, x_new, x_new + ((tk - 1.0) / t_new) * (x_new - x))
        return x_new, y_new, t_new

    w, _, _ = _gram.solver_loop(num_iters, body, (w0, w0, jnp.ones((), jnp.float32)), unroll)
    return w


def _face_point(prob: _Problem, m: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Stationary point on the affine hull of the face ``m`` (``[T]`` 0/1) of ``f + (lam rho/2)|w - x|^2``.

    ``rho = _FACE_PROX``. Returns ``(y, z1, bounded)``: ``y = z2 + z1/lam``; when the quadratic for ``lam``
    has no positive root, ``f`` is unbounded below on the affine hull and ``z1`` (sum zero) is a direction
    along which it decreases.
    """
    t = m.shape[0]
    block = prob.a * m[:, None] * m[None, :] + jnp.diag(1.0 - m + _FACE_PROX * m)
    kkt = jnp.block([[block, m[:, None]], [m[None, :], jnp.zeros((1, 1), m.dtype)]])
    rhs = jnp.stack([jnp.append(-m * prob.b, 0.0), jnp.append(_FACE_PROX * m * x, 1.0)], axis=1)
    sol = jnp.linalg.solve(kkt, rhs)                     # [z; mu] for the two right-hand sides
    z1, z2 = sol[:t, 0] * m, sol[:t, 1] * m
    # lam^2 (z2'A z2 + eps) + 2 lam z1'A z2 + z1'A z1 - ce^2 = 0, divided through by the leading coefficient.
    lead = z2 @ prob.a @ z2 + prob.eps
    half_b = (z1 @ prob.a @ z2) / lead
    const = (z1 @ prob.a @ z1 - prob.ce * prob.ce) / lead
    disc = half_b * half_b - const
    lam = -half_b + jnp.sqrt(jnp.maximum(disc, 0.0))
    bounded = (disc >= 0) & (lam > 0)
    return z2 + z1 / jnp.where(bounded, lam, 1.0), z1, bounded


def _along(x: jax.Array, d: jax.Array, m: jax.Array, cap: float, project: Callable) -> jax.Array:
    """Candidate points ``[1 + len(_SEARCH_STEPS), T]`` on the face ``m`` along ``x + s d`` (``d`` sums to 0).

    The first is the ratio-test point ``x + min(s_max, cap) d`` (``s_max``: where the first weight hits zero;
    that weight is then dropped); the others are the projections onto the face's simplex of
    ``x + s d`` for ``s = min(s_max, cap) * _SEARCH_STEPS``, which can drop several tasks at once.
    """
    blocking = (d < 0) & (m > 0)
    ratios = jnp.where(blocking, x / jnp.where(blocking, -d, 1.0), jnp.inf)
    s_max = jnp.min(ratios)
    s = jnp.minimum(s_max, cap)
    x_ls = jnp.maximum(x + s * d, 0.0)
    x_ls = jnp.where(s_max <= cap, x_ls.at[jnp.argmin(ratios)].set(0.0), x_ls)
    steps = jnp.where(jnp.isfinite(s), s, 1.0) * _SEARCH_STEPS
    pts = x[None] + steps[:, None] * d[None]
    # Entries off the face go 2 below the row's largest, so the projection sets them to zero.
    off = jnp.max(jnp.where(m > 0, pts, -jnp.inf), axis=1, keepdims=True) - 2.0
    return jnp.concatenate([(x_ls / jnp.sum(x_ls))[None], jax.vmap(project)(jnp.where(m > 0, pts, off))])


def _active_set_step(prob: _Problem, x: jax.Array, m: jax.Array,
                     project: Callable) -> tuple[jax.Array, jax.Array]:
    """One primal active-set iteration from ``x`` (supported in face ``m``); returns the new ``(x, m)``.

    Candidates: points towards the face's stationary point (when it exists), along the recession direction
    ``z1`` (always: near the bounded/unbounded boundary float32 can misjudge the root), and one majorised
    projected-gradient step (always descends; the fallback that keeps every iteration productive). The best
    value of ``f`` wins, ``x`` itself included, so ``f`` never increases.
    """
    y, z1, bounded = _face_point(prob, m, x)
    g = prob.grad(x)
    lip = prob.ce * jnp.max(jnp.sum(jnp.abs(prob.a), axis=1)) / jnp.sqrt(
        jnp.maximum(x @ prob.a @ x, 0.0) + prob.eps)
    face_pts = _along(x, (y - x) * m, m, 1.0, project)
    ray_pts = _along(x, z1, m, jnp.inf, project)
    pg_pt = project(x - g / (lip + 1e-12))
    cands = jnp.concatenate([x[None], face_pts, ray_pts, pg_pt[None]])
    cands = cands / jnp.sum(cands, axis=1, keepdims=True)  # on the simplex exactly, so values compare fairly
    usable = jnp.concatenate([jnp.ones(1, bool), jnp.full(face_pts.shape[0], bounded),
                              jnp.ones(ray_pts.shape[0] + 1, bool)])
    vals = jax.vmap(prob.value)(cands)
    vals = jnp.where(usable & jnp.all(jnp.isfinite(cands), axis=1) & jnp.isfinite(vals), vals, jnp.inf)
    x_new = cands[jnp.argmin(vals)]
    m_new = (x_new > 0).astype(m.dtype)
    # Once the face is solved (no task dropped), add the task that most violates the KKT conditions.
    g = prob.grad(x_new)
    outside = jnp.where(m_new > 0, jnp.inf, g)
    j = jnp.argmin(outside)
    add = jnp.all(m_new == m) & (outside[j] < x_new @ g - _KKT_TOL * jnp.max(jnp.abs(g)))
    return x_new, jnp.where(add, m_new.at[j].set(1.0), m_new)


def cagrad_solve(gram: jax.Array, c: float, num_iters: int = 50, w_init: jax.Array | None = None,
                 projection: str = "optax", num_face_iters: int | None = None,
                 unroll: int = _gram.DEFAULT_UNROLL) -> tuple[jax.Array, jax.Array]:
    """Solves CAGrad's dual simplex problem on device.

    Args:
      gram: ``[T, T]`` Gram matrix of the task gradients.
      c: the CAGrad radius ``c >= 0``.
      num_iters: accelerated projected-gradient iterations before the active-set phase.
      w_init: optional ``[T]`` simplex starting point (default uniform, SLSQP's start in the reference).
      projection: ``"optax"`` (``optax.projections.projection_simplex``, sort based) or ``"pairwise"``
        (sort-free ``O(T^2)``, fewer GPU kernels per iteration); same result up to rounding.
      num_face_iters: active-set iterations, each one ``(T+1) x (T+1)`` linear solve; default ``min(2T, 30)``
        (validated for ``T <= 50``). ``0`` keeps only the projected-gradient phase (inexact on ill-conditioned
        problems; see ``docs/deviations.md``).
      unroll: projected-gradient iterations unrolled per loop step (speed, not the result).

    Returns:
      ``(w*, c')``: the ``[T]`` simplex weights and the effective radius ``c' = c |g0| + 1e-8``.
    """
    t = gram.shape[0]
    project = optax.projections.projection_simplex if projection == "optax" else _gram.projection_simplex_pairwise
    c_eff = c * jnp.sqrt(jnp.mean(gram) + 1e-8) + 1e-8
    scale = jnp.maximum(jnp.mean(jnp.diag(gram)), 1e-30)
    a = gram / scale                                    # f(w; A) = scale * f(w; A/scale) with these rescalings
    prob = _Problem(a, jnp.mean(a, axis=1), c_eff / jnp.sqrt(scale), 1e-8 / scale)
    w0 = jnp.full((t,), 1.0 / t, jnp.float32) if w_init is None else w_init.astype(jnp.float32)
    w = _projected_gradient(prob, w0, num_iters, project, unroll)
    n_face = min(2 * t, _FACE_ITERS_CAP) if num_face_iters is None else num_face_iters
    if n_face:
        # Not unrolled: each iteration holds a linear solve that XLA cannot fuse across iterations, and
        # unrolling by 8 multiplied the compile time (CPU, T=50: 1.8 s -> 4.8 s).
        w, _ = jax.lax.fori_loop(0, n_face, lambda _, carry: _active_set_step(prob, *carry, project),
                                 (w, (w > 0).astype(jnp.float32)))
    return w, c_eff


def cagrad(c: float = 0.4, num_iters: int = 50, rescale: int = 1, reduction: str = "mean",
           num_tasks: int | None = None, warm_start: bool = True, projection: str = "optax",
           num_face_iters: int | None = None, solver_unroll: int = _gram.DEFAULT_UNROLL) -> base.Aggregator:
    """CAGrad aggregator.

    Args:
      c: conflict-aversion radius (0.4 in MTBench and the paper's Meta-World runs); ``c = 0`` gives the mean.
      num_iters: projected-gradient iterations of the on-device simplex solver (see ``cagrad_solve``).
      rescale: ``0`` none, ``1`` divide by ``1 + c^2`` (official default, MTBench), ``2`` divide by ``1 + c``.
      reduction: ``"mean"`` keeps the mean-gradient scale; ``"sum"`` multiplies by ``T`` (MTBench).
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      warm_start: with ``num_tasks``, start each solve from the previous step's ``w*`` (consecutive minibatches
        have similar Gram matrices, so few iterations suffice); the first step starts from uniform.
      projection: simplex projection of the solver, ``"optax"`` or ``"pairwise"`` (see ``cagrad_solve``).
      num_face_iters: active-set iterations that make the solve exact; default ``min(2T, 30)``, ``0`` for the
        projected-gradient phase alone (see ``cagrad_solve``).
      solver_unroll: projected-gradient iterations unrolled per loop step: compile time and speed, not the result.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments needed).

    Raises:
      ValueError: ``c < 0``, ``num_iters < 1``, ``num_face_iters < 0``, ``rescale`` not in ``{0, 1, 2}``, bad
        ``reduction``, ``num_tasks`` or ``solver_unroll``; at update time, an inconsistent task axis.
    """
    if not c >= 0:
        raise ValueError(f"cagrad: c must be >= 0; got {c!r}")
    if not isinstance(num_iters, int) or num_iters < 1:
        raise ValueError(f"cagrad: num_iters must be a positive int; got {num_iters!r}")
    if num_face_iters is not None and (not isinstance(num_face_iters, int) or num_face_iters < 0):
        raise ValueError(f"cagrad: num_face_iters must be None or an int >= 0; got {num_face_iters!r}")
    if projection not in ("optax", "pairwise"):
        raise ValueError(f"cagrad: projection must be one of 'optax', 'pairwise'; got {projection!r}")
    if rescale not in (0, 1, 2):
        raise ValueError(f"cagrad: rescale must be one of 0 (none), 1 (1+c^2), 2 (1+c); got {rescale!r}")
    _gram.check_unroll("cagrad", solver_unroll)
    divisor = {0: 1.0, 1: 1.0 + c * c, 2: 1.0 + c}[rescale]

    def weigh(gram, state, **extra):
        del extra
        t = gram.shape[0]
        w_init = state.w_star if (warm_start and num_tasks) else None
        w_star, c_eff = cagrad_solve(gram, c, num_iters, w_init, projection, num_face_iters, solver_unroll)
        gw_norm = jnp.sqrt(jnp.maximum(w_star @ gram @ w_star, 0.0))
        lam = c_eff / (gw_norm + 1e-8)
        w = (jnp.full((t,), 1.0 / t) + lam * w_star) / divisor * _gram.scale_for(reduction, t)
        obj = w_star @ jnp.mean(gram, axis=1) + c_eff * jnp.sqrt(w_star @ gram @ w_star + 1e-8)
        return w, (obj.astype(jnp.float32), _gram.stored_weights(w_star, num_tasks))

    def init_fields():
        return jnp.zeros((), jnp.float32), jnp.full((num_tasks or 0,), 1.0 / (num_tasks or 1), jnp.float32)

    return base.gram_method("cagrad", CAGradState, num_tasks=num_tasks, reduction=reduction, weigh=weigh,
                            init_fields=init_fields)
