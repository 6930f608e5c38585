"""MT-GRPO (mtjax/algos/grpo.py): group-relative advantages by hand, one update against a float64 numpy derivation,
and the jitted trainer learning the toy env with ``algo="grpo"``."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import ppo_numpy_reference as ref
import pytest

from envs_bridge import registry
from experiments import common
from experiments.configs import toy_ppo
from mtjax import envs, nets
from mtjax.algos import grpo, on_policy, ppo


def _rollout(reward, done, truncated, task_id):
    r = jnp.asarray(reward, jnp.float32)
    h, n = r.shape
    return ppo.Rollout(obs=jnp.zeros((h, n, 1)), action=jnp.zeros((h, n, 1)), log_prob=jnp.zeros((h, n)),
                       value=jnp.zeros((h, n)), reward=r, done=jnp.asarray(done, bool),
                       truncated=jnp.asarray(truncated, bool), task_id=jnp.asarray(task_id, jnp.int32))


def test_group_relative_advantages_by_hand():
    # 2 tasks x 2 envs x 3 steps, gamma = 0.5; G_t = r_t + 0.5 (1 - d_t) G_{t+1}, G_3 = 0.
    #   env 0 (task 0): r = (1, 0, 2), no end:            G = (1 + 0.5 * 1, 0 + 0.5 * 2, 2) = (1.5, 1, 2)
    #   env 1 (task 0): r = (2, 2, 4), terminal after t=1: G = (2 + 0.5 * 2, 2, 4)         = (3, 2, 4)
    #   env 2 (task 1): r = (1, 1, 1), no end:            G = (1 + 0.5 * 1.5, 1 + 0.5, 1)  = (1.75, 1.5, 1)
    #   env 3 (task 1): r = (1, 1, 1), time-out after t=0: G = (1, 1.5, 1); with the time-out bonus
    #                   (value_bootstrap) r_0 = 1 + gamma = 1.5, so G_0 = 1.5.
    # Task 0's group {1.5, 1, 2, 3, 2, 4}: mean 13.5 / 6 = 2.25; squared deviations 0.5625 + 1.5625 + 0.0625 +
    # 0.5625 + 0.0625 + 3.0625 = 5.875; unbiased std sqrt(5.875 / 5) = sqrt(1.175). E.g. A(env 1, t=2) =
    # (4 - 2.25) / sqrt(1.175) = 1.6144. Task 1 without the bonus {1.75, 1.5, 1, 1, 1.5, 1}: mean 7.75 / 6.
    reward = np.array([[1, 2, 1, 1], [0, 2, 1, 1], [2, 4, 1, 1]], np.float32)
    done = np.zeros((3, 4))
    done[1, 1] = done[0, 3] = 1
    truncated = np.zeros((3, 4))
    truncated[0, 3] = 1
    ro = _rollout(reward, done, truncated, [0, 0, 1, 1])
    g0 = np.array([[1.5, 3], [1, 2], [2, 4]])
    g1 = np.array([[1.75, 1], [1.5, 1.5], [1, 1]])
    for bonus, g1_0 in ((False, 1.0), (True, 1.5)):
        cfg = ppo.PPOConfig(gamma=0.5, value_bootstrap=bonus)
        adv, g = grpo.group_relative_advantages(cfg, ro, 2)
        g1[0, 1] = g1_0
        np.testing.assert_allclose(g, np.concatenate([g0, g1], 1), rtol=1e-6)
        want1 = (g1 - g1.mean()) / (g1.std(ddof=1) + 1e-8)
        np.testing.assert_allclose(adv[:, 2:], want1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adv[2, 1], (4 - 2.25) / np.sqrt(1.175), rtol=1e-5)
    np.testing.assert_allclose(adv[:, :2], (g0 - 2.25) / np.sqrt(1.175), rtol=1e-5, atol=1e-6)
    # Each group is standardised on its own: mean 0, unbiased std 1 per task.
    for k in (slice(0, 2), slice(2, 4)):
        np.testing.assert_allclose([adv[:, k].mean(), np.std(np.asarray(adv[:, k]), ddof=1)], [0, 1], atol=1e-6)


def _numpy_grpo(cfg, params0, ro):
    """One GRPO update in float64 numpy: reward-to-go, group advantages, then the PPO reference's per-task loss
    and hand gradient with the critic weight 0 and no per-minibatch re-standardisation, mean over tasks,
    norm clip, Adam (one minibatch holding every sample)."""
    h, n, o = ro["obs"].shape
    rew = ro["reward"] + (cfg.gamma * ro["truncated"] if cfg.value_bootstrap else 0.0)
    g = np.zeros((h, n))
    nxt = np.zeros(n)
    for t in reversed(range(h)):
        nxt = rew[t] + cfg.gamma * (1 - ro["done"][t]) * nxt
        g[t] = nxt
    tid = np.broadcast_to(ro["task_id"], (h, n)).reshape(-1)
    flat_g = g.reshape(-1)
    adv = np.zeros_like(flat_g)
    for k in range(ref.T):
        gk = flat_g[tid == k]
        adv[tid == k] = (gk - gk.mean()) / (gk.std(ddof=1) + 1e-8)
    obs = ro["obs"].reshape(-1, o)
    ostats = ref.per_task_update((np.zeros((ref.T, ref.F)), np.ones((ref.T, ref.F)), np.ones(ref.T)),
                                 obs[:, :ref.F], tid)
    x = np.concatenate([(obs[:, :ref.F] - ostats[0][tid]) / np.sqrt(ostats[1][tid] + cfg.obs_norm_eps),
                        obs[:, ref.F:]], axis=1)
    zeros = np.zeros(h * n)
    flat = {"x": x, "action": ro["action"].reshape(h * n, -1), "log_prob": ro["log_prob"].reshape(-1),
            "value": zeros, "ret": zeros, "adv": adv}
    lcfg = dataclasses.replace(cfg, critic_coef=0.0, normalize_advantage=False)
    p = ref._tree_map(lambda v: np.array(v, np.float64), params0)
    m1, m2 = ref._tree_map(np.zeros_like, p), ref._tree_map(np.zeros_like, p)
    totals, margin = [], np.inf
    for step in range(1, cfg.epochs + 1):
        per = [ref.task_loss_and_grad(lcfg, p, {k: v[tid == j] for k, v in flat.items()}) for j in range(ref.T)]
        totals.append(np.mean([q[0]["total"] for q in per]))
        margin = min(margin, *(q[2] for q in per))
        gm = ref.aggregate([q[1] for q in per], "mean")
        scale = min(1.0, cfg.max_grad_norm / np.linalg.norm(ref._flat(gm)))
        gm = ref._tree_map(lambda v, s=scale: v * s, gm)
        m1 = ref._tree_map(lambda m, v: 0.9 * m + 0.1 * v, m1, gm)
        m2 = ref._tree_map(lambda m, v: 0.999 * m + 0.001 * v * v, m2, gm)
        c1, c2 = 1 - 0.9 ** step, 1 - 0.999 ** step
        p = ref._tree_map(lambda w, a, b, c1=c1, c2=c2: w - cfg.lr * (a / c1) / (np.sqrt(b / c2) + cfg.adam_eps),
                          p, m1, m2)
    return p, np.mean(totals), margin, ostats


def test_update_matches_numpy():
    # The PPO reference's tiny batch (2 tasks x 2 envs x 3 steps, a terminal and two time-outs, per-task
    # reward offsets) on its linear net; the critic params exist but get no gradient (GRPO has no value loss).
    cfg = ppo.PPOConfig(horizon=ref.H, epochs=2, minibatch_size=ref.H * ref.N, lr=0.01)
    ro = ref.tiny_rollout(reward_shift=(5.0, -3.0))
    want, want_total, margin, ostats = _numpy_grpo(cfg, ref.tiny_params(), ro)
    assert margin > 1e-3  # no sample within 1e-3 of a kink of the clipped surrogate
    init_fn, apply_fn = ref.linear_net(ref.tiny_params())
    learner = grpo.make_learner(cfg, init_fn, apply_fn, envs.TaskSet(("a", "b"), (ref.E, ref.E)),
                                obs_size=ref.O, action_size=ref.A)
    _, new, m = ref.run_update(learner, ro)
    # Tolerance as tests/test_ppo_learner.py::test_update_matches_numpy_by_hand (float32 losses and gradients
    # of O(1) normalised values over 12 samples, two Adam steps of lr 0.01): atol 2e-6.
    for k in want["actor"]:
        np.testing.assert_allclose(np.asarray(new.params["actor"][k]), want["actor"][k], atol=2e-6, rtol=0,
                                   err_msg=k)
    for k in want["critic"]:
        np.testing.assert_array_equal(np.asarray(new.params["critic"][k]),
                                      np.asarray(ref.tiny_params()["critic"][k], np.float32))
    np.testing.assert_allclose(m["loss/total"], want_total, rtol=1e-5)
    np.testing.assert_allclose(new.obs_stats.mean, ostats[0], rtol=1e-5, atol=1e-6)
    assert "loss/critic" not in m
    # The check can fail: the PPO update (GAE, a critic, re-standardised advantages) moves the actor elsewhere.
    _, other, _ = ref.run_update(ppo.make_learner(cfg, init_fn, apply_fn, envs.TaskSet(("a", "b"), (2, 2)),
                                                  obs_size=ref.O, action_size=ref.A), ro)
    assert np.abs(np.asarray(other.params["actor"]["W"]) - want["actor"]["W"]).max() > 1e-4
    # The value the trainer records is zero.
    obs = jnp.asarray(ro["obs"][0], jnp.float32)
    np.testing.assert_array_equal(learner.value(new, obs, jnp.asarray(ref.TASK_ID)), 0.0)


def test_exp_loss_scales_each_task_gradient_by_its_loss():
    # FAMO-GRPO differentiates exp(L_k): d exp(L_k) = exp(L_k) dL_k, so with one epoch the per-task loss is
    # exp of the plain one and the logged total is the mean of the exps.
    cfg = ppo.PPOConfig(horizon=ref.H, epochs=1, minibatch_size=ref.H * ref.N, lr=0.01)
    ro = ref.tiny_rollout()
    init_fn, apply_fn = ref.linear_net(ref.tiny_params())
    ts = envs.TaskSet(("a", "b"), (ref.E, ref.E))
    plain = ref.run_update(grpo.make_learner(cfg, init_fn, apply_fn, ts, ref.O, ref.A), ro)[2]
    expd = ref.run_update(grpo.make_learner(dataclasses.replace(cfg, grpo_exp_loss=True), init_fn, apply_fn, ts,
                                            ref.O, ref.A), ro)[2]
    assert expd["loss/total"] > 0 and not np.isclose(expd["loss/total"], plain["loss/total"])
    np.testing.assert_allclose(expd["loss/actor"], plain["loss/actor"], rtol=1e-6)  # same surrogate before exp


def test_trainer_learns_the_toy_env_with_grpo():
    # experiments/configs/toy_ppo.py:grpo: 256 envs x 4 tasks, horizon = the 40-step episode, no critic.
    rc = common.typed(toy_ppo.get_config("grpo"))
    env = registry.make_env("toy", rc.env.num_envs, **dict(rc.env.kwargs))
    init_fn, apply_fn = common.build_networks(rc, env)
    tr = on_policy.make_train(rc.ppo, env, init_fn, apply_fn, algo=rc.algo)
    s0 = tr.init(jax.random.key(0))
    assert "critic" not in s0.learner.params["params"]  # critic_net="none"
    chunk = jax.jit(tr.train_chunk, static_argnums=1)
    s, m0 = chunk(s0, 5)
    s, m = chunk(s, 5)
    s, m = chunk(s, 5)
    first, last = float(m0["return"][0]), float(m["return"][-1])
    assert float(m0["success"][0]) < 0.2 and float(m["success"][-1]) >= 0.9, (m0["success"], m["success"])
    assert last > first + 20.0, (first, last)  # measured: about -40 -> +13 after 15 iterations
    assert not bool(np.asarray(m["nonfinite"]).any())


def test_unknown_algo_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown algo 'sac'; valid: ppo, grpo"):
        on_policy.make_learner("sac")
    with pytest.raises(ValueError, match=r"critic_net='none' takes no critic_kwargs"):
        nets.make_actor_critic(actor_net="mlp", critic_net="none", action_size=2, num_tasks=2,
                               critic_kwargs={"hidden": (4,)})
