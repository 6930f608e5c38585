"""MTBench's MT10 architecture rows for MT-PPO (Joshi et al., 2025, arXiv 2507.23172).

All rows: 24,576 envs, 1,272 iterations (1 B frames), MTBench's shared PPO settings (``mt10_ppo``), network
sizes from ``mtjax.nets.preset(net, "mt10")``. Variants (``experiments/configs/_variant.py``:
``[<row>][,smoke]``, ``--config=experiments/configs/mt10_arch.py:<row>``; default ``moore_sh``):

  row        networks (actor / critic)         minibatch (#mb)  entropy
  mh         multihead / multihead             32,768 (24)      0.005   Multi-head PPO
  care_sh    care / care                       16,384 (48)      0.005   SH-CARE (MiniLM task embeddings)
  care_mh    care_mh / care_mh                 32,768 (24)      0.005   MH-CARE
  moore_sh   moore / moore                     16,384 (48)      0.005   SH-MOORE, 4 experts
  moore_mh   moore_mh / moore_mh               16,384 (48)      0.005   MH-MOORE
  paco       paco / shared (one trunk)         16,384 (48)      0.005   SH-PaCo, K = 5 (``separate: False``)
  softmod    softmod / softmod                 16,384 (48)      0.002   Soft-Modularization
  simba      simba (256 x 1) / simba (256 x 2) 32,768 (24)      0.005   critic scaling: --config.net.critic_kwargs.hidden
  simba_te   as simba, learned 32-d task embedding instead of the one-hot
  bro        bro (256 x 1) / bro (256 x 2)     32,768 (24)      0.005   BRO critic scaling
  bro_te     as bro, learned 32-d task embedding

Add ",smoke" (e.g. ``:moore_sh,smoke``) for ``mt10_ppo``'s 2-CPU smoke sizes with the same networks.
"""

import ml_collections

from experiments.configs import _variant, mt10_ppo
from mtjax.nets import presets

SUITE = "mt10"
# row -> (actor_net, critic_net, minibatch_size, entropy_coef, extra kwargs for both networks)
ROWS = {
    "mh": ("multihead", "multihead", 32768, 0.005, {}),
    "care_sh": ("care", "care", 16384, 0.005, {}),
    "care_mh": ("care_mh", "care_mh", 32768, 0.005, {}),
    "moore_sh": ("moore", "moore", 16384, 0.005, {}),
    "moore_mh": ("moore_mh", "moore_mh", 16384, 0.005, {}),
    "paco": ("paco", "shared", 16384, 0.005, {}),
    "softmod": ("softmod", "softmod", 16384, 0.002, {}),
    "simba": ("simba", "simba", 32768, 0.005, {}),
    "simba_te": ("simba", "simba", 32768, 0.005, {"task_embedding_dim": 32}),
    "bro": ("bro", "bro", 32768, 0.005, {}),
    "bro_te": ("bro", "bro", 32768, 0.005, {"task_embedding_dim": 32}),
}


def apply_row(c: ml_collections.ConfigDict, row: str, suite: str, rows: dict) -> ml_collections.ConfigDict:
    """Sets ``c.net`` and the row's PPO overrides; raises ``ValueError`` listing the valid rows."""
    if row not in rows:
        raise ValueError(f"unknown {suite} architecture row {row!r}; valid: {', '.join(rows)}")
    actor, critic, minibatch, entropy, extra = rows[row]
    c.net.preset = suite
    c.net.actor_net = actor
    c.net.critic_net = critic
    c.net.actor_kwargs = ml_collections.ConfigDict(presets.preset(actor, suite, "actor", **extra))
    critic_kwargs = {} if critic == "shared" else presets.preset(critic, suite, "critic", **extra)
    c.net.critic_kwargs = ml_collections.ConfigDict(critic_kwargs)
    c.ppo.minibatch_size = minibatch
    c.ppo.entropy_coef = entropy
    return c


def get_config(arg: str = ""):
    row, smoke = _variant.parse(arg, ROWS, "moore_sh", "mt10_arch")
    c = mt10_ppo.get_config("smoke" if smoke else "24k")
    c = apply_row(c, row, SUITE, ROWS)
    if smoke:
        c.ppo.minibatch_size = mt10_ppo.get_config("smoke").ppo.minibatch_size
    c.name = f"mt10_{row}"
    return c
