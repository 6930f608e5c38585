"""Shared Gram-space helpers for the multi-task transforms (private).

Every method in this package reduces to task weights ``w [T]`` computed from the ``T x T`` Gram matrix
``A = G G^T`` of the task gradients, followed by ``update = sum_i w_i g_i``. Working in Gram space keeps the
inner solvers ``O(T^2)``/``O(T^3)`` regardless of the parameter count ``P`` and avoids materialising a
``[T, P]`` copy of the gradients: the Gram matrix is accumulated leaf by leaf.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

_HI = jax.lax.Precision.HIGHEST

# Default number of iterations of the fixed-length inner solvers unrolled per loop step (the methods'
# ``solver_unroll`` argument). On a GPU each iteration on a T x T matrix is a handful of tiny kernels, so the
# solvers are launch-bound; unrolling lets XLA fuse iterations. 8 was the best of 1, 8 and 50 on an H200
# (``python -m experiments.benchmark_transforms --solver_unroll=N``; PCGrad and UPGrad gain most, 50 compiles
# slowly).
DEFAULT_UNROLL = 8


def solver_loop(num_iters: int, body: Callable, init: Any, unroll: int = DEFAULT_UNROLL) -> Any:
    """``lax.fori_loop(0, num_iters, body, init)`` with ``unroll`` iterations per loop step (capped)."""
    return jax.lax.fori_loop(0, num_iters, body, init, unroll=max(1, min(unroll, num_iters)))


def num_tasks_of(task_grads: Any) -> int:
    """The leading task axis ``T`` shared by every leaf; raises ``ValueError`` if leaves disagree."""
    leaves = jax.tree.leaves(task_grads)
    if not leaves:
        raise ValueError("task_grads is an empty pytree")
    sizes = {int(x.shape[0]) if x.ndim else -1 for x in leaves}
    if len(sizes) != 1 or -1 in sizes:
        shapes = [tuple(x.shape) for x in leaves]
        raise ValueError(f"every leaf of task_grads needs the same leading task axis T; got shapes {shapes}")
    return sizes.pop()


def full_precision(fn: Callable) -> Callable:
    """Traces ``fn`` with float32 matmuls at full precision (GPUs otherwise use TF32 for the small solvers)."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with jax.default_matmul_precision("highest"):
            return fn(*args, **kwargs)

    return wrapped


def gram_matrix(task_grads: Any) -> jax.Array:
    """``A [T, T] = sum over leaves of g_l g_l^T`` in float32 (full matmul precision, no TF32)."""
    t = num_tasks_of(task_grads)
    out = jnp.zeros((t, t), jnp.float32)
    for x in jax.tree.leaves(task_grads):
        m = x.reshape(t, -1).astype(jnp.float32)
        out = out + jnp.matmul(m, m.T, precision=_HI)
    return out


def combine(weights: jax.Array, task_grads: Any) -> Any:
    """``sum_i weights[i] * g_i`` for every leaf: a params-shaped pytree (leaf dtypes kept)."""
    return jax.tree.map(
        lambda g: jnp.tensordot(weights.astype(jnp.float32), g.astype(jnp.float32), axes=1,
                                precision=_HI).astype(g.dtype),
        task_grads,
    )


def conflict_summary(gram: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Pairwise conflict statistics of a Gram matrix.

    Returns:
      ``(num_conflicts, min_cosine, mean_cosine)``: the number of unordered task pairs ``i < j`` with
      ``<g_i, g_j> < 0`` (int32), and the min / mean cosine similarity over those pairs (float32; 1.0 when
      ``T == 1``). Zero gradients count as cosine 0.
    """
    t = gram.shape[0]
    norm = jnp.sqrt(jnp.maximum(jnp.diag(gram), 0.0))
    denom = norm[:, None] * norm[None, :]
    cos = jnp.where(denom > 0, gram / jnp.where(denom > 0, denom, 1.0), 0.0)
    upper = jnp.triu(jnp.ones((t, t), bool), k=1)
    n_pairs = max(t * (t - 1) // 2, 1)
    num_conflicts = jnp.sum(jnp.where(upper, gram < 0, False)).astype(jnp.int32)
    if t == 1:
        return num_conflicts, jnp.ones((), jnp.float32), jnp.ones((), jnp.float32)
    min_cos = jnp.min(jnp.where(upper, cos, jnp.inf))
    mean_cos = jnp.sum(jnp.where(upper, cos, 0.0)) / n_pairs
    return num_conflicts, min_cos.astype(jnp.float32), mean_cos.astype(jnp.float32)


def projection_simplex_pairwise(v: jax.Array) -> jax.Array:
    """Euclidean projection of ``v [T]`` onto the probability simplex without a sort.

    Uses ``tau = max_k (S_k - 1) / c_k`` with ``c_k = #{j : v_j >= v_k}`` and ``S_k`` the sum of those ``v_j``
    (the sorted-cumsum threshold, evaluated for every candidate at once), then ``relu(v - tau)``. ``O(T^2)``
    elementwise work in two fusions -- cheaper than a sort and a cumsum for the small ``T`` of multi-task
    problems on a GPU, where those are separate latency-bound kernels.
    """
    ge = (v[None, :] >= v[:, None]).astype(v.dtype)
    tau = jnp.max((jnp.sum(ge * v[None, :], axis=1) - 1.0) / jnp.sum(ge, axis=1))
    return jax.nn.relu(v - tau)


def check_reduction(method: str, reduction: str) -> None:
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{method}: reduction must be one of 'mean', 'sum'; got {reduction!r}")


def check_num_tasks(method: str, num_tasks: int | None) -> None:
    if num_tasks is not None and (not isinstance(num_tasks, int) or num_tasks < 1):
        raise ValueError(f"{method}: num_tasks must be a positive int or None; got {num_tasks!r}")


def check_unroll(method: str, solver_unroll: int) -> None:
    if not isinstance(solver_unroll, int) or isinstance(solver_unroll, bool) or solver_unroll < 1:
        raise ValueError(f"{method}: solver_unroll must be a positive int; got {solver_unroll!r}")


def weights_buffer(num_tasks: int | None) -> jax.Array:
    """The ``task_weights`` diagnostic: ``[num_tasks]`` zeros, or ``[0]`` when ``num_tasks`` is unknown."""
    return jnp.zeros((num_tasks or 0,), jnp.float32)


def tasks_checked(method: str, task_grads: Any, num_tasks: int | None) -> int:
    """``T`` of ``task_grads``; raises if it disagrees with the factory's ``num_tasks``."""
    t = num_tasks_of(task_grads)
    if num_tasks is not None and t != num_tasks:
        raise ValueError(f"{method} was built with num_tasks={num_tasks} but got task_grads with T={t}")
    return t


def stored_weights(weights: jax.Array, num_tasks: int | None) -> jax.Array:
    return weights.astype(jnp.float32) if num_tasks else jnp.zeros((0,), jnp.float32)


def scale_for(reduction: str, t: int) -> float:
    """Factor that turns mean-normalised weights (summing to about 1) into the chosen reduction."""
    return 1.0 if reduction == "mean" else float(t)
