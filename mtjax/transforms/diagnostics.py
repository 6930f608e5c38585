"""Collects the multi-task diagnostics carried in transform states, wherever they sit in an optax state.

``diagnostics(opt_state)`` walks a (chained, partitioned, masked, ...) optax state, finds every
``<Method>State`` of this package and returns flat scalar entries with stable names such as
``"pcgrad/num_conflicts"``, ``"famo/task_weights/3"`` (``[T]`` vectors are split per task). When the same method
occurs more than once, later occurrences get the suffix ``"_1"``, ``"_2"`` ... in traversal order.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from mtjax.transforms.aligned_mtl import AlignedMTLState
from mtjax.transforms.cagrad import CAGradState
from mtjax.transforms.famo import FAMOState
from mtjax.transforms.imtl_g import IMTLGState
from mtjax.transforms.nash_mtl import NashMTLState
from mtjax.transforms.pcgrad import PCGradState
from mtjax.transforms.upgrad import UPGradState

__all__ = ["STATE_NAMES", "diagnostics"]

STATE_NAMES: dict[type, str] = {
    PCGradState: "pcgrad", CAGradState: "cagrad", FAMOState: "famo", IMTLGState: "imtl_g",
    AlignedMTLState: "aligned_mtl", UPGradState: "upgrad", NashMTLState: "nash_mtl",
}
_SKIP = frozenset({"logit_opt_state", "prev_losses", "count", "w_star", "dual"})


def _is_state(x: Any) -> bool:
    return type(x) in STATE_NAMES


def diagnostics(opt_state: Any) -> dict[str, jax.Array]:
    """Flattens every multi-task transform state inside ``opt_state`` to named scalars.

    Args:
      opt_state: any optax state pytree (works under ``jit``; the key set depends only on the structure).

    Returns:
      ``{"<method>/<field>": scalar}``; vector fields become ``"<method>/<field>/<i>"`` entries.
    """
    out: dict[str, jax.Array] = {}
    seen: dict[str, int] = {}
    for x in jax.tree.leaves(opt_state, is_leaf=_is_state):
        if not _is_state(x):
            continue
        name = STATE_NAMES[type(x)]
        n = seen.get(name, 0)
        seen[name] = n + 1
        prefix = name if n == 0 else f"{name}_{n}"
        for field, value in x._asdict().items():
            if field in _SKIP:
                continue
            value = jnp.asarray(value)
            if value.ndim == 0:
                out[f"{prefix}/{field}"] = value
            else:
                for i in range(value.shape[0]):
                    out[f"{prefix}/{field}/{i}"] = value[i]
    return out
