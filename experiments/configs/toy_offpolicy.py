"""MT-SAC or FastTD3 on the toy point-mass env (a CPU demo of the off-policy CLI; the CLI tests' fixture).

The settings of ``docs/offpolicy.md``'s examples and ``tests/test_sac.py`` / ``tests/test_fasttd3.py``: 32 envs
of 4 tasks, 4 env steps and 4 gradient steps of 256 per iteration, a 20,000-transition replay, n = 3,
gamma 0.9, 200 random warm-up steps, lr 1e-3, [64, 64] networks; the return rises from about -42 (random) to
above -15 within the 600 iterations.

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``): ``""`` or ``"sac"`` (MT-SAC),
``"fasttd3"`` (FastTD3, 51 atoms, constant lr, no weight decay), ``",smoke"`` (16 envs, 2 env steps and 2
gradient steps of 64 per iteration, a 2,048-transition replay, 20 iterations: seconds).

Usage: python -m experiments.train --config=experiments/configs/toy_offpolicy.py:sac
"""

import ml_collections

from experiments.configs import _variant, mt10_ppo

ROWS = ("sac", "fasttd3")
DRIVER = {"horizon": 4, "gradient_steps": 4, "batch_size": 256, "buffer_size": 20_000, "n_step": 3, "gamma": 0.9,
          "warmup_steps": 200, "actor_lr": 1e-3, "critic_lr": 1e-3}


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "sac", "toy_offpolicy")
    c = mt10_ppo.get_config("")
    del c["ppo"]
    c.name = f"toy_{row}"
    c.algo = row
    c.env.name = "toy"
    c.env.num_envs = 32
    c.env.kwargs = {"num_tasks": 4}
    section = ml_collections.ConfigDict(dict(DRIVER))
    if row == "sac":
        section.tau = 0.05
        c.sac = section
    else:
        section.update(lr_decay_steps=0, weight_decay=0.0, num_atoms=51)
        c.td3 = section
    c.net.preset = ""
    c.net.actor_net = c.net.critic_net = "mlp"
    c.net.actor_kwargs = {"hidden": (64, 64)}
    c.net.critic_kwargs = {"hidden": (64, 64)}
    c.total_iterations = 600
    c.iters_per_call = 100
    c.checkpoint_every = 200
    if smoke:
        c.env.num_envs = 16
        section.update(horizon=2, gradient_steps=2, batch_size=64, buffer_size=2048, warmup_steps=8)
        c.net.actor_kwargs = {"hidden": (32, 32)}
        c.net.critic_kwargs = {"hidden": (32, 32)}
        c.total_iterations = 20
        c.iters_per_call = 10
        c.checkpoint_every = 10
    return c
