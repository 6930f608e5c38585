"""MTBench's MT10 MT-PPO gradient-manipulation rows: PCGrad, CAGrad, FAMO (Joshi et al., 2025, arXiv 2507.23172).

Builds on ``mt10_ppo.get_config("24k")`` (24,576 envs, 1,272 iterations = 1 B frames) and overrides:

| row    | minibatch (#mb) | LR schedule          | method options (critic only)                                   |
|--------|-----------------|----------------------|----------------------------------------------------------------|
| pcgrad | 32,768 (24)     | fixed 5e-4           | mean of projected grads                                        |
| cagrad | 16,384 (48)     | fixed 5e-4           | c = 0.4, rescale 1/(1+c^2), times T (``reduction="sum"``)      |
| famo   | 16,384 (48)     | adaptive (KL 0.008)  | MTBench variant: w_lr 1e-3, gamma 1e-3, eps 1e-2, unit-norm d  |

Parity notes: our per-task gradients are of the full PPO loss, whose value term carries
``0.5 * critic_coef`` (= 2); MTBench's PCGrad/CAGrad critic losses omit it, so ``output_scale = 1/2`` reproduces
its critic step before clipping. MTBench's FAMO losses are ``0.5 * critic_coef * value loss`` (``loss_scale = 2``,
relevant through eps); our trainer passes the bare value loss as ``critic_task_losses``.

Variants (``experiments/configs/_variant.py``: ``[<row>][,smoke]``): ``pcgrad`` (default), ``cagrad``, ``famo``, and
``pcgrad_warp``, ``cagrad_warp``, ``famo_warp``: the same on ``mt10_ppo.py:24k_warp``'s physics stepping (MuJoCo Warp,
the tasks of one skeleton in one Warp call; the physics of the MT10 MT-PPO seeds 42-44, for the comparison rows of
issue 11); add ``,smoke`` for a short CPU run with ``mt10_ppo``'s smoke sizes, e.g.
``python -m experiments.train --config=experiments/configs/mt10_mtrl.py:cagrad,smoke``.
"""

from experiments.configs import _variant, mt10_ppo

METHODS = ("pcgrad", "cagrad", "famo")
ROWS = METHODS + tuple(f"{m}_warp" for m in METHODS)


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "pcgrad", "mt10_mtrl")
    method, warp = row.removesuffix("_warp"), row.endswith("_warp")
    c = mt10_ppo.get_config(("24k_warp" if warp else "24k") + (",smoke" if smoke else ""))
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
    if not smoke:
        c.ppo.minibatch_size = minibatch
    return c
