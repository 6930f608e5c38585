"""Network sizes of MTBench's configs (Joshi et al., 2025, arXiv 2507.23172; its per-suite network configs).

``preset(net, suite, role)`` returns the keyword arguments for ``make_net``/``make_actor_critic``;
``mtbench_param_count(net, suite, role)`` counts MTBench's parameters from the layer sizes of MTBench's networks
(written independently of our modules, so tests can compare the two).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SUITES", "SUITE_DIMS", "mtbench_param_count", "preset", "preset_nets"]

# suite -> (true obs dim D, tasks T, action size A)
SUITE_DIMS = {"mt10": (39, 10, 4), "mt50": (39, 50, 4), "go1": (212, 21, 12)}
SUITES = tuple(SUITE_DIMS)

# rl_games 1.6.1's A2CBuilder (MTBench's "actor_critic" network) and MTBench's multihead_a2c_builder zero every
# Linear's bias (weights: PyTorch's default, the "default" initializer); so do ours (``zero_bias``, session 24)
_MW_MLP = {"hidden": (256, 128, 64), "act": "elu", "zero_bias": True}
_GO1_MLP = {"hidden": (512, 256, 128), "act": "elu", "zero_bias": True}


def _moore(suite: str) -> dict:
    if suite == "go1":
        return {"num_experts": 2, "expert_hidden": (256, 256), "task_hidden": 128, "agg_act": "identity"}
    return {
        "num_experts": 4 if suite == "mt10" else 6,
        "expert_hidden": (400, 400, 400),
        "task_hidden": 256,
        "agg_act": "tanh",
    }


def _care(suite: str) -> dict:
    if suite == "go1":  # MTBench reuses the MT10 language file for Go1's 21 terrains; we learn the embedding.
        return {
            "num_experts": 6,
            "expert_hidden": 128,
            "attention_hidden": (128, 128),
            "embedding": "learned",
        }
    # MTBench's context widths are (2d, d) for its d = 768 RoBERTa vectors; we keep them for our 384-d vectors
    # (first layer 384 x 1536). ``embedding_file=<MTBench's JSON>`` restores the 768-d input and its count.
    return {
        "num_experts": 6,
        "expert_hidden": 50,
        "attention_hidden": (50, 50),
        "context_hidden": (1536, 768),
        "trunk": (400, 400, 400),
        "embedding": suite,
    }


def _softmod(suite: str) -> dict:
    if suite == "go1":
        return {
            "num_layers": 2,
            "num_modules": 2,
            "module_hidden": 256,
            "state_hidden": (512,),
            "task_hidden": (128,),
        }
    return {
        "num_layers": 4,
        "num_modules": 2,
        "module_hidden": 256,
        "state_hidden": (256, 256),
        "task_hidden": (256,),
    }


def _scaling(role: str, critic_hidden_dim: int) -> dict:
    return (
        {"hidden": 256, "num_blocks": 1}
        if role == "actor"
        else {"hidden": critic_hidden_dim, "num_blocks": 2}
    )


_PRESETS = {
    "mlp": lambda suite, role, chd: dict(_GO1_MLP if suite == "go1" else _MW_MLP),
    "multihead": lambda suite, role, chd: dict(_GO1_MLP if suite == "go1" else _MW_MLP),
    "moore": lambda suite, role, chd: _moore(suite),
    "moore_mh": lambda suite, role, chd: _moore(suite),
    "paco": lambda suite, role, chd: {"num_params": 20 if suite == "mt50" else 5, "hidden": (400, 400, 400)},
    "care": lambda suite, role, chd: _care(suite),
    "care_mh": lambda suite, role, chd: _care(suite),
    "softmod": lambda suite, role, chd: _softmod(suite),
    "simba": lambda suite, role, chd: _scaling(role, chd),
    "bro": lambda suite, role, chd: _scaling(role, chd),
}


def preset_nets() -> list[str]:
    return sorted(_PRESETS)


def preset(net: str, suite: str, role: str = "actor", critic_hidden_dim: int = 256, **overrides: Any) -> dict:
    """MTBench's sizes for ``net`` on ``suite`` ("mt10", "mt50", "go1") as ``make_net`` kwargs.

    Args:
      net: a registered network name with a preset (see ``preset_nets()``).
      suite: benchmark whose config to follow.
      role: "actor" or "critic" (only SimbaV2/BRO differ: actor 256 x 1 block, critic ``critic_hidden_dim`` x 2).
      critic_hidden_dim: SimbaV2/BRO critic width (MTBench's scaling study: 256 ... 4096).
      **overrides: replace individual fields (e.g. tiny widths for tests).

    Raises:
      ValueError: unknown net, suite or role (lists the valid ones).
    """
    if net not in _PRESETS:
        raise ValueError(f"no preset for network {net!r}; valid: {', '.join(preset_nets())}")
    if suite not in SUITE_DIMS:
        raise ValueError(f"unknown suite {suite!r}; valid: {', '.join(SUITES)}")
    if role not in ("actor", "critic"):
        raise ValueError(f"unknown role {role!r}; valid: actor, critic")
    kwargs = _PRESETS[net](suite, role, critic_hidden_dim)
    kwargs.update(overrides)
    return kwargs


def _lin(i: int, o: int, bias: bool = True) -> int:
    return i * o + (o if bias else 0)


def _mlp_chain(d: int, widths) -> int:
    total, prev = 0, d
    for w in widths:
        total, prev = total + _lin(prev, w), w
    return total


def mtbench_param_count(net: str, suite: str, role: str = "actor", critic_hidden_dim: int = 256) -> int:
    """Parameters of MTBench's ``net`` actor (with its log-std vector) or critic, from MTBench's layer sizes.

    For PaCo (shared actor-critic) "actor" is the trunk + task embedding + mu head + log-std and "critic" is the
    value head, mirroring rl_games' name-based split. CARE counts MTBench's 768-d RoBERTa context encoder
    (trainable parameters only: its frozen ``T x 768`` embedding table is not trained). For the MT10/MT50
    configs the MOORE, CARE and Soft-Modularization counts equal the ``requires_grad`` parameter counts of
    MTBench's own torch networks (+ log-std for the actor).
    """
    d, t, a = SUITE_DIMS[suite]
    out = a if role == "actor" else 1
    extra = a if role == "actor" else 0  # log-std
    if net in ("mlp", "multihead"):
        w = (512, 256, 128) if suite == "go1" else (256, 128, 64)
        heads = t if net == "multihead" else 1
        return _mlp_chain(d + t, w) + heads * _lin(w[-1], out) + extra
    if net in ("moore", "moore_mh"):
        p = _moore(suite)
        e, hs, th = p["num_experts"], p["expert_hidden"], p["task_hidden"]
        head = t * _lin(hs[-1], out) if net == "moore_mh" else _lin(hs[-1] + t, out)
        return e * _mlp_chain(d, hs) + _lin(t, th, False) + _lin(th, e, False) + head + extra
    if net == "paco":
        k = 20 if suite == "mt50" else 5
        if role == "critic":
            return k * _lin(400, 1)
        return t * k + k * _mlp_chain(d, (400, 400, 400)) + k * _lin(400, a) + extra
    if net in ("care", "care_mh"):
        p = _care(suite)
        e, h, att = p["num_experts"], p["expert_hidden"], p["attention_hidden"]
        ctx = _mlp_chain(768, (1536, 768) + tuple(att))  # RoBERTa 768-d -> 1536 -> 768 -> attention MLP
        trunk = _mlp_chain(h + att[-1], (400, 400, 400))
        head = (t if net == "care_mh" else 1) * _lin(400, out)
        return e * _mlp_chain(d, (h, h)) + ctx + _mlp_chain(h, att) + trunk + head + extra
    if net == "softmod":
        p = _softmod(suite)
        n_l, e, m = p["num_layers"], p["num_modules"], p["module_hidden"]
        enc = _mlp_chain(d, tuple(p["state_hidden"]) + (m,)) + _mlp_chain(t, tuple(p["task_hidden"]) + (m,))
        routing = (n_l - 1) * _lin(m, e * e) + (n_l - 2) * _lin(e * e, m)
        return enc + routing + (n_l - 1) * e * _lin(m, m) + e * _lin(m, out) + extra
    raise ValueError(
        f"no MTBench count for {net!r}; valid: care, care_mh, mlp, moore, moore_mh, multihead, paco, softmod"
    )
