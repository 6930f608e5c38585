"""PaCo: parameter-compositional multi-task RL (Sun, Zhang, Xu and Tomizuka, "PaCo: Parameter-Compositional
Multi-Task Reinforcement Learning", NeurIPS 2022, arXiv 2210.11653), as configured in MTBench (``paco_a2c``).

Every compositional layer holds ``K`` parameter sets ``(V_k, b_k)``; a task's layer is their combination with the
task's compositional vector ``w in simplex(K)``: ``y = sum_k w_k (x V_k + b_k)``. ``w = softmax(E[task])`` from a
learned ``Embedding(T, K)`` with orthogonal init. The trunk is 3 compositional layers of width 400 with ReLU, then
compositional output heads (identity). MTBench initialises all ``K`` copies of a layer from the **same**
orthogonal matrix (gain sqrt 2; heads gain 1; biases 0) and shares one trunk between actor and critic
(``separate: False``); use ``make_actor_critic(actor_net="paco", critic_net="shared")`` for that. The paper's
"reset tasks with exploding loss" mechanism is not implemented (neither is it in MTBench).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from mtjax.nets.moore import check_inputs, split_obs

__all__ = ["CompositionalDense", "PaCoBody", "PaCoNet", "paco_shared_parts"]


def _stacked_orthogonal(scale: float, identical: bool):
    """Initializer for ``[K, in, out]``: orthogonal per copy; all copies equal when ``identical``."""
    ortho = nn.initializers.orthogonal(scale)

    def init(key, shape, dtype=jnp.float32):
        k, fan_in, fan_out = shape
        if identical:
            return jnp.broadcast_to(ortho(key, (fan_in, fan_out), dtype), shape)
        return jax.vmap(lambda kk: ortho(kk, (fan_in, fan_out), dtype))(jax.random.split(key, k))

    return init


class CompositionalDense(nn.Module):
    """``(x [B, in], w [B, K]) -> [B, features]`` with ``y = sum_k w_k (x V_k + b_k)``.

    Computed as one matmul of ``(w outer x) [B, K*in]`` with ``V [K*in, out]``.

    Attributes:
      features: output width.
      num_params: ``K``, the number of parameter sets.
      scale: orthogonal-init gain.
      identical_init: initialise all ``K`` copies from the same matrix, as MTBench does (docs/deviations.md).
    """

    features: int
    num_params: int
    scale: float = 2.0**0.5
    identical_init: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        k, fan_in = self.num_params, x.shape[-1]
        v = self.param(
            "kernel", _stacked_orthogonal(self.scale, self.identical_init), (k, fan_in, self.features)
        )
        b = self.param("bias", nn.initializers.zeros, (k, self.features))
        xw = (w[:, :, None] * x[:, None, :]).reshape(x.shape[0], k * fan_in)
        return xw @ v.reshape(k * fan_in, self.features) + w @ b


class PaCoBody(nn.Module):
    """PaCo trunk ``(x [B, D + T], task_id [B]) -> (h [B, H], w [B, K])``.

    Sows the compositional weights as ``intermediates/weights``. Attributes: see ``PaCoNet``.
    """

    num_tasks: int
    num_params: int = 5
    hidden: Sequence[int] = (400, 400, 400)
    identical_init: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> tuple[jax.Array, jax.Array]:
        check_inputs(x, task_id, self.num_tasks)
        obs, _ = split_obs(x, self.num_tasks)
        logits = nn.Embed(
            self.num_tasks,
            self.num_params,
            embedding_init=nn.initializers.orthogonal(),
            name="task_embedding",
        )(task_id)
        w = jax.nn.softmax(logits, axis=-1)
        self.sow("intermediates", "weights", w)
        h = obs
        for width in self.hidden:
            h = nn.relu(CompositionalDense(width, self.num_params, identical_init=self.identical_init)(h, w))
        return h, w


class _PaCoHead(nn.Module):
    """Compositional output head ``(h, w, task_id) -> [B, out_dim]`` (orthogonal gain 1)."""

    out_dim: int
    num_params: int
    identical_init: bool = True

    @nn.compact
    def __call__(self, h: jax.Array, w: jax.Array, task_id: jax.Array) -> jax.Array:
        del task_id
        return CompositionalDense(
            self.out_dim, self.num_params, scale=1.0, identical_init=self.identical_init
        )(h, w)


class PaCoNet(nn.Module):
    """PaCo network ``(x [B, D + T], task_id [B]) -> [B, out_dim]`` (trunk + compositional head).

    Attributes:
      out_dim: output size.
      num_tasks: ``T``.
      num_params: ``K`` parameter sets (MTBench: 5 for MT10 and Go1, 20 for MT50).
      hidden: compositional trunk widths (MTBench: 400, 400, 400).
      identical_init: all ``K`` copies start equal (MTBench); False draws them independently.
    """

    out_dim: int
    num_tasks: int
    num_params: int = 5
    hidden: Sequence[int] = (400, 400, 400)
    identical_init: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        h, w = PaCoBody(
            self.num_tasks, self.num_params, tuple(self.hidden), self.identical_init, name="body"
        )(x, task_id)
        return _PaCoHead(self.out_dim, self.num_params, self.identical_init, name="head")(h, w, task_id)


def paco_shared_parts(
    num_tasks: int, num_params: int = 5, hidden: Sequence[int] = (400, 400, 400), identical_init: bool = True
):
    """``(body, head_fn)`` for a shared actor-critic: ``head_fn(out_dim)`` builds a compositional head."""
    body = PaCoBody(num_tasks, num_params, tuple(hidden), identical_init)
    return body, lambda out_dim: _PaCoHead(out_dim, num_params, identical_init)
