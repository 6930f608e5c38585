"""MOORE: a mixture of orthogonal experts (Hendawy, Peters and D'Eramo, "Multi-Task Reinforcement Learning
with Mixture of Orthogonal Experts", ICLR 2024, arXiv 2311.11385), as configured in MTBench (``moore_a2c``).

``E`` experts (MLPs on the true observation) produce ``E`` representations per sample; a Gram-Schmidt step turns
them into an orthonormal basis ``U [B, E, H]`` of a subspace; a task encoder (one-hot -> Linear(no bias) -> ReLU ->
Linear(no bias)) gives mixing weights ``w [B, E]`` (no softmax); the representation ``act(w @ U)`` (tanh for
Meta-World, identity for Go1) feeds a single head on ``[repr, one-hot]`` (SH-MOORE) or one head per task
(MH-MOORE).

Initialisation follows the code MTBench executes (``moore_a2c_builder.MOOREPPONetwork``; its YAML
``initializer`` keys are never read): experts as ``ExpertMLP`` (xavier over the whole ``[E, in, out]`` tensor,
gain ``sqrt 2`` then 1 on the last layer, ``torch.rand`` biases in [0, 1); ``init_scheme="per_expert"`` is the
documented fix); task encoder xavier (gain ``sqrt 2``, then 1), no biases; output head(s) xavier gain 1 with
PyTorch's default bias. See docs/deviations.md, "Network initialisation (MTBench parity)".
"""

from __future__ import annotations

from collections.abc import Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from mtjax.nets.layers import RELU_GAIN, ExpertMLP, TaskHeads, TorchDense, activation, xavier_uniform_torch

__all__ = ["MOORENet", "MultiHeadMOORENet", "check_inputs", "gram_schmidt", "split_obs"]


def check_inputs(x: jax.Array, task_id: jax.Array, num_tasks: int) -> None:
    """Validates the network signature: ``x [B, D + T]`` with ``D >= 1`` and ``task_id [B]`` integer."""
    chex.assert_rank(x, 2)
    chex.assert_shape(task_id, (x.shape[0],))
    chex.assert_type(task_id, int)
    if x.shape[-1] <= num_tasks:
        raise ValueError(
            f"observation width {x.shape[-1]} must exceed num_tasks={num_tasks} (one-hot at the end)"
        )


def split_obs(x: jax.Array, num_tasks: int) -> tuple[jax.Array, jax.Array]:
    """Splits ``x [B, D + T]`` into the true observation ``[B, D]`` and the task one-hot ``[B, T]``."""
    if x.shape[-1] <= num_tasks:
        raise ValueError(
            f"observation width {x.shape[-1]} must exceed num_tasks={num_tasks} (one-hot at the end)"
        )
    return x[..., :-num_tasks], x[..., -num_tasks:]


def gram_schmidt(v: jax.Array, eps: float = 1e-8) -> jax.Array:
    """Orthonormalises ``E`` vectors per sample, in order: ``v [B, E, H] -> u [B, E, H]``.

    ``u_1 = v_1/|v_1|``, ``u_e = (v_e - sum_{f<e} <v_e, u_f> u_f) / |.|`` (classical Gram-Schmidt, as MOORE).
    ``E`` is small and static, so the loop is unrolled.
    """
    us: list[jax.Array] = []
    for e in range(v.shape[-2]):
        r = v[..., e, :]
        for u in us:
            r = r - jnp.sum(r * u, axis=-1, keepdims=True) * u
        us.append(r / (jnp.linalg.norm(r, axis=-1, keepdims=True) + eps))
    return jnp.stack(us, axis=-2)


class MOORENet(nn.Module):
    """Single-head MOORE ``(x [B, D + T], task_id [B]) -> [B, out_dim]``.

    Sows the orthonormal basis ``U [B, E, H]`` as ``intermediates/basis`` and the mixing weights ``[B, E]`` as
    ``intermediates/mix``.

    Attributes:
      out_dim: output size.
      num_tasks: ``T``; the last ``T`` input dims are the one-hot.
      num_experts: ``E`` (MTBench: 4 for MT10, 6 for MT50, 2 for Go1).
      expert_hidden: widths of each expert MLP (MTBench Meta-World: 400, 400, 400; Go1: 256, 256).
      task_hidden: width of the task encoder's hidden layer (MTBench: 256 Meta-World, 128 Go1).
      agg_act: activation of the mixed representation ("tanh" Meta-World, "identity" Go1).
      multi_head: one output head per task (MH-MOORE) instead of one head on ``[repr, one-hot]``.
      init_scheme: expert initialisation, "mtbench" (parity, default) or "per_expert" (see ``ExpertMLP``).
    """

    out_dim: int
    num_tasks: int
    num_experts: int = 4
    expert_hidden: Sequence[int] = (400, 400, 400)
    task_hidden: int = 256
    agg_act: str = "tanh"
    multi_head: bool = False
    init_scheme: str = "mtbench"

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        check_inputs(x, task_id, self.num_tasks)
        obs, one_hot = split_obs(x, self.num_tasks)
        experts = ExpertMLP(self.num_experts, tuple(self.expert_hidden), self.init_scheme, name="experts")
        basis = gram_schmidt(experts(obs))  # [B, E, H]
        relu_xavier, xavier = xavier_uniform_torch(RELU_GAIN), xavier_uniform_torch(1.0)
        hidden = TorchDense(self.task_hidden, use_bias=False, kernel_init=relu_xavier, name="task_encoder_0")
        mix = TorchDense(self.num_experts, use_bias=False, kernel_init=xavier, name="task_encoder_1")
        w = mix(nn.relu(hidden(one_hot)))  # [B, E]
        self.sow("intermediates", "basis", basis)
        self.sow("intermediates", "mix", w)
        rep = activation(self.agg_act)(jnp.einsum("be,beh->bh", w, basis))
        if self.multi_head:  # head bias: PyTorch's default
            return TaskHeads(self.num_tasks, self.out_dim, kernel_init=xavier, name="heads")(rep, task_id)
        return TorchDense(self.out_dim, kernel_init=xavier, name="head")(jnp.concatenate([rep, one_hot], -1))


class MultiHeadMOORENet(MOORENet):
    """MH-MOORE: ``MOORENet`` with one linear head per task (same attributes, ``multi_head=True``)."""

    multi_head: bool = True
