"""Several seeds of one run as one XLA program: the train state gets a leading seed axis.

A trainer's ``init(key)`` and ``train_chunk(state, n)`` are pure (``mtjax.algos.on_policy``,
``mtjax.algos.off_policy``), so ``jax.vmap`` over a stacked state trains seeds ``seed, seed + 1, ...,
seed + S - 1`` side by side; seed ``seed + k`` is the run a single-seed job with ``--config.seed=seed + k`` makes
(equal up to float reassociation under ``vmap``; ``tests/test_multi_seed.py``). MTBench reports three seeds per
setting (Joshi et al., 2025, arXiv 2507.23172): on an accelerator where one run leaves the device partly idle
(the MJX Meta-World step is latency-bound) S seeds in one program cost less than S runs.

The host side (``mtjax.run_loop``) logs each seed into its own ``seed_<seed>/`` directory and checkpoints the
stacked state once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["seed_dir", "seed_keys", "select", "vmap_chunk", "vmap_init"]


def seed_keys(seed: int, num_seeds: int) -> jax.Array:
    """Typed keys ``[S]`` whose row ``k`` equals ``jax.random.key(seed + k)``."""
    if num_seeds < 1:
        raise ValueError(f"num_seeds must be >= 1, got {num_seeds}")
    return jax.vmap(jax.random.key)(jnp.arange(seed, seed + num_seeds, dtype=jnp.uint32))


def vmap_init(init: Callable[[jax.Array], Any], seed: int, num_seeds: int) -> Callable[[], Any]:
    """``() -> stacked TrainState`` (jit it); the state of seed ``seed + k`` is row ``k`` of every leaf."""
    keys = seed_keys(seed, num_seeds)
    return lambda: jax.vmap(init)(keys)


def vmap_chunk(train_chunk: Callable[[Any, int], tuple[Any, dict]]) -> Callable[[Any, int], tuple[Any, dict]]:
    """``(stacked state, n) -> (stacked state, metrics [S, n])``; jit it with ``static_argnums=1``."""
    return lambda state, n: jax.vmap(lambda s: train_chunk(s, n))(state)


def select(tree: Any, k: int) -> Any:
    """Row ``k`` of every leaf (one seed's state or metrics), as numpy where the leaf is on the host."""
    return jax.tree.map(lambda x: x[k] if isinstance(x, (jax.Array, np.ndarray)) else x, tree)


def seed_dir(directory: str, seed: int) -> str:
    """Where seed ``seed`` of a multi-seed run logs (``metrics.jsonl``, TensorBoard, plot)."""
    return f"{directory.rstrip('/')}/seed_{seed}"
