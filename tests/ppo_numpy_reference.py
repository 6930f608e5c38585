"""A float64 numpy re-derivation of one ``mtjax.algos.ppo`` update for a tiny linear actor-critic.

Written from the formulas (our spec sections 3.1-3.2, rl_games' PPO), not from the JAX code: returns with the
``gamma V(s_t)`` time-out bootstrap, GAE, per-task value and observation normalisers (Chan et al. moments from a
pseudo-sample of mean 0, variance 1), batch-wide then per-task advantage standardisation, the clipped surrogate
and clipped value losses with their gradients derived by hand, the mean or the two-task PCGrad aggregation,
global-norm clipping and Adam. Used by ``test_ppo_learner.py`` and ``test_transforms_ppo.py``.

The network: ``mu = x W + b``, state-independent ``log_std``, ``v = x . U + c`` on the normalised observation
``x`` (features normalised per task, the one-hot passed through).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from mtjax import envs
from mtjax.algos import ppo

LOG2PI = math.log(2 * math.pi)
def linear_net(params0: dict):
    """``(init_fn, apply_fn)`` in ``mtjax.nets.make_actor_critic``'s contract; ``init`` returns ``params0``."""

    def init_fn(key, x, task_id):
        del key, x, task_id
        return {"actor": {k: jnp.asarray(params0["actor"][k], jnp.float32) for k in ("W", "b", "log_std")},
                "critic": {k: jnp.asarray(params0["critic"][k], jnp.float32) for k in ("U", "c")}}

    def apply_fn(params, x, task_id):
        del task_id
        a, c = params["actor"], params["critic"]
        return x @ a["W"] + a["b"], a["log_std"], x @ c["U"] + c["c"]

    return init_fn, apply_fn


def chan_update(mean, var, count, x):
    """Running moments after adding the samples ``x [n, D]`` (population variance)."""
    n = len(x)
    xb, vb = x.mean(0), x.var(0)
    tot = count + n
    delta = xb - mean
    return mean + delta * n / tot, (var * count + vb * n + delta ** 2 * count * n / tot) / tot, tot


def per_task_update(stats, x, tid):
    """``stats = (mean [T, D], var [T, D], count [T])`` updated task by task."""
    mean, var, count = (np.array(s, np.float64) for s in stats)
    for k in range(len(count)):
        if (tid == k).any():
            mean[k], var[k], count[k] = chan_update(mean[k], var[k], count[k], x[tid == k])
    return mean, var, count


def gae_np(reward, value, done, last_value, gamma, lam):
    """``[H, N]`` advantages, plain reverse loop."""
    h = len(reward)
    adv = np.zeros_like(reward)
    carry = np.zeros(reward.shape[1])
    for t in reversed(range(h)):
        nv = last_value if t == h - 1 else value[t + 1]
        nd = 1.0 - done[t]
        carry = reward[t] + gamma * nv * nd - value[t] + gamma * lam * nd * carry
        adv[t] = carry
    return adv


def targets(cfg, ro: dict, value_stats):
    """Returns (normalised old values, normalised returns, standardised advantages, new value stats, raw returns),
    all ``[H, N]``."""
    reward = ro["reward"] + (cfg.gamma * ro["value"] * ro["truncated"] if cfg.value_bootstrap else 0.0)
    adv = gae_np(reward, ro["value"], ro["done"], ro["last_value"], cfg.gamma, cfg.lam)
    ret = adv + ro["value"]
    tid = np.broadcast_to(ro["task_id"], ro["value"].shape).reshape(-1)
    value, nret = ro["value"], ret
    if cfg.normalize_value:
        def norm(stats, x):
            y = (x - stats[0][tid, 0]) / np.sqrt(stats[1][tid, 0] + 1e-5)
            return np.clip(y, -cfg.value_norm_clip, cfg.value_norm_clip) if cfg.value_norm_clip else y

        value_stats = per_task_update(value_stats, ro["value"].reshape(-1, 1), tid)
        value = norm(value_stats, ro["value"].reshape(-1)).reshape(ret.shape)
        value_stats = per_task_update(value_stats, ret.reshape(-1, 1), tid)
        nret = norm(value_stats, ret.reshape(-1)).reshape(ret.shape)
    if cfg.normalize_advantage:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    return value, nret, adv, value_stats, ret


def task_loss_and_grad(cfg, p: dict, s: dict):
    """Loss terms and the hand-derived gradient of one task's samples ``s`` (``x [b, O]`` etc.)."""
    w, bias, ls = p["actor"]["W"], p["actor"]["b"], p["actor"]["log_std"]
    x, b = s["x"], len(s["x"])
    sd = np.exp(ls)
    mu = x @ w + bias
    z = (s["action"] - mu) / sd
    lp = np.sum(-0.5 * z ** 2 - ls - 0.5 * LOG2PI, axis=-1)
    a = s["adv"]
    a = (a - a.mean()) / (a.std() + 1e-8) if cfg.normalize_advantage else a  # per-task re-standardisation
    r = np.exp(lp - s["log_prob"])
    rc = np.clip(r, 1 - cfg.clip, 1 + cfg.clip)
    surr = np.maximum(-a * r, -a * rc)
    # d surr / d lp: -A r where the unclipped term is the max (inside the clip range both terms are -A r).
    d_lp = np.where((r == rc) | (-a * r > -a * rc), -a * r, 0.0) / b
    v = x @ p["critic"]["U"] + p["critic"]["c"]
    vo, ret = s["value"], s["ret"]
    vc = vo + np.clip(v - vo, -cfg.clip, cfg.clip)
    closs = np.maximum((v - ret) ** 2, (vc - ret) ** 2)
    inside = np.abs(v - vo) <= cfg.clip
    d_v = np.where(inside | ((v - ret) ** 2 > (vc - ret) ** 2), 2 * (v - ret), 0.0) / b * 0.5 * cfg.critic_coef
    ent = np.sum(ls + 0.5 * (1 + LOG2PI))
    over, under = np.maximum(mu - 1.1, 0.0), np.minimum(mu + 1.1, 0.0)
    bound = np.sum(over ** 2 + under ** 2, axis=-1)
    d_mu = d_lp[:, None] * z / sd + cfg.bound_coef * 2 * (over + under) / b
    d_ls = np.sum(d_lp[:, None] * (z ** 2 - 1), axis=0) - cfg.entropy_coef
    grad = {"actor": {"W": x.T @ d_mu, "b": d_mu.sum(0), "log_std": d_ls},
            "critic": {"U": x.T @ d_v, "c": np.asarray(d_v.sum())}}
    terms = {"actor": surr.mean(), "critic": closs.mean(), "entropy": ent, "bound": bound.mean()}
    terms["total"] = (terms["actor"] + 0.5 * cfg.critic_coef * terms["critic"] - cfg.entropy_coef * ent
                      + cfg.bound_coef * terms["bound"])
    # Branch margins: how far each sample is from a kink of the loss (a test asserts they are not tiny).
    margin = min(np.abs(r - (1 - cfg.clip)).min(), np.abs(r - (1 + cfg.clip)).min(),
                 np.abs(np.abs(v - vo) - cfg.clip).min())
    return terms, grad, margin


def _flat(tree):
    return np.concatenate([np.ravel(tree[g][k]) for g in ("actor", "critic") for k in sorted(tree[g])])


def _tree_map(fn, *trees):
    return {g: {k: fn(*(t[g][k] for t in trees)) for k in trees[0][g]} for g in trees[0]}


def _pcgrad_two(g0: np.ndarray, g1: np.ndarray) -> np.ndarray:
    """Mean of the two PCGrad-projected gradients (with two tasks the random order does not matter)."""
    d = g0 @ g1
    if d >= 0:
        return (g0 + g1) / 2
    return (g0 - d / (g1 @ g1) * g1 + g1 - d / (g0 @ g0) * g0) / 2


def aggregate(grads: list[dict], method: str) -> dict:
    """``mean`` on everything, or PCGrad on the critic subset and the mean on the actor (``mtrl_target='critic'``)."""
    out = _tree_map(lambda *g: np.mean(g, axis=0), *grads)
    if method == "pcgrad":
        assert len(grads) == 2
        crit = [np.concatenate([np.ravel(g["critic"]["U"]), np.ravel(g["critic"]["c"])]) for g in grads]
        agg = _pcgrad_two(*crit)
        out["critic"] = {"U": agg[:-1], "c": np.asarray(agg[-1])}
    elif method != "mean":
        raise ValueError(method)
    return out


def update(cfg, params0: dict, ro: dict, num_tasks: int, obs_dims: int, method: str = "mean") -> dict:
    """One learner update with a single minibatch holding every sample (``minibatch_size = H * N``).

    Returns the new params, stats, the metrics averaged as the learner logs them, per-epoch task gradients and
    the smallest distance of any sample to a kink of the loss.
    """
    p = _tree_map(lambda v: np.array(v, np.float64), params0)
    t = num_tasks
    init = (np.zeros((t, 1)), np.ones((t, 1)), np.full(t, cfg.stats_init_count))
    nvalue, nret, adv, value_stats, ret = targets(cfg, ro, init)
    h, n, o = ro["obs"].shape
    tid = np.broadcast_to(ro["task_id"], (h, n)).reshape(-1)
    obs = ro["obs"].reshape(-1, o)
    ostats = (np.zeros((t, obs_dims)), np.ones((t, obs_dims)), np.full(t, cfg.stats_init_count))
    if cfg.normalize_obs:  # first mini-epoch: the minibatch (here: all samples) updates the statistics
        ostats = per_task_update(ostats, obs[:, :obs_dims], tid)
        feats = (obs[:, :obs_dims] - ostats[0][tid]) / np.sqrt(ostats[1][tid] + cfg.obs_norm_eps)
        x = np.concatenate([feats, obs[:, obs_dims:]], axis=1)
    else:
        x = obs
    flat = {"x": x, "action": ro["action"].reshape(h * n, -1), "log_prob": ro["log_prob"].reshape(-1),
            "value": nvalue.reshape(-1), "ret": nret.reshape(-1), "adv": adv.reshape(-1)}
    m1 = _tree_map(np.zeros_like, p)
    m2 = _tree_map(np.zeros_like, p)
    logs, task_grads, margin = [], [], np.inf
    for step in range(1, cfg.epochs + 1):
        per = [task_loss_and_grad(cfg, p, {name: v[tid == j] for name, v in flat.items()}) for j in range(t)]
        margin = min(margin, *(q[2] for q in per))
        grads = [q[1] for q in per]
        task_grads.append(grads)
        mean_g = aggregate(grads, "mean")
        logs.append({"loss/total": np.mean([q[0]["total"] for q in per]),
                     **{f"loss/{k}": np.mean([q[0][k] for q in per]) for k in ("actor", "critic", "entropy")},
                     "grad_norm": np.linalg.norm(_flat(mean_g))})
        g = aggregate(grads, method)
        scale = min(1.0, cfg.max_grad_norm / np.linalg.norm(_flat(g)))  # optax.clip_by_global_norm
        g = _tree_map(lambda v, s=scale: v * s, g)
        m1 = _tree_map(lambda m, v: 0.9 * m + 0.1 * v, m1, g)
        m2 = _tree_map(lambda m, v: 0.999 * m + 0.001 * v * v, m2, g)
        c1, c2 = 1 - 0.9 ** step, 1 - 0.999 ** step  # Adam's bias corrections
        u = _tree_map(lambda a, b_, c1=c1, c2=c2: (a / c1) / (np.sqrt(b_ / c2) + cfg.adam_eps), m1, m2)
        p = _tree_map(lambda w, d: w - cfg.lr * d, p, u)
    metrics = {k: np.mean([lg[k] for lg in logs]) for k in logs[0]}
    return {"params": p, "value_stats": value_stats, "obs_stats": ostats, "metrics": metrics,
            "task_grads": task_grads, "margin": margin, "returns": ret}


# The tiny batch of the tests: tasks, envs per task, horizon, features (plus a T-dim one-hot), actions.
T, E, H, F = 2, 2, 3, 2
N, O, A = T * E, F + T, 2
TASK_ID = np.repeat(np.arange(T), E)


def tiny_params():
    """The linear net's starting params (float64)."""
    rng = np.random.default_rng(0)
    return {"actor": {"W": rng.normal(size=(O, A)) * 0.3, "b": np.array([0.1, -0.2]),
                      "log_std": np.array([-0.5, 0.2])},
            "critic": {"U": rng.normal(size=O) * 0.5, "c": np.asarray(0.3)}}


def tiny_rollout(seed=1, reward_shift=(0.0, 0.0)):
    """Raw rollout arrays (float64) with a terminal step, two time-outs, feature scales per task and a reward
    offset per task."""
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(H, N, F)) * [2.0, 0.5] + np.where(TASK_ID[:, None] == 1, [3.0, -1.0], [0.0, 0.0])
    obs = np.concatenate([feats, np.broadcast_to(np.eye(T)[TASK_ID], (H, N, T))], axis=-1)
    done = np.zeros((H, N))
    truncated = np.zeros((H, N))
    done[1, 0] = truncated[1, 0] = 1.0  # env 0 times out after step 1
    done[0, 2] = 1.0                    # env 2 reaches a terminal state after step 0
    done[2, 3] = truncated[2, 3] = 1.0  # env 3 times out on the last step
    return {"obs": obs, "action": rng.normal(size=(H, N, A)), "log_prob": rng.normal(size=(H, N)) * 0.3 - 2.0,
            "value": rng.normal(size=(H, N)) + 1.0,
            "reward": rng.normal(size=(H, N)) * 2.0 + np.asarray(reward_shift)[TASK_ID], "done": done,
            "truncated": truncated, "task_id": TASK_ID, "last_value": rng.normal(size=N)}


def tiny_learner(cfg, params0=None, counts=(E,) * T, tx=None):
    """MT-PPO learner on the linear net; ``counts`` envs per task; ``tx`` replaces the default gradient chain."""
    init_fn, apply_fn = linear_net(params0 or tiny_params())
    task_set = envs.TaskSet(tuple("ab"[:len(counts)]), counts)
    return ppo.make_learner(cfg, init_fn, apply_fn, task_set, obs_size=F + len(counts), action_size=A, tx=tx)


def run_update(learner, ro: dict):
    """``(initial state, updated state, metrics)`` of one jitted ``learner.update`` on the raw rollout ``ro``."""
    f32 = {k: jnp.asarray(ro[k], jnp.float32) for k in ("obs", "action", "log_prob", "value", "reward")}
    r = ppo.Rollout(**f32, done=jnp.asarray(ro["done"], bool), truncated=jnp.asarray(ro["truncated"], bool),
                    task_id=jnp.asarray(ro["task_id"], jnp.int32))
    ls = learner.init(jax.random.key(0))
    new, m = jax.jit(learner.update)(ls, r, jnp.asarray(ro["last_value"], jnp.float32), jax.random.key(1))
    return ls, new, {k: np.asarray(v) for k, v in m.items()}
