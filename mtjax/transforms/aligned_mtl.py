"""Aligned-MTL: aligning the principal components of the task gradients (Senushkin et al., "Independent
Component Alignment for Multi-Task Learning", CVPR 2023, arXiv 2305.19000).

The task-gradient matrix ``G [T, P]`` is replaced by ``G' = B G`` whose rows are orthogonal with equal norms:
with the eigendecomposition ``G G^T = V diag(lambda) V^T`` restricted to the numerically non-zero eigenvalues,
``B = V diag(s / sqrt(lambda)) V^T`` where the scale ``s`` is ``sqrt(lambda_min)`` (``scale_mode="min"``, the
paper's default), ``sqrt(median lambda)`` or ``sqrt(mean lambda)`` (``"rmse"``). The update is the
(``reduction``-weighted) combination of the aligned gradients, i.e. weights ``B^T 1/T`` on the raw gradients.
The official code sums the aligned gradients (``reduction="sum"``); the default here keeps the mean scale.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from mtjax.transforms import base

__all__ = ["AlignedMTLState", "aligned_mtl", "aligned_mtl_weights"]

_SCALES = ("min", "median", "rmse")


class AlignedMTLState(NamedTuple):
    """Diagnostics of the last Aligned-MTL step (see ``PCGradState``); ``rank`` of the Gram matrix and its
    ``condition`` number over the kept eigenvalues."""

    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    rank: jax.Array
    condition: jax.Array


def aligned_mtl_weights(gram: jax.Array, scale_mode: str = "min") -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(B [T, T], rank, condition)`` for a ``[T, T]`` Gram matrix; aligned gradients are ``B G``."""
    t = gram.shape[0]
    lam, vec = jnp.linalg.eigh(gram.astype(jnp.float32))
    tol = jnp.max(lam) * t * jnp.finfo(jnp.float32).eps
    keep = lam > jnp.maximum(tol, 0.0)
    safe = jnp.where(keep, lam, 1.0)
    n_keep = jnp.maximum(jnp.sum(keep), 1)
    lam_min = jnp.min(jnp.where(keep, lam, jnp.inf))
    if scale_mode == "min":
        s2 = lam_min
    elif scale_mode == "median":
        s2 = jnp.nanmedian(jnp.where(keep, lam, jnp.nan))
    else:
        s2 = jnp.sum(jnp.where(keep, lam, 0.0)) / n_keep
    diag = jnp.where(keep, jnp.sqrt(s2 / safe), 0.0)
    b = (vec * diag[None, :]) @ vec.T
    b = jnp.where(jnp.any(keep), b, jnp.zeros_like(b))
    cond = jnp.where(jnp.any(keep), jnp.max(lam) / lam_min, 0.0)
    return b, jnp.sum(keep).astype(jnp.int32), cond.astype(jnp.float32)


def aligned_mtl(scale_mode: str = "min", reduction: str = "mean", num_tasks: int | None = None) -> base.Aggregator:
    """Aligned-MTL aggregator.

    Args:
      scale_mode: ``"min"`` (paper default), ``"median"`` or ``"rmse"``.
      reduction: ``"mean"`` or ``"sum"`` (official code) of the aligned gradients.
      num_tasks: optional ``T``; when given, ``task_weights [T]`` is recorded and ``T`` is checked.

    Returns:
      An Aggregator over task-stacked gradients (no extra arguments).

    Raises:
      ValueError: bad ``scale_mode``/``reduction``/``num_tasks``; an inconsistent task axis at update time.
    """
    if scale_mode not in _SCALES:
        raise ValueError(f"aligned_mtl: scale_mode must be one of {_SCALES}; got {scale_mode!r}")

    def weigh(gram, state, **extra):
        del state, extra
        t = gram.shape[0]
        b, rank, cond = aligned_mtl_weights(gram, scale_mode)
        pref = jnp.full((t,), 1.0 / t if reduction == "mean" else 1.0, jnp.float32)
        return b.T @ pref, (rank, cond)

    def init_fields():
        return jnp.zeros((), jnp.int32), jnp.zeros((), jnp.float32)

    return base.gram_method("aligned_mtl", AlignedMTLState, num_tasks=num_tasks, reduction=reduction,
                            weigh=weigh, init_fields=init_fields)
