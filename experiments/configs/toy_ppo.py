"""MT-PPO (or MT-GRPO, MT-PQN) on the toy point-mass env (a seconds-long CPU demo; the learners' test fixture).

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``): ``""`` or ``"demo"`` (MT-PPO, 60
iterations), ``"grpo"`` (MT-GRPO without a critic, horizon = the 40-step episode, 20 iterations), ``"pqn"``
(MT-PQN, ``docs/offpolicy.md``'s toy example: 64 envs, 16-step rollouts, 4 epochs of 2 minibatches, a [64]
Q-network, 300 iterations), ``",smoke"`` (20 iterations; GRPO 10, PQN 10 with 32 envs).

Usage: python -m experiments.train --config=experiments/configs/toy_ppo.py[:smoke]
       python -m experiments.train --config=experiments/configs/toy_ppo.py:grpo
"""

import ml_collections

from experiments.configs import _variant, mt10_ppo

ROWS = ("demo", "grpo", "pqn")


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "demo", "toy_ppo")
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
    if row == "grpo":
        c.name = "toy_grpo"
        c.algo = "grpo"
        c.ppo.horizon = 40  # the toy env's episode length: each rollout is one episode, as MTBench's 150
        c.ppo.minibatch_size = 2560  # 256 * 40 / 4 minibatches
        c.net.critic_net = "none"
        c.net.critic_kwargs = {}
        c.mtrl_target = "actor"
        c.total_iterations = 10 if smoke else 20
        c.iters_per_call = 5
        c.checkpoint_every = 10
    if row == "pqn":
        c.name = "toy_pqn"
        c.algo = "pqn"
        del c["ppo"]
        c.env.num_envs = 32 if smoke else 64
        c.total_iterations = 10 if smoke else 300
        c.pqn = ml_collections.ConfigDict({"horizon": 16, "epochs": 4, "num_minibatches": 2, "lr": 1e-3,
                                           "gamma": 0.9, "exploration_fraction": 0.1})
        c.pqn.total_iterations = c.get_ref("total_iterations")  # the schedules span the run
        c.net.critic_net = "qnet"
        c.net.critic_kwargs = {"hidden": 64}
        c.iters_per_call = 5 if smoke else 50
        c.checkpoint_every = 5 if smoke else 100
    return c
