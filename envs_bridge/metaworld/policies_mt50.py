"""One lookup for the scripted waypoint policies of all 50 MT50 tasks (our own JAX code).

The ten MT10 policies are ``policies.POLICIES`` (unchanged); the other 40 live by family in
``policies_mt50_{grasp,articulated,sliding}.py``. All follow Meta-World's stateless scripted policies (Yu et al.,
2019, arXiv 1910.10897); ``docs/metaworld_policies.md`` lists them and how they are checked against Meta-World
3.1.1 (``tests/test_metaworld_policies_mt50.py``: same action from the same observation on recorded steps).
"""

from __future__ import annotations

from collections.abc import Callable

import jax

from envs_bridge.metaworld import policies
from envs_bridge.metaworld.policies_common import Waypointed, action_only
from envs_bridge.metaworld.policies_mt50_articulated import WAYPOINTS_ARTICULATED
from envs_bridge.metaworld.policies_mt50_grasp import WAYPOINTS_GRASP
from envs_bridge.metaworld.policies_mt50_sliding import WAYPOINTS_SLIDING
from envs_bridge.metaworld.quantities_mt50 import MT50_TASKS
from mtjax import envs

__all__ = ["POLICIES_MT50", "WAYPOINTS_MT50", "multitask_policy"]

# The 40 non-MT10 policies with their branch index: ``obs [39] -> (action [4], branch [])``.
WAYPOINTS_MT50: dict[str, Waypointed] = {**WAYPOINTS_GRASP, **WAYPOINTS_ARTICULATED, **WAYPOINTS_SLIDING}

# ``obs [39] -> action [4]`` for every MT50 task, in Meta-World's MT50 order.
POLICIES_MT50: dict[str, Callable[[jax.Array], jax.Array]] = {
    t: policies.POLICIES[t] if t in policies.POLICIES else action_only(WAYPOINTS_MT50[t])
    for t in MT50_TASKS
}


def multitask_policy(task_set: envs.TaskSet) -> Callable[[jax.Array], jax.Array]:
    """``policies.multitask_policy`` over any MT50 tasks: ``obs [N, >=39] -> action [N, 4]`` (task-major)."""
    return policies.multitask_policy(task_set, table=POLICIES_MT50)
