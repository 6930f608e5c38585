"""MT10 FastTD3 + SimbaV2 with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; spec 3.8, 5.2 row).

MTBench's ``meta-world-mt10-fast-TD3-simba-v2``: 4,096 envs, one env step per iteration, n-step 8 with
gamma 0.97 into an 8,388,608-transition FIFO replay, 2 gradient steps of 8,192 per iteration, SimbaV2 actor
(512 x 1 block) and C51 twin critics (1024 x 2 blocks, 101 atoms on [-10, 10]) with a learned 32-d task embedding,
AdamW 3e-4 cosine-decayed to 3e-5 over the run's 24,416 optimiser steps, Polyak 0.1, an actor step every second
update, target-policy noise 0.001 (clip 0.5), exploration noise std in [0.001, 0.4], reward scale 1,
12,208 iterations (50 M frames). Learner: ``mtjax.algos.fasttd3`` on ``mtjax.algos.off_policy``; deviations
(no per-task reward normaliser, no bf16): ``docs/offpolicy.md``.

``td3.lr_decay_steps`` is ``total_iterations * td3.gradient_steps``; a run with another budget sets it too.
Checkpoints hold the replay (3.5 GB at MT10), so they are sparse: every 2,000 iterations and at the end.

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  "" or "simba" : the MTBench row above.
  "smoke"       : 40 envs, a 16,000-transition replay, 2 gradient steps of 320, 150 iterations (every env
                  finishes one 150-step episode in the last), sized for 2 CPU cores.

Usage: python -m experiments.train --config=experiments/configs/mt10_fasttd3.py:smoke
"""

import ml_collections

from experiments.configs import _variant, mt10_ppo

ROWS = ("simba",)


def get_config(arg: str = ""):
    _, smoke = _variant.parse(arg, ROWS, "simba", "mt10_fasttd3")
    c = mt10_ppo.get_config("")  # env, run and logging keys; the ppo section is not read by algo="fasttd3"
    del c["ppo"]
    c.name = "mt10_fasttd3"
    c.algo = "fasttd3"
    c.env.num_envs = 4096
    c.env.kwargs = {**c.env.kwargs, "reward_scale": 1.0}  # FastTD3's reward_scale=1 (C51 on [-10, 10]); + physics
    c.td3 = ml_collections.ConfigDict({
        "horizon": 1, "gradient_steps": 2, "batch_size": 8192, "buffer_size": 8_388_608, "n_step": 8, "gamma": 0.97,
        "warmup_steps": 8, "timeout_as_terminal": True, "actor_lr": 3e-4, "critic_lr": 3e-4, "lr_end": 3e-5,
        "lr_decay_steps": 24_416, "weight_decay": 0.0, "adam_b1": 0.9, "adam_b2": 0.999, "adam_eps": 1e-8,
        "tau": 0.1, "policy_frequency": 2, "policy_noise": 0.001, "noise_clip": 0.5, "std_min": 0.001,
        "std_max": 0.4, "noise_per_episode": True, "normalize_reward": True, "reward_norm_g_max": 10.0,
        "reward_norm_return": "task", "v_min": -10.0, "v_max": 10.0, "num_atoms": 101, "max_grad_norm": 0.0, "normalize_obs": True,
        "obs_norm_eps": 1e-8, "obs_norm_clip": 0.0, "stats_init_count": 1.0})
    c.net.actor_net = "simba"
    c.net.critic_net = "simba"
    c.net.preset = ""  # empty kwargs: fasttd3.ACTOR_NET / CRITIC_NET (512 x 1, 1024 x 2, task embedding 32)
    c.net.actor_kwargs = ml_collections.ConfigDict()
    c.net.critic_kwargs = ml_collections.ConfigDict()
    c.mtrl = "mean"  # FastTD3's gradient path is the plain task mean
    c.total_iterations = 12_208
    c.iters_per_call = 100
    c.checkpoint_every = 2000
    if smoke:
        c.env.num_envs = 40
        c.td3.buffer_size = 16_000
        c.td3.batch_size = 320  # 32 per task
        c.total_iterations = 150  # every env's first 150-step episode ends in the last iteration
        c.td3.lr_decay_steps = 300  # 150 iterations x 2 updates
        c.iters_per_call = 50
        c.checkpoint_every = 75
    return c
