"""MTBench's MT-PQN Q-network: an ACME-style LayerNorm residual MLP with decoupled per-dimension utilities.

PQN (Gallici et al., 2024, "Simplifying Deep Temporal Difference Learning", arXiv 2407.04811) as MTBench runs it
(Joshi et al., 2025, arXiv 2507.23172; its ``pq_network.QNetwork``), with the decoupled multi-discrete heads of
Seyde et al. (2023, "Solving Continuous Control via Q-learning", arXiv 2210.12566): the network outputs one
utility per (action dimension, bin), ``[B, A * bins]``, which ``mtjax.nets.make_q_network`` reshapes to
``[B, A, bins]``.

Layers (all Dense layers orthogonal with gain sqrt(2), zero bias; LayerNorm eps 1e-5 = torch's default):

* projection ``LayerNorm(ELU(Dense(hidden)(x)))`` (MTBench skips it when the input width equals ``hidden``);
* ``num_blocks - 1`` residual blocks ``LayerNorm(x + Dense(hidden)(LayerNorm(ELU(Dense(hidden)(x)))))``
  (``residual=False`` drops the ``x +``);
* ``Dense(out_dim)(ELU(h))``.

The input is the full observation including the task one-hot, with no input normalisation (MTBench's
``normalize_input: False``).
"""

from __future__ import annotations

import flax.linen as nn
import jax

__all__ = ["QNetwork", "orthogonal_sqrt2"]

LN_EPS = 1e-5  # torch.nn.LayerNorm's default


def orthogonal_sqrt2() -> nn.initializers.Initializer:
    """``torch.nn.init.orthogonal_(w, sqrt(2))``: MTBench's init of every Q-network Dense layer."""
    return nn.initializers.orthogonal(scale=2.0**0.5)


def _dense(features: int, name: str | None = None) -> nn.Dense:
    return nn.Dense(features, kernel_init=orthogonal_sqrt2(), bias_init=nn.initializers.zeros, name=name)


class _ResidualBlock(nn.Module):
    """``LayerNorm(x + Dense(LayerNorm(ELU(Dense(x)))))``: MTBench's ``Block`` with two layers."""

    hidden: int
    residual: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = nn.LayerNorm(epsilon=LN_EPS)(nn.elu(_dense(self.hidden)(x)))
        h = _dense(self.hidden)(h)
        if self.residual:
            h = h + x
        return nn.LayerNorm(epsilon=LN_EPS)(h)


class QNetwork(nn.Module):
    """``(x [B, D + T], task_id [B]) -> [B, out_dim]`` decoupled utilities (``out_dim = A * bins``).

    Attributes:
      out_dim: output size (MT10: 4 action dims x 3 bins = 12).
      num_tasks: ``T`` (unused: the one-hot is part of ``x``; part of every registered net's signature).
      hidden: width ``D`` (MTBench: 256).
      num_blocks: MTBench's ``num_blocks``; the network has ``num_blocks - 1`` residual blocks (MTBench: 2).
      residual: the skip connection of each block (MTBench's ``residual_network: True``).
    """

    out_dim: int
    num_tasks: int
    hidden: int = 256
    num_blocks: int = 2
    residual: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        del task_id
        if self.num_blocks < 1:
            raise ValueError(f"QNetwork.num_blocks must be >= 1, got {self.num_blocks}")
        h = x
        if x.shape[-1] != self.hidden:
            h = nn.LayerNorm(epsilon=LN_EPS)(nn.elu(_dense(self.hidden, name="projection")(x)))
        for _ in range(self.num_blocks - 1):
            h = _ResidualBlock(self.hidden, self.residual)(h)
        return _dense(self.out_dim, name="out")(nn.elu(h))
