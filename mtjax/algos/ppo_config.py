"""MT-PPO and MT-GRPO hyper-parameters (Joshi et al., 2025, arXiv 2507.23172; ``docs/ppo.md``).

``PPOConfig`` is the ``ppo`` section of a run config. MT-GRPO (``mtjax.algos.grpo``, ``algo="grpo"``) reads the
same section: it uses the policy-gradient fields and ignores the critic's (``lam``, ``critic_coef``,
``normalize_value``, ``value_norm*``, ``normalize_advantage``).
"""

from __future__ import annotations

import dataclasses

__all__ = ["KL_REFERENCES", "LR_SCHEDULES", "VALUE_NORMS", "PPOConfig"]

LR_SCHEDULES = ("fixed", "adaptive")
KL_REFERENCES = ("previous_epoch", "rollout")
VALUE_NORMS = ("running", "popart")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PPOConfig:
    """MT-PPO hyper-parameters (defaults: MTBench's shared Meta-World settings).

    Attributes:
      horizon: rollout length per env per iteration.
      epochs: mini-epochs per update.
      minibatch_size: samples per minibatch over all tasks (the batch is ``num_envs * horizon``).
      lr: Adam learning rate (initial value for the adaptive schedule).
      lr_schedule: "fixed" or "adaptive" (rl_games' KL-threshold rule, applied after each mini-epoch).
      kl_threshold: the adaptive schedule's KL target.
      kl_reference: what the KL that drives the adaptive schedule compares the current policy with:
        "previous_epoch" (rl_games: after each minibatch the policy's mu/sigma on that minibatch, computed before
        the step, replace the stored ones, so mini-epoch ``e`` is compared with mini-epoch ``e - 1``) or
        "rollout" (the policy that collected the data; smaller learning rates). The KL is rl_games'
        ``policy_kl``: KL(current || reference) with its ``+1e-5`` inside the log-ratio.
      gamma: discount. lam: GAE lambda. clip: PPO ratio and value clip.
      critic_coef: the value loss is weighted ``0.5 * critic_coef``.
      entropy_coef: entropy bonus weight. bound_coef: action-mean bound loss weight.
      max_grad_norm: global gradient-norm clip after aggregation.
      adam_eps: Adam epsilon.
      normalize_obs / normalize_value / normalize_advantage: MTBench's normalisers (all on by default).
      value_norm: how ``normalize_value`` normalises the critic: "running" (MTBench: per-task running mean/std,
        ``mtjax.normalize``) or "popart" (per-task PopArt, ``mtjax.popart``: exponential moments of the returns
        with step ``popart_beta``, and the network's per-task ``critic_popart`` head rescaled so that the
        critic's raw outputs are preserved; needs ``make_actor_critic(..., popart=True)``; ``docs/ppo.md``).
      popart_beta: PopArt's step size per update, bias-corrected (the first update takes the batch's moments).
      value_norm_clip: rl_games clamps normalised values and returns, and the critic's output before
        de-normalising it, to ``[-value_norm_clip, value_norm_clip]`` (5); 0 disables the clamp.
      stats_init_count: starting count of the running statistics (rl_games' ``RunningMeanStd``: 1).
      obs_norm_clip, obs_norm_eps: normalised observations are ``(x - mean) / sqrt(var + obs_norm_eps)``,
        clamped to ``[-obs_norm_clip, obs_norm_clip]`` unless the clip is 0. Default: MTBench's executed
        per-task normaliser (1e-8, no clamp). rl_games' own ``RunningMeanStd`` uses 1e-5 and clamps at 5: the
        documented fix for dims that barely vary while a task is unsolved (window-close's handle x has a std of
        0.45 mm, so its first centimetre of motion is a 22-sigma input; ``docs/deviations.md``).
      value_bootstrap: add ``gamma * V(s_t)`` to the reward of time-out steps.
      mtrl: multi-task gradient method name ("mean" is plain PPO). mtrl_target: "critic", "actor" or "both".
      mtrl_kwargs: keyword arguments of the method, as a tuple of ``(name, value)`` pairs (hashable).
      log_std_init: initial log standard deviation of the policy.
      clip_actions: hand the env ``clip(action, -1, 1)`` (rl_games' ``clip_actions``, its default and MTBench's
        Meta-World setting; also applied in evaluation). False passes the sample unclipped (MTBench's
        go1-PPO-Vanilla yaml: the Go1 env clamps at its own +-5).
      grpo_exp_loss: MT-GRPO only: differentiate ``exp`` of each task's loss (MTBench's FAMO-GRPO: FAMO needs
        positive task losses, ``l_k = exp(mean_k(a - ent + bound))``); off for plain MT-GRPO.
    """

    horizon: int = 32
    epochs: int = 5
    minibatch_size: int = 32768
    lr: float = 5e-4
    lr_schedule: str = "fixed"
    kl_threshold: float = 0.008
    kl_reference: str = "previous_epoch"
    gamma: float = 0.99
    lam: float = 0.95
    clip: float = 0.2
    critic_coef: float = 4.0
    entropy_coef: float = 0.005
    bound_coef: float = 1e-4
    max_grad_norm: float = 1.0
    adam_eps: float = 1e-8
    normalize_obs: bool = True
    normalize_value: bool = True
    normalize_advantage: bool = True
    value_norm: str = "running"
    popart_beta: float = 0.01
    value_bootstrap: bool = True
    value_norm_clip: float = 5.0
    stats_init_count: float = 1.0
    obs_norm_clip: float = 0.0
    obs_norm_eps: float = 1e-8
    mtrl: str = "mean"
    mtrl_target: str = "critic"
    mtrl_kwargs: tuple = ()
    log_std_init: float = 0.0
    grpo_exp_loss: bool = False
    clip_actions: bool = True

    def __post_init__(self):
        positive = ("horizon", "epochs", "minibatch_size", "lr", "max_grad_norm", "kl_threshold")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"PPOConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.kl_reference not in KL_REFERENCES:
            raise ValueError(f"PPOConfig.kl_reference={self.kl_reference!r}; valid: {', '.join(KL_REFERENCES)}")
        if self.value_norm_clip < 0 or self.stats_init_count <= 0:
            raise ValueError(f"PPOConfig: value_norm_clip must be >= 0 and stats_init_count > 0, got "
                             f"{self.value_norm_clip}, {self.stats_init_count}")
        if self.obs_norm_clip < 0 or self.obs_norm_eps <= 0:
            raise ValueError(f"PPOConfig: obs_norm_clip must be >= 0 and obs_norm_eps > 0, got "
                             f"{self.obs_norm_clip}, {self.obs_norm_eps}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"PPOConfig.lr_schedule={self.lr_schedule!r}; valid: {', '.join(LR_SCHEDULES)}")
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"gamma and lam must lie in [0, 1], got {self.gamma}, {self.lam}")
        if self.value_norm not in VALUE_NORMS:
            raise ValueError(f"PPOConfig.value_norm={self.value_norm!r}; valid: {', '.join(VALUE_NORMS)}")
        if not 0.0 < self.popart_beta <= 1.0:
            raise ValueError(f"PPOConfig.popart_beta must lie in (0, 1], got {self.popart_beta}")
        if self.mtrl_target not in ("critic", "actor", "both"):
            raise ValueError(f"PPOConfig.mtrl_target={self.mtrl_target!r}; valid: critic, actor, both")
