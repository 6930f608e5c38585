"""Go1 parkour MT-PPO with MTBench's settings (Joshi et al., 2025, arXiv 2507.23172; its go1-PPO-Vanilla config and
exec/go1_exps scripts; ``docs/parkour.md``).

The env is ``envs_bridge.parkour`` on MJX with all 21 terrain types. Every row uses a 21-wide task one-hot
(``num_task_slots=21``, column = terrain id) so observations are MTBench's 233 floats in every row.
Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``):
  ""  or "hard" : all 10 difficulty levels, no curriculum, 4,096 envs, 4,000 iterations (524 M frames).
  "hard_cl"     : as hard with MTBench's terrain curriculum (levels start in {0, 1, 2}).
  "easy"        : every level at the easiest difficulty, 2,000 iterations.
  "flat"        : stage 1, flat terrain only (MTBench pre-trains 1,000 iterations). Its obs width equals stage
                  2's; a stage-2 row starts from its parameters with ``--config.init_params_from=<flat run dir>``
                  (MTBench starts easy/hard/hard_cl from a pre-trained flat checkpoint; docs/parkour.md,
                  "Two-stage protocol").
  "smoke"       : one env per terrain (21), a few short iterations, sized for 2 CPU cores.

Usage: python -m experiments.train --config=experiments/configs/go1_parkour.py:hard_cl,smoke
On a GPU add ``--config.env.kwargs.physics_impl=warp`` (MuJoCo Warp, needs warp-lang; ~5x MJX-JAX's env steps/s on
an H100, the same scene: docs/parkour.md, "MuJoCo Warp").
"""

import ml_collections

from experiments.configs import _variant

ROWS = ("hard", "hard_cl", "easy", "flat")
_ITERS = {"hard": 4000, "hard_cl": 4000, "easy": 2000, "flat": 1000}


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "hard", "go1_parkour")
    c = ml_collections.ConfigDict()
    c.name = f"go1_parkour_{row}"
    c.seed = 41  # MTBench's Go1 seeds are 41-45
    c.run_dir = ""
    c.env_backend = "jax"
    c.isaacgym = ml_collections.ConfigDict({"sim_device": "cuda:0", "rl_device": "cuda:0", "graphics_device_id": 0,
                                                "make_module": "", "server_python": "", "transport": "torch"})
    c.env = ml_collections.ConfigDict()
    c.env.name = "parkour_easy" if row in ("easy", "flat") else f"parkour_{row}"
    c.env.num_envs = 4096
    # Options forwarded to make_env (ParkourEnv): 2000-step episodes (40 s), action scale 1, 6 active box slots
    # (sphere slots: 3 when sphere terrains are in the set), a fixed 21-wide one-hot (MTBench's; column = terrain id).
    # action_clip 5.0: go1-PPO-Vanilla's task clamp; it binds only with ppo.clip_actions False (below; with True the
    # trainer hands the env clip(action, -1, 1): docs/deviations.md)
    c.env.kwargs = {"episode_length": 2000, "action_scale": 1.0, "action_clip": 5.0, "active_boxes": 6,
                    "num_task_slots": 21, "physics_impl": "jax", "warp_graph_mode": "default"}
    if row == "flat":
        c.env.kwargs["tasks"] = ("flat",)
    # go1-PPO-Vanilla (spec 5.4): horizon 32, minibatch 16,384, 5 epochs, lr 5e-4 adaptive (KL 0.008), entropy
    # 0.001, gamma 0.99, lambda 0.95, critic_coef 4, clip 0.2, bound loss 0, no obs/value normalisation, log-std 1.
    c.ppo = ml_collections.ConfigDict({
        "horizon": 32, "epochs": 5, "minibatch_size": 16384, "lr": 5e-4, "lr_schedule": "adaptive", "kl_threshold": 0.008,
        "kl_reference": "previous_epoch", "value_norm_clip": 5.0, "stats_init_count": 1.0, "obs_norm_clip": 0.0,
        "obs_norm_eps": 1e-8, "gamma": 0.99, "lam": 0.95, "clip": 0.2, "critic_coef": 4.0, "entropy_coef": 0.001, "bound_coef": 0.0,
        "max_grad_norm": 1.0, "adam_eps": 1e-8, "normalize_obs": False, "normalize_value": False,
        "normalize_advantage": True, "value_bootstrap": True, "log_std_init": 1.0,
        # clip_actions True: rl_games' clip to [-1, 1], the "go1-PPO-clip-Vanilla" MTBench's launch scripts name and
        # every Go1 run here used; False = go1-PPO-Vanilla's yaml (the env's action_clip +-5 then binds)
        "clip_actions": True})
    c.net = ml_collections.ConfigDict()
    c.net.actor_net = "mlp"
    c.net.critic_net = "mlp"
    c.net.preset = "go1"  # [512, 256, 128] ELU
    c.net.actor_kwargs = ml_collections.ConfigDict()
    c.net.critic_kwargs = ml_collections.ConfigDict()
    c.mtrl = "mean"
    c.mtrl_target = "critic"  # MTBench's Go1 PCGrad/CAGrad manipulate the critic only
    c.mtrl_kwargs = ml_collections.ConfigDict()
    c.total_iterations = _ITERS[row]
    c.iters_per_call = 10
    c.checkpoint_every = 100
    c.tensorboard = True
    c.progress = True
    c.plot = True
    c.max_abs_loss = 1e12
    c.num_devices = 0
    if smoke:
        c.env.num_envs = 1 if row == "flat" else 21  # one env per terrain type
        c.env.kwargs["episode_length"] = 100
        c.ppo.horizon = 8
        c.ppo.epochs = 2
        c.ppo.minibatch_size = c.env.num_envs * 4
        c.total_iterations = 2
        c.iters_per_call = 1
        c.checkpoint_every = 2
    return c
