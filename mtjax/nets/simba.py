"""SimbaV2 residual network (Lee, Lee, Hwang, Choo and Hwang, "Hyperspherical Normalization for Scalable Deep
Reinforcement Learning", ICML 2025, arXiv 2502.15280), as used by MTBench's critic-scaling study
(``simba_v2_a2c``: actor hidden 256 x 1 block, critic hidden ``critic_hidden_dim`` x 2 blocks).

Features live on the unit hypersphere:
* embedder: ``l2norm([x, c_shift])`` -> HyperDense(h) -> Scaler -> ``l2norm``;
* block (LERP): ``m = l2norm(HyperDense(h)(relu(Scaler(HyperDense(4h)(x)))))``; ``x <- l2norm(x + alpha (m - x))``
  with a learned per-feature ``alpha`` (Scaler, init ``1/(blocks+1)``, scale ``1/sqrt(h)``);
* head: HyperDense(h) -> Scaler -> Dense(out) (MTBench's PPO value head is a scalar; no C51).
HyperDense is a bias-free linear layer whose weight columns have unit norm (orthogonal init). SimbaV2 projects the
weights back onto the sphere after each optimizer step; we instead parameterise ``W = V / |V|`` in the forward
pass (same function class, no extra optimizer hook; gradients differ by that projection). Scaler(init, scale) is
a learned vector ``s`` (initialised to ``scale``) used as ``s * init/scale``.

Task conditioning: the one-hot at the end of ``x`` (default), or, with ``task_embedding_dim > 0``, a learned
``Embed(T, task_embedding_dim)`` replacing it (MTBench "TE", 32-d).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from mtjax.nets.moore import check_inputs, split_obs

__all__ = ["SimbaV2Net", "l2normalize", "task_conditioned_input"]


def l2normalize(x: jax.Array, axis: int = -1, eps: float = 1e-8) -> jax.Array:
    return x / jnp.maximum(jnp.linalg.norm(x, axis=axis, keepdims=True), eps)


def task_conditioned_input(
    module: nn.Module, x: jax.Array, task_id: jax.Array, num_tasks: int, task_embedding_dim: int
) -> jax.Array:
    """``x`` unchanged (one-hot at the end), or ``[obs, Embed(T, dim)(task_id)]`` when ``task_embedding_dim > 0``.

    Must be called from inside ``module``'s compact ``__call__`` (the embedding is its submodule).
    """
    if task_embedding_dim <= 0:
        return x
    obs, _ = split_obs(x, num_tasks)
    emb = nn.Embed(num_tasks, task_embedding_dim, parent=module, name="task_embedding")(task_id)
    return jnp.concatenate([obs, emb], axis=-1)


class _Scaler(nn.Module):
    init_value: float
    scale: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        s = self.param("scaler", nn.initializers.constant(self.scale), (x.shape[-1],))
        return s * (self.init_value / self.scale) * x


class _HyperDense(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        v = self.param("kernel", nn.initializers.orthogonal(1.0), (x.shape[-1], self.features))
        return x @ l2normalize(v, axis=0)


class _Block(nn.Module):
    hidden: int
    num_blocks: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        s = math.sqrt(2.0 / self.hidden)
        m = nn.relu(_Scaler(s, s)(_HyperDense(4 * self.hidden)(x)))
        m = l2normalize(_HyperDense(self.hidden)(m))
        alpha = _Scaler(1.0 / (self.num_blocks + 1), 1.0 / math.sqrt(self.hidden))
        return l2normalize(x + alpha(m - x))


class SimbaV2Net(nn.Module):
    """SimbaV2 ``(x [B, D + T], task_id [B]) -> [B, out_dim]``.

    Attributes:
      out_dim: output size.
      num_tasks: ``T``.
      hidden: feature width ``h`` (MTBench PPO: actor 256, critic ``critic_hidden_dim`` 256 ... 4096).
      num_blocks: LERP blocks (actor 1, critic 2).
      c_shift: constant appended to the input before the first normalisation (3.0).
      task_embedding_dim: > 0 replaces the one-hot by a learned embedding of this width (MTBench TE: 32).
    """

    out_dim: int
    num_tasks: int
    hidden: int = 256
    num_blocks: int = 1
    c_shift: float = 3.0
    task_embedding_dim: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        check_inputs(x, task_id, self.num_tasks)
        x = task_conditioned_input(self, x, task_id, self.num_tasks, self.task_embedding_dim)
        x = l2normalize(jnp.concatenate([x, jnp.full(x.shape[:-1] + (1,), self.c_shift, x.dtype)], axis=-1))
        s = math.sqrt(2.0 / self.hidden)
        h = l2normalize(_Scaler(s, s)(_HyperDense(self.hidden)(x)))
        for _ in range(self.num_blocks):
            h = _Block(self.hidden, self.num_blocks)(h)
        h = _Scaler(s, s)(_HyperDense(self.hidden)(h))
        return nn.Dense(self.out_dim, kernel_init=nn.initializers.orthogonal(1.0), name="out")(h)
