"""Vanilla and multi-head MLP networks of MTBench's MT-PPO (Joshi et al., 2025, arXiv 2507.23172, sec. 4).

Vanilla: an ELU MLP on the observation (task one-hot included) and one linear output layer. Multi-head
("MH-PPO"): the same trunk and one linear output head per task (sample ``i`` uses head ``task_id[i]``).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax

from mtjax.nets.layers import MLP, TaskHeads, TorchDense

__all__ = ["MLPNet", "MultiHeadNet"]


class MLPNet(nn.Module):
    """``[B, obs] -> [B, out_dim]``: MLP trunk + one linear head.

    Attributes:
      out_dim: output size (action size for an actor, 1 for a critic).
      num_tasks: number of tasks (unused by the vanilla net; part of every net's signature).
      hidden: trunk widths (MTBench Meta-World: 256, 128, 64).
      act: trunk activation.
    """

    out_dim: int
    num_tasks: int
    hidden: Sequence[int] = (256, 128, 64)
    act: str = "elu"

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        del task_id
        return TorchDense(self.out_dim)(MLP(self.hidden, self.act)(x))


class MultiHeadNet(nn.Module):
    """``[B, obs] -> [B, out_dim]``: MLP trunk + one linear head per task.

    Attributes: as ``MLPNet``.
    """

    out_dim: int
    num_tasks: int
    hidden: Sequence[int] = (256, 128, 64)
    act: str = "elu"

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        return TaskHeads(self.num_tasks, self.out_dim)(MLP(self.hidden, self.act)(x), task_id)
