"""MT10 MT-SAC with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; spec 3.6 and the 5.2 MT-SAC row).

MTBench's ``meta-world-mt-SAC`` with ``exec/sac_exps/sac_best.sh``: 4,096 envs, one env step per iteration, an
n-step buffer (n = 4, gamma 0.99) in front of a 5 M FIFO replay, 4 gradient steps of 8,192 per iteration, actor
and twin critics MLP [512, 256, 128] ReLU, one learnable temperature per task (alpha0 1, Adam 5e-3, target
entropy -|A|, log-alpha gradient clipped to 0.5), Adam 5e-4 for actor and critics, Polyak 0.01, time-outs as
terminals, reward scale 100 (the Meta-World env's), 122,071 iterations (500 M frames). Learner:
``mtjax.algos.sac`` on ``mtjax.algos.off_policy``; deviations: ``docs/offpolicy.md``.

Checkpoints hold the replay (2.1 GB at 5 M transitions of MT10), so they are sparse: every 5,000 iterations
(the newest 3 are kept) and at the end.

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  ""  or "best" : ``sac_best.sh`` (n = 4, 4 gradient steps, 122,071 iterations = 500 M frames).
  "g32"         : ``sac_b/c.sh`` (32 gradient steps per iteration, 48,830 iterations = 200 M frames, n = 1: the
                  scripts set no ``nstep``, so MTBench's ``config.yaml`` default 1 applies).
  "smoke"       : 40 envs, a 16,000-transition replay, 1 gradient step of 320 per iteration, 150 iterations
                  (every env finishes one 150-step episode in the last), sized for 2 CPU cores.

Usage: python -m experiments.train --config=experiments/configs/mt10_sac.py:smoke
"""

import ml_collections

from experiments.configs import _variant, mt10_ppo
from mtjax.algos import sac

ROWS = ("best", "g32")
MTBENCH_NET = sac.MTBENCH_NET  # rl_games soft_actor_critic: [512, 256, 128] ReLU, zero biases


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "best", "mt10_sac")
    c = mt10_ppo.get_config("")  # env, run and logging keys; the ppo section is not read by algo="sac"
    del c["ppo"]
    c.name = "mt10_sac" if row == "best" else "mt10_sac_g32"
    c.algo = "sac"
    c.env.num_envs = 4096
    c.sac = ml_collections.ConfigDict({
        "horizon": 1, "gradient_steps": 4, "batch_size": 8192, "buffer_size": 5_000_000, "n_step": 4, "gamma": 0.99,
        "warmup_steps": 4, "timeout_as_terminal": True, "actor_lr": 5e-4, "critic_lr": 5e-4, "alpha_lr": 5e-3,
        "adam_b1": 0.9, "adam_b2": 0.999, "adam_eps": 1e-8, "init_alpha": 1.0, "target_entropy_per_dim": -1.0,
        "alpha_grad_clip": 0.5, "tau": 0.01, "log_std_min": -20.0, "log_std_max": 2.0, "log_std_mode": "clamp",
        "obs_stats_on_next_obs": True, "max_grad_norm": 0.0, "normalize_obs": True, "obs_norm_eps": 1e-8, "obs_norm_clip": 0.0, "stats_init_count": 1.0})
    c.net.actor_net = "mlp"
    c.net.critic_net = "mlp"
    c.net.preset = ""  # the mt10 preset is MT-PPO's [256, 128, 64] ELU
    c.net.actor_kwargs = dict(MTBENCH_NET)
    c.net.critic_kwargs = dict(MTBENCH_NET)
    c.mtrl = "mean"  # plain MT-SAC; pcgrad, cagrad, ... on mtrl_target's gradient are our options
    c.mtrl_target = "critic"
    c.total_iterations = 122_071
    c.iters_per_call = 200
    c.checkpoint_every = 5000
    if row == "g32":  # sac_b/c.sh pass no nstep: config.yaml's nstep 1 (1-step returns, 1 warm-up step)
        c.sac.gradient_steps = 32
        c.sac.n_step = 1
        c.sac.warmup_steps = 1
        c.total_iterations = 48_830
        c.checkpoint_every = 2000
    if smoke:
        c.env.num_envs = 40
        c.sac.buffer_size = 16_000
        c.sac.batch_size = 320  # 32 per task
        c.sac.gradient_steps = 1
        c.total_iterations = 150  # every env's first 150-step episode ends in the last iteration
        c.iters_per_call = 50
        c.checkpoint_every = 75
    return c
