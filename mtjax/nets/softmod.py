"""Soft-Modularization (Yang, Xu, Wu and Wang, "Multi-Task Reinforcement Learning with Soft Modularization",
NeurIPS 2020, arXiv 2003.13661), as configured in MTBench (``soft_modularization_ppo``).

* State encoder ``f``: MLP [256, 256] ReLU on the true observation -> Linear(->D); task encoder ``z``: MLP [256]
  ReLU on the one-hot -> Linear(->D); ``u = f * z`` (D = 256).
* Routing network: ``p_1 = W_d1 relu(u)``; ``p_l = W_dl relu(W_u(l-1) p_(l-1) * u)``; each ``p_l`` is reshaped to
  ``E x E`` and soft-maxed over the last axis (rows sum to one), ``l = 1 .. L-1``.
* Modular trunk of ``L`` layers with ``E`` modules each: hidden layer 1 applies every module (Linear+ReLU) to ``u``
  (MTBench's choice; the paper feeds ``f``), deeper layers apply module ``j`` to its own input; after hidden layer
  ``l`` the next inputs are mixed, ``in_i = sum_j P_l[i, j] out_j``; the output layer's ``E`` linear modules are
  applied to their inputs and summed.
* Initialisation as MTBench executes it: ``actor.apply(soft_modularized_network.weight_init)`` gives
  every ``nn.Linear`` xavier-uniform weights (gain 1) and zero biases, and every module layer xavier of each
  module's own ``[in, out]`` matrix and zero biases. The YAML's ``initializer: kaiming_normal`` is never
  read; ``init_scheme="kaiming_normal"`` applies it (fan-in, gain ``sqrt 2``, untruncated, zero biases),
  which makes the initial action means about two orders of magnitude larger. See docs/deviations.md,
  "Network initialisation (MTBench parity)".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from mtjax.nets.layers import xavier_uniform_torch
from mtjax.nets.moore import check_inputs, split_obs

__all__ = ["KERNEL_INITS", "SoftModularNet"]

# ``SoftModularNet.init_scheme`` -> kernel initializer (biases are zero under both).
KERNEL_INITS = {
    "mtbench": xavier_uniform_torch(1.0),  # executed: soft_modularized_network.weight_init
    "kaiming_normal": nn.initializers.variance_scaling(2.0, "fan_in", "normal"),  # the YAML's, never read
}


def _dense(init_scheme: str):
    return functools.partial(nn.Dense, kernel_init=KERNEL_INITS[init_scheme], bias_init=nn.initializers.zeros)


class _Modules(nn.Module):
    """``E`` parallel dense modules; ``x [B, E, in]`` (or shared ``[B, in]``) -> ``[B, E, features]``."""

    features: int
    num_modules: int
    shared_input: bool
    init_scheme: str

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        layer = nn.vmap(
            _dense(self.init_scheme),
            variable_axes={"params": 0},
            split_rngs={"params": True},
            in_axes=None if self.shared_input else 1,
            out_axes=1,
            axis_size=self.num_modules,
        )
        return layer(self.features)(x)


class SoftModularNet(nn.Module):
    """Soft-Modularization ``(x [B, D + T], task_id [B]) -> [B, out_dim]``; sows ``intermediates/routing``
    (a tuple of ``L-1`` arrays ``[B, E, E]``).

    Attributes:
      out_dim: output size.
      num_tasks: ``T``.
      num_layers: ``L`` layers of modules including the output layer (MTBench Meta-World 4, Go1 2).
      num_modules: ``E`` modules per layer (2).
      module_hidden: module width ``D`` (256); also the width of ``f``, ``z`` and the routing embeddings.
      state_hidden: state encoder MLP widths (256, 256; Go1 512).
      task_hidden: task encoder MLP widths (256; Go1 128).
      init_scheme: "mtbench" (xavier gain 1, zero biases: what MTBench executes; default) or "kaiming_normal"
        (what its YAML names but never applies).
    """

    out_dim: int
    num_tasks: int
    num_layers: int = 4
    num_modules: int = 2
    module_hidden: int = 256
    state_hidden: Sequence[int] = (256, 256)
    task_hidden: Sequence[int] = (256,)
    init_scheme: str = "mtbench"

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        if self.num_layers < 2:
            raise ValueError(f"num_layers must be >= 2 (hidden + output), got {self.num_layers}")
        if self.init_scheme not in KERNEL_INITS:
            raise ValueError(f"unknown init_scheme {self.init_scheme!r}; valid: {', '.join(KERNEL_INITS)}")
        dense, scheme = _dense(self.init_scheme), self.init_scheme
        check_inputs(x, task_id, self.num_tasks)
        del task_id  # the one-hot in ``x`` carries the task
        obs, one_hot = split_obs(x, self.num_tasks)
        e, d = self.num_modules, self.module_hidden
        f = obs
        for width in self.state_hidden:
            f = nn.relu(dense(width)(f))
        f = dense(d, name="state_out")(f)
        z = one_hot
        for width in self.task_hidden:
            z = nn.relu(dense(width)(z))
        z = dense(d, name="task_out")(z)
        u = f * z
        probs, p = [], None
        for layer in range(self.num_layers - 1):
            h = nn.relu(u) if layer == 0 else nn.relu(dense(d, name=f"route_up_{layer}")(p) * u)
            p = dense(e * e, name=f"route_down_{layer}")(h)
            probs.append(jax.nn.softmax(p.reshape(-1, e, e), axis=-1))
        self.sow("intermediates", "routing", tuple(probs))
        h = u
        for layer in range(self.num_layers - 1):
            out = nn.relu(_Modules(d, e, layer == 0, scheme, name=f"modules_{layer}")(h))  # [B, E, D]
            h = jnp.einsum("bij,bjd->bid", probs[layer], out)
        return _Modules(self.out_dim, e, False, scheme, name="out_modules")(h).sum(axis=1)
