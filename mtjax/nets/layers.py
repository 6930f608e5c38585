"""Shared Linen building blocks: PyTorch-default-initialised dense layers and task-indexed heads.

MTBench's networks use PyTorch's default ``nn.Linear`` initialisation (weights and biases uniform in
``±1/sqrt(fan_in)``); ``TorchDense`` reproduces it so our parameter statistics match theirs.
"""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

__all__ = ["TorchDense", "torch_uniform", "MLP", "TaskHeads", "ACTIVATIONS", "activation"]

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
    """A stack of ``TorchDense`` layers with an activation after each (``[B, D] -> [B, hidden[-1]]``)."""

    hidden: Sequence[int]
    act: str = "elu"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        f = activation(self.act)
        for h in self.hidden:
            x = f(TorchDense(h)(x))
        return x


class TaskHeads(nn.Module):
    """``num_tasks`` independent linear heads; sample ``i`` uses head ``task_id[i]``.

    Only the selected head's parameters receive gradient from a sample, so the output for task ``k`` does not
    depend on any other head's parameters.
    """

    num_tasks: int
    features: int

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        w = self.param("kernel", torch_uniform(fan_in), (self.num_tasks, fan_in, self.features))
        b = self.param("bias", torch_uniform(fan_in), (self.num_tasks, self.features))
        return jnp.einsum("bi,bio->bo", x, w[task_id]) + b[task_id]
