"""MT10 MT-GRPO with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; its MT10 GRPO rows).

MTBench's ``meta-world-mt10-vanilla-GRPO``: critic-free PPO (``mtjax.algos.grpo``) with an actor MLP
[256, 128, 64] ELU and no critic (``critic_net="none"``), 4,096 envs, horizon 150 (one episode), 5 mini-epochs
of 16 minibatches of 38,400 samples, lr 5e-4 fixed, entropy 0.005, bound 1e-4, clip 0.2, grad-norm 1.0,
gamma 0.99, the ``+gamma`` time-out bonus (``value_bootstrap``), 1,628 iterations = ceil(1e9 / (4,096 * 150)).

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  ""  or "vanilla" : MT-GRPO.
  "famo"           : MTBench's ``meta-world-mt10-famo-GRPO``: FAMO on the actor's per-task losses
                     ``exp(mean_k(a - ent + bound))`` (``ppo.grpo_exp_loss``), adaptive LR (KL 0.008), FAMO's
                     Meta-World options (w_lr 1e-3, gamma 1e-3, eps 1e-2).
  "smoke"          : 40 envs, 2 iterations of one 150-step episode, sized for 2 CPU cores.

Usage: python -m experiments.train --config=experiments/configs/mt10_grpo.py:smoke
"""

import ml_collections

from experiments.configs import _variant, mt10_ppo

ROWS = ("vanilla", "famo")


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "vanilla", "mt10_grpo")
    c = mt10_ppo.get_config("")
    c.name = "mt10_grpo" if row == "vanilla" else "mt10_famo_grpo"
    c.algo = "grpo"
    c.env.num_envs = 4096
    c.ppo.horizon = 150
    c.ppo.epochs = 5
    c.ppo.minibatch_size = 38400
    c.ppo.lr = 5e-4
    c.ppo.lr_schedule = "fixed"
    c.ppo.entropy_coef = 0.005
    c.ppo.bound_coef = 1e-4
    c.ppo.value_bootstrap = True  # MTBench's +gamma reward at time-outs (spec quirk Q10)
    c.ppo.grpo_exp_loss = False
    c.net.critic_net = "none"
    c.net.critic_kwargs = ml_collections.ConfigDict()
    c.mtrl = "mean"
    c.mtrl_target = "actor"  # there is no critic; FAMO-GRPO weights the actor's task losses
    c.total_iterations = 1628
    c.iters_per_call = 2
    c.checkpoint_every = 50
    if row == "famo":
        c.mtrl = "famo"
        c.mtrl_kwargs = {"variant": "mtbench", "w_lr": 1e-3, "gamma": 1e-3, "eps": 1e-2}
        c.ppo.grpo_exp_loss = True
        c.ppo.lr_schedule = "adaptive"
        c.ppo.kl_threshold = 0.008
    if smoke:
        c.env.num_envs = 40
        c.ppo.epochs = 2
        c.ppo.minibatch_size = 1500  # 40 * 150 / 4 minibatches
        c.total_iterations = 2
        c.iters_per_call = 1
        c.checkpoint_every = 1
    return c
