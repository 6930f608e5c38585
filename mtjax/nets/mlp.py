"""Vanilla and multi-head MLP networks of MTBench's MT-PPO (Joshi et al., 2025, arXiv 2507.23172, sec. 4).

Vanilla: an ELU MLP on the observation (task one-hot included) and one linear output layer. Multi-head
("MH-PPO"): the same trunk and one linear output head per task (sample ``i`` uses head ``task_id[i]``).

``layer_norm=True`` (an option, not in MTBench's MT-PPO) puts a LayerNorm (Ba et al., 2016, arXiv 1607.06450;
learned scale and shift) between each hidden Dense and its activation, ``act(LN(W x + b))``, the placement of
MTBench's own LayerNorm networks (MT-PQN, BRO; ``docs/ppo.md``). The default keeps MTBench's parameter tree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax

from mtjax.nets.layers import MLP, TaskHeads, TorchDense, activation

__all__ = ["LayerNormMLP", "MLPNet", "MultiHeadNet"]


class LayerNormMLP(nn.Module):
    """``[B, D] -> [B, hidden[-1]]``: ``act(LayerNorm(TorchDense(h)(x)))`` for each width ``h``.

    Attributes:
      hidden: layer widths. act: activation name.
    """

    hidden: Sequence[int]
    act: str = "elu"
    bias_init: Callable | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        f = activation(self.act)
        for h in self.hidden:
            x = f(nn.LayerNorm(epsilon=1e-5)(TorchDense(h, bias_init=self.bias_init)(x)))  # torch's default eps
        return x


def _bias_init(zero_bias: bool) -> Callable | None:
    """Zeros (rl_games' builders), or None for ``TorchDense``'s PyTorch default."""
    return nn.initializers.zeros if zero_bias else None


def _trunk(hidden: Sequence[int], act: str, layer_norm: bool, zero_bias: bool) -> nn.Module:
    b = _bias_init(zero_bias)
    return LayerNormMLP(hidden, act, bias_init=b) if layer_norm else MLP(hidden, act, bias_init=b)


class MLPNet(nn.Module):
    """``[B, obs] -> [B, out_dim]``: MLP trunk + one linear head.

    Attributes:
      out_dim: output size (action size for an actor, 1 for a critic).
      num_tasks: number of tasks (unused by the vanilla net; part of every net's signature).
      hidden: trunk widths (MTBench Meta-World: 256, 128, 64).
      act: trunk activation.
      layer_norm: LayerNorm before each hidden activation (``LayerNormMLP``; default off, MTBench's MLP).
      zero_bias: every bias starts at 0 (rl_games 1.6.1's A2C and SAC builders and MTBench's multi-head builder
        zero them; the presets set it); ``False``: PyTorch's default uniform biases.
    """

    out_dim: int
    num_tasks: int
    hidden: Sequence[int] = (256, 128, 64)
    act: str = "elu"
    layer_norm: bool = False
    zero_bias: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        del task_id
        head = TorchDense(self.out_dim, bias_init=_bias_init(self.zero_bias))
        return head(_trunk(self.hidden, self.act, self.layer_norm, self.zero_bias)(x))


class MultiHeadNet(nn.Module):
    """``[B, obs] -> [B, out_dim]``: MLP trunk + one linear head per task.

    Attributes: as ``MLPNet``.
    """

    out_dim: int
    num_tasks: int
    hidden: Sequence[int] = (256, 128, 64)
    act: str = "elu"
    layer_norm: bool = False
    zero_bias: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        trunk = _trunk(self.hidden, self.act, self.layer_norm, self.zero_bias)
        heads = TaskHeads(self.num_tasks, self.out_dim, bias_init=_bias_init(self.zero_bias))
        return heads(trunk(x), task_id)
