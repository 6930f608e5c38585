"""MT10 MT-PPO on the fast physics option: the floating hand, one 12.5 ms step, Newton 4 + 4.

The same rows and settings as ``mt10_ppo.py`` (MTBench's MT10 MT-PPO), whose default physics is the faithful arm;
only the four physics keys of ``env.kwargs`` differ (``envs_bridge.metaworld.FLOATING_PHYSICS``). The floating hand
runs a training iteration ~5x faster (893 k vs 169 k env steps/s on an H100) and learns MT10 as fast per env step,
but behaves less like the real Meta-World: no reach limit, free-space tracking 9-43 mm off, every trajectory-parity
target met on 0 of 10 tasks (the arm: 6), its trained policy 0.55 in the real env vs 0.77 in ours
(``docs/metaworld_mjx.md``, "The options, speed x parity"). The MT10 results before session 16 were measured on it.

Variants (``experiments/configs/_variant.py``): as ``mt10_ppo.py`` ("" / "vanilla", "24k", "smoke", "24k,smoke").

Usage: python -m experiments.train --config=experiments/configs/mt10_ppo_floating.py:24k
"""

from envs_bridge.metaworld import FLOATING_PHYSICS
from experiments.configs import mt10_ppo


def get_config(arg: str = ""):
    c = mt10_ppo.get_config(arg)
    c.name = "mt10_ppo_floating"
    # the arm's shared-graph plan (smoke rows) is not the floating hand's: one graph per task, as measured
    c.env.kwargs = {**c.env.kwargs, **FLOATING_PHYSICS, "physics_graphs": 0}
    return c
