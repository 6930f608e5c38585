"""Shared Linen building blocks: PyTorch-style initializers, dense layers, expert mixtures and task heads.

MTBench's plain networks use PyTorch's default ``nn.Linear`` initialisation (weights and biases uniform in
``±1/sqrt(fan_in)``); ``TorchDense`` reproduces it. Its MOORE, CARE and Soft-Modularization networks
override it with ``torch.nn.init.xavier_uniform_`` (``xavier_uniform_torch``) and ``torch.rand`` biases
(``torch_rand``); docs/deviations.md ("Network initialisation (MTBench parity)") gives each network's rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

__all__ = [
    "ACTIVATIONS",
    "EXPERT_INITS",
    "MLP",
    "RELU_GAIN",
    "ExpertMLP",
    "TaskHeads",
    "TorchDense",
    "activation",
    "torch_rand",
    "torch_uniform",
    "xavier_uniform_torch",
]

# ``torch.nn.init.calculate_gain("relu")``.
RELU_GAIN = 2.0**0.5
# ``ExpertMLP.init_scheme`` values: MTBench's executed rule, or the per-expert fix (see ``ExpertMLP``).
EXPERT_INITS = ("mtbench", "per_expert")

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "elu": nn.elu,
    "relu": nn.relu,
    "tanh": jnp.tanh,
    "silu": nn.silu,
    "gelu": nn.gelu,
    "identity": lambda x: x,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """Looks up an activation by name; the error lists the valid names."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[name]


def torch_uniform(fan_in: int) -> Callable:
    """Initializer uniform in ``±1/sqrt(fan_in)`` (PyTorch's ``nn.Linear`` default for weight and bias)."""
    bound = 1.0 / max(fan_in, 1) ** 0.5

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def xavier_uniform_torch(gain: float = 1.0, num_experts: int | None = None) -> Callable:
    """``torch.nn.init.xavier_uniform_``: uniform in ``±gain * sqrt(6 / (fan_in + fan_out))``.

    A Flax kernel is ``[..., in, out]`` (a torch ``nn.Linear`` weight is ``[out, in]``), so each trailing
    ``[in, out]`` matrix gets ``fan_in = in``, ``fan_out = out``; leading axes (per-task heads) are
    independent matrices, as MTBench's per-task ``nn.Linear`` heads.

    Args:
      gain: torch's gain (``RELU_GAIN`` for a layer followed by ReLU, 1 for a linear one).
      num_experts: reproduce xavier over MTBench's whole ``moe_layer.Linear`` weight ``[E, in, out]``. torch's
        rule for a >2-D tensor (``torch.nn.init._calculate_fan_in_and_fan_out``) is ``fan_in = size(1) *
        receptive_field``, ``fan_out = size(0) * receptive_field`` with ``receptive_field = prod(size[2:])``,
        i.e. ``fan_in = in * out`` and ``fan_out = E * out``. The initializer then gets one expert's
        ``[in, out]`` kernel (``nn.vmap`` over experts).
    """

    def init(key, shape, dtype=jnp.float32):
        fan_in, fan_out = shape[-2], shape[-1]
        if num_experts is not None:
            fan_in, fan_out = shape[-2] * shape[-1], num_experts * shape[-1]
        bound = gain * (6.0 / (fan_in + fan_out)) ** 0.5
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def torch_rand(key, shape, dtype=jnp.float32) -> jax.Array:
    """``torch.rand``: uniform in ``[0, 1)`` (MTBench's ``moe_layer.Linear`` biases, never re-initialised)."""
    return jax.random.uniform(key, shape, dtype, 0.0, 1.0)


class TorchDense(nn.Module):
    """``nn.Dense`` with PyTorch's default initialisation (or explicit initializers when given)."""

    features: int
    use_bias: bool = True
    kernel_init: Callable | None = None
    bias_init: Callable | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        k_init = self.kernel_init or torch_uniform(fan_in)
        b_init = self.bias_init or torch_uniform(fan_in)
        return nn.Dense(self.features, use_bias=self.use_bias, kernel_init=k_init, bias_init=b_init)(x)


class MLP(nn.Module):
    """A stack of ``TorchDense`` layers with an activation after each (``[B, D] -> [B, hidden[-1]]``).

    ``kernel_init``/``bias_init`` apply to every layer; ``None`` keeps PyTorch's default for that part.
    """

    hidden: Sequence[int]
    act: str = "elu"
    kernel_init: Callable | None = None
    bias_init: Callable | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        f = activation(self.act)
        for h in self.hidden:
            x = f(TorchDense(h, kernel_init=self.kernel_init, bias_init=self.bias_init)(x))
        return x


class _ExpertStack(nn.Module):
    """One expert: ``TorchDense`` layers with ReLU between them (none after the last)."""

    hidden: Sequence[int]
    num_experts: int
    init_scheme: str

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        n = len(self.hidden)
        for i, h in enumerate(self.hidden):
            gain = 1.0 if i == n - 1 else RELU_GAIN
            if self.init_scheme == "mtbench":
                # MTBench re-initialises ``_model[j]`` for j < n (layer i sits at j = 2 i, ReLUs between) and
                # ``_model[-1]``; any other layer (only when n >= 4) keeps its ``torch.rand`` weights.
                xavier = 2 * i < n or i == n - 1
                k_init = xavier_uniform_torch(gain, self.num_experts) if xavier else torch_rand
                b_init = torch_rand
            else:
                k_init, b_init = xavier_uniform_torch(gain), nn.initializers.zeros
            x = TorchDense(h, kernel_init=k_init, bias_init=b_init)(x)
            if i < len(self.hidden) - 1:
                x = nn.relu(x)
        return x


class ExpertMLP(nn.Module):
    """``E`` independent expert MLPs on one input, ``x [B, D] -> [B, E, hidden[-1]]`` (``nn.vmap``).

    MTBench's ``moe_layer.FeedForward`` as MOORE and CARE execute it: Linear -> ReLU -> ... -> Linear.

    Attributes:
      num_experts: ``E``.
      hidden: widths of each expert's layers.
      init_scheme: "mtbench" (default, parity): xavier-uniform over the whole ``[E, in, out]`` weight tensor
        (torch's 3-D fan rule, see ``xavier_uniform_torch``) with gain ``sqrt 2`` on every layer but the last
        (gain 1), and biases ``torch.rand`` in ``[0, 1)`` (never zeroed). The weights come out 6-8x smaller
        than xavier of one expert's matrix while the biases have mean 0.5, so at init each expert's output is
        mostly set by its biases, not by the observation. With 4 or more layers MTBench's loop
        (``for i in range(num_layers)`` over a Sequential that interleaves ReLUs) also skips layers
        ``n/2 <= i < n-1``, which keep ``torch.rand`` weights; MTBench's configs use 2 or 3 layers.
        "per_expert" (the fix, as MTBench's own Soft-Modularization ``weight_init_moe_layer``): xavier of each
        expert's ``[in, out]`` matrix (same gains) and zero biases.
    """

    num_experts: int
    hidden: Sequence[int]
    init_scheme: str = "mtbench"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.init_scheme not in EXPERT_INITS:
            raise ValueError(f"unknown init_scheme {self.init_scheme!r}; valid: {', '.join(EXPERT_INITS)}")
        experts = nn.vmap(
            _ExpertStack,
            variable_axes={"params": 0},
            split_rngs={"params": True},
            in_axes=None,
            out_axes=1,
            axis_size=self.num_experts,
        )
        return experts(tuple(self.hidden), self.num_experts, self.init_scheme, name="experts")(x)


class TaskHeads(nn.Module):
    """``num_tasks`` independent linear heads; sample ``i`` uses head ``task_id[i]``.

    Only the selected head's parameters receive gradient from a sample, so the output for task ``k`` does not
    depend on any other head's parameters. The kernel is ``[T, in, out]`` and the bias ``[T, out]``;
    ``kernel_init``/``bias_init`` receive those shapes (``None``: PyTorch's default per head).
    """

    num_tasks: int
    features: int
    kernel_init: Callable | None = None
    bias_init: Callable | None = None

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        k_init = self.kernel_init or torch_uniform(fan_in)
        b_init = self.bias_init or torch_uniform(fan_in)
        w = self.param("kernel", k_init, (self.num_tasks, fan_in, self.features))
        b = self.param("bias", b_init, (self.num_tasks, self.features))
        return jnp.einsum("bi,bio->bo", x, w[task_id]) + b[task_id]
