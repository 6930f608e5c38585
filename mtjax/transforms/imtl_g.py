"""IMTL-G: impartial multi-task learning, gradient part (Liu et al., "Towards Impartial Multi-task Learning",
ICLR 2021).

IMTL-G finds the update ``g = sum_i alpha_i g_i`` (``sum_i alpha_i = 1``) whose projections onto every unit
task gradient ``u_i = g_i/|g_i|`` are equal. With ``D`` the rows ``g_1 - g_i`` and ``U`` the rows
``u_1 - u_i`` (``i = 2..T``), the paper's closed form is ``alpha_{2:T} = g_1 U^T (D U^T)^{-1}`` and
``alpha_1 = 1 - sum alpha_{2:T}``; the reference codes (the Nash-MTL authors' ``methods/weight_methods.py``
class ``IMTLG``, LibMTL's ``weighting/IMTL.py``) invert ``D U^T`` as written. All inner products come from the
Gram matrix, so the solve is one ``(T-1) x (T-1)`` system, done here with a pseudo-inverse (equal to the
inverse whenever that exists; see ``docs/deviations.md``).

When ``T`` exceeds the rank of the gradients, no non-zero vector in their span has equal projections onto
``rank + 1`` unit gradients in general position, so the exact IMTL-G update is zero. ``rank_deficient=
"least_squares"`` offers the relaxation: the weights ``alpha ~ diag(1/|g|) C^+ 1`` (``C`` the cosine matrix),
whose update has projections onto the unit gradients closest to equal in least squares; with full-rank
gradients it is the same closed form.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import _gram, base

__all__ = ["IMTLGState", "imtl_g", "imtl_g_weights"]

_RANK_MODES = ("reference", "least_squares")


class IMTLGState(NamedTuple):
    """Diagnostics of the last IMTL-G step (see ``PCGradState``).

    ``fallback`` is 1 where the mean was used (a zero task gradient or a non-finite solve); ``rank`` is the
    numerical rank of the system solved (``T - 1`` for the reference system, ``T`` for the cosine system, when
    full).
    """

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    fallback: jax.Array
    rank: jax.Array


def _reference_alpha(gu: jax.Array, rcond: float) -> tuple[jax.Array, jax.Array]:
    """``(alpha, rank)``: ``alpha_{2:T} = g_1 U^T (D U^T)^+`` from ``gu[i, j] = <g_i, u_j>``."""
    r = gu[0, 0] - gu[0, 1:]                                                  # <g_1, u_1 - u_j>
    m = (gu[0, 0] - gu[0, 1:])[None, :] - (gu[1:, 0][:, None] - gu[1:, 1:])  # <g_1 - g_i, u_1 - u_j>
    # SVD of m^T: LAPACK's column-major operand is then the row-major m, so XLA keeps the Gram matrix in its
    # default layout (and summation order) under jit, and jit and eager agree to the last bit.
    u, s, vt = jnp.linalg.svd(m.T)                                            # m^T = u diag(s) vt
    keep = s > rcond * s[0]
    s_inv = jnp.where(keep, 1.0 / jnp.where(keep, s, 1.0), 0.0)
    rest = ((r @ u) * s_inv) @ vt                                             # r^T m^+, m^+ = u diag(1/s) vt
    return jnp.concatenate([1.0 - jnp.sum(rest, keepdims=True), rest]), jnp.sum(keep)


def _least_squares_alpha(gram: jax.Array, inv: jax.Array, rcond: float) -> tuple[jax.Array, jax.Array]:
    """``(alpha, rank)``: ``alpha ~ diag(1/|g|) C^+ 1`` (``C`` the cosine matrix), normalised to sum one."""
    cos = gram * inv[:, None] * inv[None, :]
    w, v = jnp.linalg.eigh(cos.T)                                             # == cos; ascending; layout above
    keep = w > rcond * w[-1]
    w_inv = jnp.where(keep, 1.0 / jnp.where(keep, w, 1.0), 0.0)
    beta = (v @ (w_inv * jnp.sum(v, axis=0))) * inv                          # diag(1/|g|) C^+ 1
    return beta / jnp.sum(beta), jnp.sum(keep)


def imtl_g_weights(gram: jax.Array, rank_deficient: str = "reference",
                   rcond: float = 1e-5) -> tuple[jax.Array, jax.Array, jax.Array]:
    """IMTL-G weights from a ``[T, T]`` Gram matrix.

    Args:
      gram: ``A [T, T] = G G^T``.
      rank_deficient: ``"reference"`` or ``"least_squares"`` (see ``imtl_g``).
      rcond: singular values (eigenvalues) below ``rcond`` times the largest are treated as zero.

    Returns:
      ``(alpha [T], fallback, rank)``: weights summing to one, 1 where the mean was used, the numerical rank.
    """
    t = gram.shape[0]
    if t == 1:
        return jnp.ones((1,), jnp.float32), jnp.zeros((), jnp.int32), jnp.ones((), jnp.int32)
    norm = jnp.sqrt(jnp.maximum(jnp.diag(gram), 0.0))
    inv = jnp.where(norm > 0, 1.0 / jnp.where(norm > 0, norm, 1.0), 0.0)
    if rank_deficient == "reference":
        alpha, rank = _reference_alpha(gram * inv[None, :], rcond)           # gu[i, j] = <g_i, u_j>
    else:
        alpha, rank = _least_squares_alpha(gram, inv, rcond)
    ok = jnp.all(jnp.isfinite(alpha)) & jnp.all(norm > 0)
    alpha = jnp.where(ok, alpha, jnp.full((t,), 1.0 / t))
    return alpha.astype(jnp.float32), (~ok).astype(jnp.int32), rank.astype(jnp.int32)


def imtl_g(reduction: str = "mean", num_tasks: int | None = None, rank_deficient: str = "reference",
           rcond: float = 1e-5) -> base.Aggregator:
    """IMTL-G aggregator.

    Args:
      reduction: ``"mean"`` (weights sum to one, the paper) or ``"sum"`` (times ``T``).
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.
      rank_deficient: what to do when the task gradients span fewer than ``T`` dimensions.
        ``"reference"`` (default, parity): the paper's closed form, solved with a pseudo-inverse; there the
        exact IMTL-G update is zero (in general position), so training stalls -- the reference inverts a
        numerically singular matrix instead and returns rounding noise. ``"least_squares"`` (the fix): the
        update whose projections onto the unit task gradients are closest to equal in least squares,
        normalised so the weights sum to one; identical to the closed form when the gradients have full
        rank ``T``.
      rcond: relative cutoff of the pseudo-inverse. The solved matrices carry float32 rounding of about
        ``1e-7`` relative (measured for T = 10..50), so ``1e-5`` keeps a 100x margin above it; it drops only
        genuine directions with condition number over ``1e5``, which float32 resolves to about 1 % at best.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``reduction``/``num_tasks``/``rank_deficient``/``rcond``; an inconsistent task axis at
        update time.
    """
    if rank_deficient not in _RANK_MODES:
        raise ValueError(f"imtl_g: rank_deficient must be one of {', '.join(_RANK_MODES)}; "
                         f"got {rank_deficient!r}")
    if not 0.0 <= rcond < 1.0:
        raise ValueError(f"imtl_g: rcond must be in [0, 1); got {rcond!r}")

    def weigh(gram, state, **extra):
        del state, extra
        alpha, fallback, rank = imtl_g_weights(gram, rank_deficient, rcond)
        return alpha * _gram.scale_for(reduction, gram.shape[0]), (fallback, rank)

    def init_fields():
        return jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32)

    return base.gram_method("imtl_g", IMTLGState, num_tasks=num_tasks, reduction=reduction, weigh=weigh,
                            init_fields=init_fields)
