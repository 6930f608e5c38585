"""Building blocks of the scripted waypoint policies of the 40 MT50 tasks outside MT10 (our own JAX code).

Meta-World's scripted policies (Yu et al., 2019, arXiv 1910.10897; the ``metaworld.policies`` package, described
in ``docs/metaworld_policies.md``) are stateless: each step parses the 39-D observation (hand = obs[0:3], gripper
opening = obs[3], object = obs[4:7], second object = obs[11:14], goal = obs[36:39]), picks one waypoint with an
if/elif cascade of geometric tests, and returns ``action[:3] = gain * (waypoint - hand)`` (not clipped: the env
clips to [-1, 1]) and ``action[3]`` = a grab effort. ``cascade`` is that if/elif chain as data: it returns the
waypoint *and* the index of the branch taken, so the tests can check which waypoints a fixture exercised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

__all__ = ["Waypointed", "act", "action_only", "cascade", "dxy", "parts", "vec"]

# A policy that also reports its branch: ``obs [39] -> (action [4], branch index [] int32)``.
Waypointed = Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def parts(o: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """``(hand [3], gripper [], object [3], goal [3])`` of an observation ``o [39]``."""
    return o[0:3], o[3], o[4:7], o[36:39]


def vec(x, y, z) -> jax.Array:
    """A float32 ``[3]`` vector from three scalars (Python numbers or traced scalars)."""
    return jnp.stack([jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), jnp.asarray(z, jnp.float32)])


def dxy(a: jax.Array, b: jax.Array) -> jax.Array:
    """Horizontal distance ``||a[:2] - b[:2]||``."""
    return jnp.linalg.norm(a[:2] - b[:2])


def cascade(conds: Sequence[jax.Array], targets: Sequence[jax.Array]) -> tuple[jax.Array, jax.Array]:
    """``if conds[0]: targets[0] elif conds[1]: targets[1] ... else: targets[-1]``.

    Args:
      conds: ``n`` boolean scalars.
      targets: ``n + 1`` waypoints ``[3]``; the last one is the ``else`` branch.

    Returns:
      ``(waypoint [3], branch [] int32)``: the first target whose condition holds, and its index.
    """
    if len(targets) != len(conds) + 1:
        raise ValueError(f"cascade needs len(conds) + 1 targets, got {len(conds)} and {len(targets)}")
    branch = jnp.argmax(jnp.stack([*conds, jnp.asarray(True)])).astype(jnp.int32)
    return jnp.stack(targets)[branch], branch


def act(hand: jax.Array, target: jax.Array, gain: float, grab) -> jax.Array:
    """``[gain * (target - hand), grab]`` as a float32 ``[4]`` action (unclipped, as Meta-World's)."""
    return jnp.concatenate([gain * (target - hand), jnp.asarray(grab, jnp.float32)[None]])


def action_only(policy: Waypointed) -> Callable[[jax.Array], jax.Array]:
    """The plain ``obs [39] -> action [4]`` policy of a branch-reporting one."""
    def act_fn(o: jax.Array) -> jax.Array:
        return policy(o)[0]

    return act_fn
