"""MT50 MT-PPO with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; its MT50-rand "Vanilla PPO" row).

MTBench's ``meta-world-mt50-vanilla-PPO``: 24,576 envs over the fifty tasks (492 x 26 + 491 x 24), horizon 32,
32,768-sample minibatches (24 per epoch), 1,272 iterations (1 B env steps), the shared PPO settings of
``mt10_ppo`` (150-step episodes, reward scale 100, adaptive LR), MLP sizes of the "mt50" preset, no mixed precision.

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  ""  or "vanilla" : MTBench's MT50 vanilla PPO row on the faithful physics (``MT50_PHYSICS``): the MT10 configs'
                     Sawyer arm (4 x 3.125 ms, Newton 4 + 4) stepped by MuJoCo Warp, the tasks of one skeleton in
                     one Warp call (physics_graphs=1: 10 calls for the fifty tasks); needs warp-lang (the ``cuda``
                     and ``test`` extras; an NVIDIA GPU for speed: 419,790 env steps/s on an H100). Parity: closed
                     loop over 50 variations 40 of 50 tasks, every 5-episode target on 24 of the 40 non-MT10
                     scenes (docs/metaworld_mt50.md).
  "floating"       : the same row on the fast floating hand, MJX-JAX, 20 shared physics graphs (1,588,286 env
                     steps/s on Warp, an H100; closed loop 27 of 50, every 5-episode target on 1 of 40).
  "smoke"          : 100 envs (2 per task), a few iterations, sized for 2 CPU cores (compiling the fifty task
                     models is most of its time).

Usage: python -m experiments.train --config=experiments/configs/mt50_ppo.py:smoke
The smoke compiles and runs 5 iterations in ~3.5 min on 2 CPU cores (Warp's kernels on the CPU).
"""

from envs_bridge.metaworld import ARM_PHYSICS, FLOATING_PHYSICS, MT50_PHYSICS_GRAPHS
from experiments.configs import _variant, mt10_ppo

ROWS = ("vanilla", "floating")
MT50_PHYSICS = {**ARM_PHYSICS, "physics_impl": "warp", "physics_graphs": 1}
FLOATING_MT50_PHYSICS = {**FLOATING_PHYSICS, "physics_impl": "jax", "physics_graphs": MT50_PHYSICS_GRAPHS}


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "vanilla", "mt50_ppo")
    c = mt10_ppo.get_config("24k,smoke" if smoke else "24k")
    c.name = "mt50_ppo"
    c.env.name = "mt50"
    c.env.kwargs = {**c.env.kwargs, **(FLOATING_MT50_PHYSICS if row == "floating" else MT50_PHYSICS)}
    c.net.preset = "mt50"
    if smoke:
        c.env.num_envs = 100  # 2 per task: every task's model is compiled and stepped
        c.ppo.minibatch_size = 800  # 100 envs x horizon 16 = 1,600 samples, 2 minibatches
    return c
