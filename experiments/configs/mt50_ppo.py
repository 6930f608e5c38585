"""MT50 MT-PPO with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; its MT50-rand "Vanilla PPO" row).

MTBench's ``meta-world-mt50-vanilla-PPO``: 24,576 envs over the fifty tasks (492 x 26 + 491 x 24), horizon 32,
32,768-sample minibatches (24 per epoch), 1,272 iterations (1 B env steps), the shared PPO settings of
``mt10_ppo`` (150-step episodes, reward scale 100, adaptive LR), MLP sizes of the "mt50" preset, no mixed precision.

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  ""  or "vanilla" : MTBench's MT50 vanilla PPO row (floating hand, MJX-JAX, 20 shared physics graphs).
  "arm"            : the same row on the faithful Sawyer arm (the MT10 configs' physics: 4 x 3.125 ms, Newton 4 + 4;
                     23 of the 40 non-MT10 scenes meet every parity target against the floating hand's 1,
                     docs/metaworld_mt50.md) stepped by MuJoCo Warp, the tasks of one skeleton in one Warp call
                     (physics_graphs=1: 11 calls for the fifty tasks); needs warp-lang (NVIDIA GPU for speed).
  "smoke"          : 100 envs (2 per task), a few iterations, sized for 2 CPU cores (compiling the fifty task
                     models is most of its time).

Usage: python -m experiments.train --config=experiments/configs/mt50_ppo.py:smoke
On MuJoCo Warp (one graph per task; the smoke compiles in ~4 min on 2 CPU cores instead of ~10; on the GPU the
default graph capture failed in session 21, try --config.env.kwargs.warp_graph_mode=none):
  ... --config.env.kwargs.physics_impl=warp --config.env.kwargs.physics_graphs=0
"""

from envs_bridge.metaworld import ARM_PHYSICS, FLOATING_PHYSICS, MT50_PHYSICS_GRAPHS
from experiments.configs import _variant, mt10_ppo

ROWS = ("vanilla", "arm")


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "vanilla", "mt50_ppo")
    c = mt10_ppo.get_config("24k,smoke" if smoke else "24k")
    c.name = "mt50_ppo"
    c.env.name = "mt50"
    # 20 shared physics graphs instead of 50 (envs_bridge.metaworld.shared_physics; the registry's default too). MT50
    # stays on the floating hand: its MT-PPO program does not yet compile within the goal on it (issue 12), and the
    # arm's MT50 training is unmeasured (docs/metaworld_mt50.md).
    c.env.kwargs = {**c.env.kwargs, **FLOATING_PHYSICS, "physics_graphs": MT50_PHYSICS_GRAPHS}
    if row == "arm":
        c.env.kwargs = {**c.env.kwargs, **ARM_PHYSICS, "physics_impl": "warp", "physics_graphs": 1}
    c.net.preset = "mt50"
    if smoke:
        c.env.num_envs = 100  # 2 per task: every task's model is compiled and stepped
        c.ppo.minibatch_size = 800  # 100 envs x horizon 16 = 1,600 samples, 2 minibatches
    return c
