"""MTBench's MT50 architecture rows for MT-PPO (Joshi et al., 2025, arXiv 2507.23172).

All rows: 24,576 envs (492 x 26 + 491 x 24), 1,272 iterations, MTBench's shared PPO settings, network sizes
from ``mtjax.nets.preset(net, "mt50")`` (MOORE 6 experts, PaCo K = 20, CARE with the MT50 MiniLM embeddings).
Rows as in ``mt10_arch`` (variants per ``experiments/configs/_variant.py``: ``[<row>][,smoke]``, e.g.
``--config=experiments/configs/mt50_arch.py:paco,smoke``; default ``moore_sh``); MT50 minibatches:

  mh, care_sh, care_mh, moore_sh, moore_mh, paco: 32,768 (24), entropy 0.005; softmod: 16,384, entropy 0.002;
  simba/simba_te/bro/bro_te (critic scaling): 32,768, entropy 0.005.

Physics: ``mt50_ppo.MT50_PHYSICS`` (the faithful arm on MuJoCo Warp, as ``mt50_ppo.py``); the floating hand with
``--config.env.kwargs`` as ``mt50_ppo.FLOATING_MT50_PHYSICS``. Needs an environment registered as "mt50" (``c.env.name``).
"""

from experiments.configs import _variant, mt10_arch, mt10_ppo, mt50_ppo

SUITE = "mt50"
ROWS = {
    "mh": ("multihead", "multihead", 32768, 0.005, {}),
    "care_sh": ("care", "care", 32768, 0.005, {}),
    "care_mh": ("care_mh", "care_mh", 32768, 0.005, {}),
    "moore_sh": ("moore", "moore", 32768, 0.005, {}),
    "moore_mh": ("moore_mh", "moore_mh", 32768, 0.005, {}),
    "paco": ("paco", "shared", 32768, 0.005, {}),
    "softmod": ("softmod", "softmod", 16384, 0.002, {}),
    "simba": ("simba", "simba", 32768, 0.005, {}),
    "simba_te": ("simba", "simba", 32768, 0.005, {"task_embedding_dim": 32}),
    "bro": ("bro", "bro", 32768, 0.005, {}),
    "bro_te": ("bro", "bro", 32768, 0.005, {"task_embedding_dim": 32}),
}


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "moore_sh", "mt50_arch")
    c = mt10_ppo.get_config("smoke" if smoke else "24k")
    c.env.name = "mt50"
    c.env.kwargs = {**c.env.kwargs, **mt50_ppo.MT50_PHYSICS}
    if smoke:
        c.env.num_envs = 100  # 2 per task
    c = mt10_arch.apply_row(c, row, SUITE, ROWS)
    if smoke:
        c.ppo.minibatch_size = mt10_ppo.get_config("smoke").ppo.minibatch_size
    c.name = f"mt50_{row}"
    return c
