"""FAMO: fast adaptive multitask optimisation (Liu et al., "FAMO: Fast Adaptive Multitask Optimization",
NeurIPS 2023, arXiv 2306.03792), as an Aggregator over task-stacked gradients plus ``task_losses=``.

Task weights come from logits ``xi [T]``: ``z = softmax(xi)``, ``D_k = l_k - l_min + eps`` (``l_min = 0``),
``c = sum_k z_k / D_k``, and the update is the normalised task-weighted gradient
``sum_k (z_k / D_k) / c * g_k`` -- the gradient of ``sum_k z_k log D_k / c`` with ``c`` held constant (its
weights sum to one, so ``reduction="mean"`` has the scale of ``mean()``; ``"sum"`` multiplies by ``T``).
The logits follow the loss-improvement rates ``delta_k = log(l_prev,k - l_min + eps) - log(l_k - l_min + eps)``
through the softmax Jacobian, ``d = J_softmax(xi)^T delta``, optionally normalised to unit norm, and one step of
their own optimiser: torch ``Adam(lr=w_lr, weight_decay=gamma)``, i.e. ``chain(add_decayed_weights(gamma),
adam(w_lr))`` (not AdamW).

Two variants:
  * ``"paper"`` (official code: ``w_lr=0.025``, ``gamma=0.01``, ``eps=1e-8``, no logit-gradient
    normalisation). The paper measures ``delta`` on the *same* batch before and after the parameter step.
    An optax transform only sees the losses of the batch it is given, so on each call (after the first) the
    logits are first updated with ``delta(l_prev, l)`` and the new weights are then used. When consecutive calls
    see the same data (full-batch training, e.g. the notebook), ``l`` is exactly the post-step loss of the
    previous batch and this is the paper's algorithm; with minibatches it compares consecutive minibatches.
  * ``"mtbench"`` (MTBench ``FAMOA2CAgent``: ``w_lr=1e-3``, ``gamma=1e-3``, ``eps=1e-2``, unit-norm
    logit gradient). The weights of the current call use the logits *before* the update, then the logits are
    updated with ``delta`` between the previous and the current minibatch; the first ``delta`` compares
    against ``l_prev = 0``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from mtjax.transforms import _gram, base

__all__ = ["FAMOState", "famo", "famo_logit_grad"]

_DEFAULTS = {"paper": {"w_lr": 0.025, "gamma": 0.01, "eps": 1e-8, "normalize": False},
             "mtbench": {"w_lr": 1e-3, "gamma": 1e-3, "eps": 1e-2, "normalize": True}}


class FAMOState(NamedTuple):
    """FAMO's learnable logits, loss memory and diagnostics.

    Attributes:
      logits: ``[T]`` task logits ``xi``.
      prev_losses: ``[T]`` losses of the previous call.
      logit_opt_state: state of the logits' optimiser.
      count: number of updates so far (int32).
      task_weights: ``[T]`` weights of the raw task gradients in the last update.
      num_conflicts: task pairs with ``<g_i, g_j> < 0`` in the last update (0 if ``conflict_stats=False``).
      min_cosine: smallest pairwise cosine of the last task gradients.
      mean_cosine: mean pairwise cosine of the last task gradients.
    """

    logits: jax.Array
    prev_losses: jax.Array
    logit_opt_state: Any
    count: jax.Array
    task_weights: jax.Array
    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array


def famo_logit_grad(logits: jax.Array, prev_losses: jax.Array, losses: jax.Array, eps: float,
                    normalize: bool) -> jax.Array:
    """``d = J_softmax(logits)^T delta`` with ``delta = log(prev + eps) - log(losses + eps)`` (``[T]``)."""
    delta = jnp.log(prev_losses + eps) - jnp.log(losses + eps)
    z = jax.nn.softmax(logits)
    d = z * (delta - jnp.dot(z, delta))
    if normalize:
        norm = jnp.linalg.norm(d)
        d = jnp.where(norm > 0, d / jnp.where(norm > 0, norm, 1.0), d)
    return d


def _weights(logits: jax.Array, losses: jax.Array, eps: float) -> jax.Array:
    z = jax.nn.softmax(logits)
    inv = z / (losses + eps)
    return inv / jnp.sum(inv)


def famo(num_tasks: int, *, variant: str = "paper", w_lr: float | None = None, gamma: float | None = None,
         eps: float | None = None, normalize_logit_grad: bool | None = None, reduction: str = "mean",
         conflict_stats: bool = True) -> base.Aggregator:
    """FAMO aggregator (needs ``task_losses=`` ``[T]`` in every update).

    Args:
      num_tasks: ``T`` (sizes the logits).
      variant: ``"paper"`` or ``"mtbench"`` (see the module docstring); picks the defaults below.
      w_lr: logit learning rate (paper 0.025, MTBench Meta-World 1e-3, Go1 5e-3).
      gamma: logit weight decay, torch-Adam style (paper 0.01, MTBench 1e-3).
      eps: loss offset in ``log``/``1/D`` (paper 1e-8, MTBench 1e-2).
      normalize_logit_grad: scale the logit gradient to unit norm (paper False, MTBench True).
      reduction: ``"mean"`` (weights sum to one) or ``"sum"`` (times ``T``).
      conflict_stats: also compute the Gram-matrix conflict diagnostics (one ``T x T`` matmul per step).

    Returns:
      An Aggregator; ``update(task_grads, state, params=None, *, task_losses, **extra)``.

    Raises:
      ValueError: bad ``num_tasks``/``variant``/hyperparameters (eagerly); at update time a missing
        ``task_losses`` or a task axis other than ``num_tasks``.
    """
    if variant not in _DEFAULTS:
        raise ValueError(f"famo: variant must be one of {sorted(_DEFAULTS)}; got {variant!r}")
    if not isinstance(num_tasks, int) or num_tasks < 1:
        raise ValueError(f"famo: num_tasks must be a positive int; got {num_tasks!r}")
    _gram.check_reduction("famo", reduction)
    d = _DEFAULTS[variant]
    w_lr = d["w_lr"] if w_lr is None else w_lr
    gamma = d["gamma"] if gamma is None else gamma
    eps = d["eps"] if eps is None else eps
    normalize = d["normalize"] if normalize_logit_grad is None else bool(normalize_logit_grad)
    for name, v in (("w_lr", w_lr), ("gamma", gamma), ("eps", eps)):
        if not v >= 0 or (name != "gamma" and v == 0):
            raise ValueError(f"famo: {name} must be {'>= 0' if name == 'gamma' else '> 0'}; got {v!r}")
    logit_opt = optax.chain(optax.add_decayed_weights(gamma), optax.adam(w_lr, eps=1e-8))

    def init_fn(params: Any) -> FAMOState:
        del params
        logits = jnp.zeros((num_tasks,), jnp.float32)
        zero = jnp.zeros((), jnp.float32)
        return FAMOState(logits, jnp.zeros((num_tasks,), jnp.float32), logit_opt.init(logits),
                         jnp.zeros((), jnp.int32), jnp.full((num_tasks,), 1.0 / num_tasks, jnp.float32),
                         jnp.zeros((), jnp.int32), zero, zero)

    def _logit_step(state, losses):
        g = famo_logit_grad(state.logits, state.prev_losses, losses, eps, normalize)
        upd, opt_state = logit_opt.update(g, state.logit_opt_state, state.logits)
        return optax.apply_updates(state.logits, upd), opt_state

    @_gram.full_precision
    def update_fn(task_grads, state, params=None, *, task_losses=None, **extra):
        del params, extra
        losses = jnp.asarray(base.require_extra("famo", "task_losses", task_losses), jnp.float32)
        t = _gram.tasks_checked("famo", task_grads, num_tasks)
        if losses.shape != (t,):
            raise ValueError(f"famo: task_losses must have shape [T]=({t},); got {losses.shape}")
        losses = jax.lax.stop_gradient(losses)
        if variant == "paper":
            new_logits, new_opt = _logit_step(state, losses)
            first = state.count == 0
            logits = jnp.where(first, state.logits, new_logits)
            opt_state = jax.tree.map(lambda a, b: jnp.where(first, a, b), state.logit_opt_state, new_opt)
            w = _weights(logits, losses, eps)
        else:
            w = _weights(state.logits, losses, eps)
            logits, opt_state = _logit_step(state, losses)
        w_used = w * _gram.scale_for(reduction, t)
        if conflict_stats:
            nc, mn, me = _gram.conflict_summary(_gram.gram_matrix(task_grads))
        else:
            nc, mn, me = state.num_conflicts, state.min_cosine, state.mean_cosine
        new_state = FAMOState(logits, losses, opt_state, state.count + 1, w_used, nc, mn, me)
        return _gram.combine(w_used, task_grads), new_state

    return base.Aggregator(init=init_fn, update=update_fn)
