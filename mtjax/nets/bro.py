"""BroNet residual network (Nauman, Ostaszewski, Jankowski, Milos and Cygan, "Bigger, Regularized, Optimistic:
scaling for compute and sample-efficient continuous control", NeurIPS 2024, arXiv 2405.16158), as used by
MTBench's critic-scaling study (``bro_a2c``: actor hidden 256 x 1 block, critic ``critic_hidden_dim`` x 2 blocks).

``Dense(h) -> LayerNorm -> ReLU``, then ``num_blocks`` residual blocks
``x + LN(Dense(h)(ReLU(LN(Dense(h)(x)))))``, then ``Dense(out)``. Dense layers use PyTorch's default init
(MTBench states none). Task conditioning: the one-hot, or a learned embedding (``task_embedding_dim > 0``).
"""

from __future__ import annotations

import flax.linen as nn
import jax

from mtjax.nets.layers import TorchDense
from mtjax.nets.moore import check_inputs
from mtjax.nets.simba import task_conditioned_input

__all__ = ["BroNet"]


class BroNet(nn.Module):
    """BroNet ``(x [B, D + T], task_id [B]) -> [B, out_dim]``.

    Attributes:
      out_dim: output size.
      num_tasks: ``T``.
      hidden: width ``h``.
      num_blocks: residual blocks (actor 1, critic 2).
      task_embedding_dim: > 0 replaces the one-hot by a learned embedding of this width.
    """

    out_dim: int
    num_tasks: int
    hidden: int = 256
    num_blocks: int = 1
    task_embedding_dim: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        check_inputs(x, task_id, self.num_tasks)
        x = task_conditioned_input(self, x, task_id, self.num_tasks, self.task_embedding_dim)
        h = nn.relu(nn.LayerNorm()(TorchDense(self.hidden)(x)))
        for _ in range(self.num_blocks):
            r = nn.relu(nn.LayerNorm()(TorchDense(self.hidden)(h)))
            h = h + nn.LayerNorm()(TorchDense(self.hidden)(r))
        return TorchDense(self.out_dim, name="out")(h)
