"""MTBench's MT10 MT-PPO gradient-manipulation rows: PCGrad, CAGrad, FAMO (spec sections 3.2-3.4, 5.2).

Builds on ``mt10_ppo.get_config("24k")`` (24,576 envs, 1,272 iterations = 1 B frames) and overrides:

| row    | minibatch (#mb) | LR schedule          | method options (critic only)                                   |
|--------|-----------------|----------------------|----------------------------------------------------------------|
| pcgrad | 32,768 (24)     | fixed 5e-4           | mean of projected grads                                        |
| cagrad | 16,384 (48)     | fixed 5e-4           | c = 0.4, rescale 1/(1+c^2), times T (``reduction="sum"``)      |
| famo   | 16,384 (48)     | adaptive (KL 0.008)  | MTBench variant: w_lr 1e-3, gamma 1e-3, eps 1e-2, unit-norm d  |

Parity notes (quirk Q12): our per-task gradients are of the full PPO loss, whose value term carries
``0.5 * critic_coef`` (= 2); MTBench's PCGrad/CAGrad critic losses omit it, so ``output_scale = 1/2`` reproduces
its critic step before clipping. MTBench's FAMO losses are ``0.5 * critic_coef * value loss`` (``loss_scale = 2``,
relevant through eps); our trainer passes the bare value loss as ``critic_task_losses``.

Variants: ``pcgrad`` (default), ``cagrad``, ``famo``; append ``-smoke`` for a short CPU run, e.g.
``python -m experiments.train --config=experiments/configs/mt10_mtrl.py:cagrad-smoke``.
"""

from experiments.configs import mt10_ppo

ROWS = ("pcgrad", "cagrad", "famo")


def get_config(arg: str = ""):
    method, _, suffix = (arg or "pcgrad").partition("-")
    if method == "smoke" and not suffix:
        method, suffix = "pcgrad", "smoke"
    if method not in ROWS or suffix not in ("", "smoke"):
        raise ValueError(f"unknown variant {arg!r} for mt10_mtrl; valid: {', '.join(ROWS)}, each optionally "
                         f"with '-smoke' (e.g. 'cagrad-smoke')")
    c = mt10_ppo.get_config("smoke" if suffix else "24k")
    c.name = f"mt10_{method}"
    c.mtrl = method
    c.mtrl_target = "critic"
    critic_scale = 1.0 / (0.5 * c.ppo.critic_coef)
    if method == "pcgrad":
        c.mtrl_kwargs = {"reduction": "mean", "output_scale": critic_scale}
        minibatch = 32768
    elif method == "cagrad":
        c.mtrl_kwargs = {"c": 0.4, "rescale": 1, "reduction": "sum", "output_scale": critic_scale,
                         "num_iters": 100}
        minibatch = 16384
    else:
        c.mtrl_kwargs = {"variant": "mtbench", "w_lr": 1e-3, "gamma": 1e-3, "eps": 1e-2,
                         "loss_scale": 0.5 * c.ppo.critic_coef}
        c.ppo.lr_schedule = "adaptive"
        c.ppo.kl_threshold = 0.008
        minibatch = 16384
    if not suffix:
        c.ppo.minibatch_size = minibatch
    return c
