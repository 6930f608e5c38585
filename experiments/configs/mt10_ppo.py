"""MT10 MT-PPO with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; its "Vanilla PPO" MT10 row).

MTBench's vanilla MT10 script uses 4,096 envs and 32,768-sample minibatches; its other MT10 rows use 24,576 envs
for 1,272 iterations (1 B frames).

Physics: the faithful option, our Sawyer arm at four 3.125 ms substeps, Newton 4 + 4
(``envs_bridge.metaworld.ARM_PHYSICS``, its four keys written into ``env.kwargs`` so ``config.json`` records them).
``mt10_ppo_floating.py`` is the same run on the fast floating hand (several times the env steps/s, further from the
real Meta-World: ``docs/metaworld_mjx.md``, "The options, speed x parity"); every MT10 config built on this one
takes it with the same four keys (``--config.env.kwargs.hand=floating --config.env.kwargs.frame_skip=1
--config.env.kwargs.iterations=4 --config.env.kwargs.ls_iterations=4``).

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  ""  or "vanilla" : MTBench vanilla MT10 (4,096 envs, 7,630 iterations).
  "24k"            : 24,576 envs, 1,272 iterations (the budget of MTBench's MT10 method rows).
  "24k_warp"       : "24k" stepped by MuJoCo Warp, the tasks of one skeleton in one Warp call (physics_impl="warp",
                     physics_graphs=1): the same physics, the fast way on an NVIDIA GPU with warp-lang (H100: env
                     step 1.08 M env steps/s, whole iteration 805 k, 1 B in ~21 min; docs/metaworld_mjx.md).
  "24k_warp_clamp" : "24k_warp" with rl_games' own observation normaliser (clamp at +-5, eps 1e-5) instead of
                     MTBench's unclamped formula: the documented fix of docs/deviations.md, which learns
                     button-press-topdown where MTBench's formula never did (seed 42 at 409 M: 0.941 vs 0.873,
                     the mean of the last five logged iterations; docs/metaworld_mjx.md).
  "smoke"          : a short run sized for 2 CPU cores (the README's main job); "24k,smoke" is the same run.

Usage: python -m experiments.train --config=experiments/configs/mt10_ppo.py:smoke --config.seed=3
"""

import ml_collections

from envs_bridge.metaworld import ARM_PHYSICS, MT10_ARM_PHYSICS_GRAPHS
from experiments.configs import _variant

ROWS = ("vanilla", "24k", "24k_warp", "24k_warp_clamp")


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "vanilla", "mt10_ppo")
    c = ml_collections.ConfigDict()
    c.name = "mt10_ppo"
    c.seed = 42
    c.run_dir = ""  # default: runs/<name>-s<seed>
    c.env_backend = "jax"  # "jax" (MJX / toy, one XLA program) or "isaacgym" (host loop through DLPack)
    # Only read when env_backend == "isaacgym" (experiments/isaacgym_run.py): devices, an optional module
    # replacing isaacgymenvs (make/compose), and the Python of an out-of-process IsaacGym server (Python 3.8).
    c.isaacgym = ml_collections.ConfigDict(dict(sim_device="cuda:0", rl_device="cuda:0", graphics_device_id=0,
                                                make_module="", server_python="", transport="torch"))
    c.env = ml_collections.ConfigDict()
    c.env.name = "mt10"
    c.env.num_envs = 4096
    # Options forwarded to make_env (MTBench: 150-step episodes, reward_scale 100, "rand" resets) and the physics.
    # physics_impl: "jax" (MJX-JAX) or "warp" (MuJoCo Warp through MJX: NVIDIA GPUs, warp-lang installed; the same
    # scenes, several times faster on the arm: envs_bridge/physics_impl.py).
    # warp_graph_mode: Warp's CUDA-graph capture per call ("default" = MJX's: "warp" on the GPU; also "jax", "none").
    # physics_graphs: 0 = one physics graph per task; k = at most k graphs shared by the tasks of one skeleton (the
    # arm's fewest: 4, 1 asks for them; on Warp one call per group: envs_bridge/metaworld/warp_groups.py).
    c.env.kwargs = {"episode_length": 150, "reward_scale": 100.0, **ARM_PHYSICS, "physics_impl": "jax",
                    "warp_graph_mode": "default", "physics_graphs": 0}
    c.ppo = ml_collections.ConfigDict(dict(
        horizon=32, epochs=5, minibatch_size=32768, lr=5e-4, lr_schedule="fixed", kl_threshold=0.008,
        kl_reference="previous_epoch", value_norm_clip=5.0, stats_init_count=1.0,
        obs_norm_clip=0.0, obs_norm_eps=1e-8,
        gamma=0.99, lam=0.95, clip=0.2, critic_coef=4.0, entropy_coef=0.005, bound_coef=1e-4,
        max_grad_norm=1.0, adam_eps=1e-8, normalize_obs=True, normalize_value=True,
        normalize_advantage=True, value_bootstrap=True, log_std_init=0.0))
    c.net = ml_collections.ConfigDict()
    c.net.actor_net = "mlp"
    c.net.critic_net = "mlp"
    # Sizes: MTBench's preset for each network on this suite ("mt10", "mt50", "go1"; "" for none), updated with
    # the explicit *_kwargs (e.g. --config.net.actor_net=moore picks MOORE's MT10 sizes by itself).
    c.net.preset = "mt10"
    c.net.actor_kwargs = ml_collections.ConfigDict()
    c.net.critic_kwargs = ml_collections.ConfigDict()
    c.mtrl = "mean"  # gradient method: mean (plain MT-PPO), pcgrad, cagrad, famo, ...
    c.mtrl_target = "critic"  # MTBench applies gradient surgery to the critic only
    c.mtrl_kwargs = ml_collections.ConfigDict()
    c.total_iterations = 7630
    c.iters_per_call = 10  # iterations per jitted call (the host logs between calls)
    c.checkpoint_every = 100  # iterations
    c.tensorboard = True
    c.progress = True
    c.plot = True
    # Divergence guard: a chunk whose total loss exceeds this (or is NaN/Inf, or leaves non-finite learner state)
    # stops the run before it is checkpointed. 1e12 is above any real PPO loss (an un-normalised critic at reward
    # scale 100 stays below ~1e10).
    c.max_abs_loss = 1e12
    c.num_devices = 0  # devices the envs are split over (mtjax.sharding); 0 = all visible
    if row.startswith("24k"):
        c.env.num_envs = 24576
        c.total_iterations = 1272
    if row.startswith("24k_warp"):
        c.env.kwargs.update(physics_impl="warp", physics_graphs=1)
    if row == "24k_warp_clamp":
        c.ppo.update(obs_norm_clip=5.0, obs_norm_eps=1e-5)
    if smoke:
        c.env.num_envs = 40
        c.ppo.horizon = 16
        c.ppo.epochs = 2
        c.ppo.minibatch_size = 320
        c.total_iterations = 10  # 160 steps per env: every env finishes one 150-step episode
        c.iters_per_call = 5
        c.checkpoint_every = 5
        # Four shared physics graphs instead of ten: the same trajectories, half the XLA compile on 2 CPU cores
        # (README main job ~4 min instead of 6:19 cold; docs/metaworld_mjx.md, "Four physics graphs for the arm").
        c.env.kwargs["physics_graphs"] = MT10_ARM_PHYSICS_GRAPHS
    return c
