"""MT-PPO on the toy point-mass env (a seconds-long CPU demo; the learner's test fixture).

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``): ``""`` or ``"demo"`` (60 iterations),
``"smoke"`` (20 iterations).

Usage: python -m experiments.train --config=experiments/configs/toy_ppo.py[:smoke]
"""

from experiments.configs import _variant, mt10_ppo

ROWS = ("demo",)


def get_config(arg: str = ""):
    _, smoke = _variant.parse(arg, ROWS, "demo", "toy_ppo")
    c = mt10_ppo.get_config("")
    c.name = "toy_ppo"
    c.env.name = "toy"
    c.env.num_envs = 256
    c.env.kwargs = {"num_tasks": 4}
    c.ppo.horizon = 16
    c.ppo.epochs = 4
    c.ppo.minibatch_size = 1024
    c.ppo.lr = 1e-3
    c.ppo.entropy_coef = 0.0
    c.net.preset = ""
    c.net.actor_kwargs = {"hidden": (64, 64)}
    c.net.critic_kwargs = {"hidden": (64, 64)}
    c.total_iterations = 60
    c.iters_per_call = 10
    c.checkpoint_every = 20
    if smoke:
        c.total_iterations = 20
        c.checkpoint_every = 10
    return c
