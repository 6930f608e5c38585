"""MT-SAC learner (mtjax/algos/sac.py): hand-computed cases, and one step with real networks."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import envs, replay
from mtjax.algos import sac


def test_squashed_gaussian_log_prob_matches_numpy():
    mu = np.array([[0.3, -1.2], [2.0, 0.0]], np.float32)
    log_std = np.array([[-0.5, 0.1], [-2.0, 0.7]], np.float32)
    eps = np.array([[0.5, -1.0], [1.5, 0.2]], np.float32)
    a, lp = sac.squashed_gaussian(jnp.asarray(mu), jnp.asarray(log_std), jnp.asarray(eps))
    # numpy, float64: u = mu + sigma eps; log pi = sum_i [log N(u_i; mu_i, sigma_i) - log(1 - tanh(u_i)^2)]
    m, s, e = (x.astype(np.float64) for x in (mu, log_std, eps))
    u = m + np.exp(s) * e
    ref = np.sum(-0.5 * e**2 - s - 0.5 * np.log(2 * np.pi) - np.log(1 - np.tanh(u) ** 2), axis=-1)
    np.testing.assert_allclose(a, np.tanh(u), rtol=1e-6, atol=1e-6)
    # float32: |u| <= 2.1, so 1 - tanh^2 >= 0.06 and every term is O(1): 1e-5 covers a few float32 eps per term.
    np.testing.assert_allclose(lp, ref, rtol=1e-5, atol=1e-5)
    # mu = 0, sigma = 1, eps = 0: u = 0, a = 0, log pi = 2 * (-0.5 log 2 pi) = -1.837877 (no Jacobian term)
    _, lp0 = sac.squashed_gaussian(jnp.zeros(2), jnp.zeros(2), jnp.zeros(2))
    np.testing.assert_allclose(lp0, -math.log(2 * math.pi), rtol=1e-6)


def test_squashed_gaussian_is_finite_where_tanh_saturates():
    # u = 20: tanh(u) == 1 in float32, so the naive log(1 - a^2) is -inf. The stable form gives
    # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) = 2 (0.693147 - 20 - 4.2e-18) = -38.613706.
    _, lp = sac.squashed_gaussian(jnp.array([20.0]), jnp.array([0.0]), jnp.array([0.0]))
    np.testing.assert_allclose(lp, -0.5 * math.log(2 * math.pi) + 38.613706, rtol=1e-6)


def test_log_std_bounds_clamp_as_mtbench_ran_and_the_tanh_option():
    raw = jnp.array([0.0, 50.0, -50.0, 0.5])
    # rl_games 1.6.1 (MTBench's): clamp to [-20, 2]
    np.testing.assert_allclose(sac.log_std_bounds(raw, -20.0, 2.0), [0.0, 2.0, -20.0, 0.5])
    # rl_games 1.6.5: low + (high - low) (tanh(raw) + 1) / 2 on [-20, 2]: raw 0 -> -9; raw -> +-inf -> 2, -20
    out = sac.log_std_bounds(raw, -20.0, 2.0, mode="tanh")
    np.testing.assert_allclose(out, [-9.0, 2.0, -20.0, -20 + 11 * (math.tanh(0.5) + 1)], rtol=1e-6)


def test_mtbench_networks_start_with_zero_biases():
    # rl_games' SACBuilder zeroes every Linear's bias (weights: PyTorch's default), MT-PPO's MLP keeps torch's biases
    nets = sac.make_networks(action_size=2, num_tasks=2)  # MTBENCH_NET
    ts = envs.TaskSet(("a", "b"), (1, 1))
    actor, critic = sac.init_networks(nets, ts, 5, 2, jax.random.key(0))
    for params in (actor, critic):
        flat = jax.tree_util.tree_flatten_with_path(params)[0]
        biases = [x for p, x in flat if "bias" in jax.tree_util.keystr(p)]
        kernels = [x for p, x in flat if "kernel" in jax.tree_util.keystr(p)]
        assert len(biases) == len(kernels) >= 4
        assert all(float(jnp.abs(b).max()) == 0.0 for b in biases)
        assert all(float(jnp.abs(k).max()) > 0.0 for k in kernels)
    torch_default = sac.make_networks(action_size=2, num_tasks=2, actor_kwargs={"hidden": (8,)})
    a2, _ = sac.init_networks(torch_default, ts, 5, 2, jax.random.key(0))
    assert any(float(jnp.abs(x).max()) > 0 for p, x in jax.tree_util.tree_flatten_with_path(a2)[0]
               if "bias" in jax.tree_util.keystr(p))


@pytest.mark.parametrize("on_next", [True, False])
def test_observation_statistics_take_obs_then_next_obs(on_next):
    # One sample per task, one normalised dim; statistics start at mean 0, var 1, count 1.
    # task 0: obs 1, next_obs 3. MTBench (on_next), Chan's update twice:
    #   from (mean 0, var 1, n 1) with batch {1}: mean 0.5, M2 = 1 + 0 + 1 * 1/2 = 1.5, var 0.75 (n 2);
    #   then {3}: delta 2.5, mean 0.5 + 2.5/3 = 4/3, M2 = 1.5 + 0 + 6.25 * 2/3 = 17/3, var 17/9 (n 3).
    # obs-only: mean 0.5, var 0.75, count 2.
    ts = envs.TaskSet(("a", "b"), (1, 1))
    cfg = sac.SACConfig(batch_size=2, obs_stats_on_next_obs=on_next)
    learner = sac.make_learner(cfg, _fake_nets(), ts, obs_size=3, action_size=2)
    ls = learner.init(jax.random.key(0))
    oh = np.eye(2, dtype=np.float32)
    obs = jnp.asarray(np.concatenate([np.array([[1.0], [2.0]], np.float32), oh], 1)[:, None])
    nxt = jnp.asarray(np.concatenate([np.array([[3.0], [2.0]], np.float32), oh], 1)[:, None])
    batch = replay.Transition(obs=obs, action=jnp.zeros((2, 1, 2)), reward=jnp.zeros((2, 1)), next_obs=nxt,
                              done=jnp.zeros((2, 1)), n_steps=jnp.ones((2, 1)))
    new, _ = jax.jit(learner.update)(ls, batch, jax.random.key(1))
    want = (4 / 3, 17 / 9, 3.0) if on_next else (0.5, 0.75, 2.0)
    np.testing.assert_allclose([new.obs_stats.mean[0, 0], new.obs_stats.var[0, 0], new.obs_stats.count[0]], want,
                               rtol=1e-6)


def test_temperature_loss_and_its_per_task_gradient():
    # Two tasks, two samples each: log_alpha = (0, log 2) -> alpha = (1, 2); H_target = -2.
    # -log pi - H = (1 + 2, 3 + 2, -0.5 + 2, 6.5 + 2) = (3, 5, 1.5, 8.5)
    # loss = mean(1*3, 1*5, 2*1.5, 2*8.5) = 28 / 4 = 7
    # d/dlog_alpha_k = (1/B) sum_{b in k} alpha_k (-log pi_b - H): task 0 (3 + 5)/4 = 2, task 1 2 (1.5 + 8.5)/4 = 5
    cfg = sac.SACConfig()
    tx = sac.make_alpha_tx(cfg)
    log_alpha = jnp.array([0.0, math.log(2.0)])
    lp, tid = jnp.array([-1.0, -3.0, 0.5, -6.5]), jnp.array([0, 0, 1, 1])
    la, opt, loss, grad = sac.temperature_step(tx, log_alpha, tx.init(log_alpha), lp, tid, -2.0)
    np.testing.assert_allclose(loss, 7.0, rtol=1e-6)
    np.testing.assert_allclose(grad, [2.0, 5.0], rtol=1e-6)
    # Adam's first step is lr * g / (|g| + eps) = lr * sign(g) per task: both temperatures drop by 5e-3.
    # atol: Adam's float32 bias corrections (1 - 0.999 etc.) leave a few float32 eps of the step (~3e-8).
    np.testing.assert_allclose(la, log_alpha - 5e-3, rtol=1e-6, atol=1e-7)

    # The clip: step 1 (|g| = sqrt(29) > 0.5) is clipped to 0.5 g/|g|, step 2 is small and unclipped. Adam's
    # second step depends on the first gradient's size, so the clip is visible there.
    # step 2: -log pi - H = (0.01, 0.03, 0.005, 0.015) -> g2 = (alpha_0 0.04/4, alpha_1 0.02/4)
    lp2 = 2.0 - jnp.array([0.01, 0.03, 0.005, 0.015])  # log pi = -H - (-log pi - H)
    la2, _, _, g2 = sac.temperature_step(tx, la, opt, lp2, tid, -2.0)
    a1 = np.exp(np.asarray(la, np.float64))
    np.testing.assert_allclose(g2, [a1[0] * 0.04 / 4, a1[1] * 0.02 / 4], rtol=1e-5)

    def adam2(g1):
        b1, b2, lr, e = 0.9, 0.999, 5e-3, 1e-8
        m, v = (1 - b1) * g1, (1 - b2) * g1**2
        x = np.asarray(log_alpha, np.float64) - lr * m / (1 - b1) / (np.sqrt(v / (1 - b2)) + e)
        g = np.asarray(g2, np.float64)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        return x - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + e)

    g1 = np.array([2.0, 5.0])
    np.testing.assert_allclose(la2, adam2(0.5 * g1 / np.sqrt(29.0)), rtol=1e-6, atol=1e-7)
    # without the clip the result differs by 7e-5 or more, 700x the tolerance above
    assert np.abs(adam2(g1) - adam2(0.5 * g1 / np.sqrt(29.0))).min() > 5e-5


def test_polyak():
    # (1 - 0.01) * 1 + 0.01 * 3 = 1.02; (0.99) * -2 + 0.01 * 0 = -1.98
    out = sac.polyak({"a": jnp.array(1.0), "b": jnp.array([-2.0])}, {"a": jnp.array(3.0), "b": jnp.array([0.0])},
                     0.01)
    np.testing.assert_allclose(out["a"], 1.02, rtol=1e-6)
    np.testing.assert_allclose(out["b"], [-1.98], rtol=1e-6)


def _fake_nets():
    """Actor: mean 0, log-std -20 (tanh(-1e4) = -1 exactly); critics Q_i = w_i * obs[:, 0] (target at s')."""
    def actor_apply(p, x, t):
        del t
        return jnp.broadcast_to(p["b"], (x.shape[0], 4))

    def critic_apply(p, x, a, t):
        del a, t
        return p["w"][0] * x[:, 0], p["w"][1] * x[:, 0]

    return sac.Networks(actor_init=lambda k, x, t: {"b": jnp.array([0.0, 0.0, -1e4, -1e4])},
                        actor_apply=actor_apply, critic_init=lambda k, x, a, t: {"w": jnp.array([2.0, 3.0])},
                        critic_apply=critic_apply)


def test_update_target_nstep_discount_done_masking_and_polyak():
    # gamma 0.9, n 3 -> gamma^n = 0.729 (MT-SAC discounts by gamma^n; n_steps is not used). Four tasks, one sample
    # each ([T=4, b=1]); alpha = 1e-9 makes alpha * log pi (|log pi| < 60) < 1e-7, below the tolerance.
    # Q'_i(s') = w_i s'_0 with w = (2, 3):
    #   task 0: r 1.0, done 0, s'_0 = 1.0  -> min(2, 3) = 2      -> y = 1 + 0.729 * 2 = 2.458
    #   task 1: r 0.5, done 1, s'_0 = 5.0                          -> y = 0.5 (bootstrap dropped)
    #   task 2: r -1,  done 0, s'_0 = -1   -> min(-2, -3) = -3   -> y = -1 - 0.729 * 3 = -3.187
    #   task 3: r 2,   done 0, s'_0 = 0.5, n_steps 1 -> min(1, 1.5) = 1 -> y = 2 + 0.729 = 2.729
    ts = envs.TaskSet(("a", "b", "c", "d"), (1, 1, 1, 1))
    cfg = sac.SACConfig(gamma=0.9, n_step=3, batch_size=4, init_alpha=1e-9, normalize_obs=False, tau=0.01)
    learner = sac.make_learner(cfg, _fake_nets(), ts, obs_size=5, action_size=2)
    ls = learner.init(jax.random.key(0))
    onehot = np.eye(4, dtype=np.float32)

    def obs(x0):
        return jnp.asarray(np.concatenate([np.array(x0, np.float32)[:, None], onehot], 1)[:, None])  # [4, 1, 5]

    obs0 = [1.0, -1.0, 0.5, 2.0]
    batch = replay.Transition(obs=obs(obs0), action=jnp.zeros((4, 1, 2)),
                              reward=jnp.array([[1.0], [0.5], [-1.0], [2.0]]), next_obs=obs([1.0, 5.0, -1.0, 0.5]),
                              done=jnp.array([[0.0], [1.0], [0.0], [0.0]]), n_steps=jnp.array([[3.0], [3.0], [3.0], [1.0]]))
    new, m = jax.jit(learner.update)(ls, batch, jax.random.key(1))
    y = np.array([2.458, 0.5, -3.187, 2.729])
    np.testing.assert_allclose(m["task/target_q"], y, rtol=1e-6, atol=1e-6)
    # critic loss per task (w = (2, 3) before the step): (2 s_0 - y)^2 + (3 s_0 - y)^2, mean over tasks
    s0 = np.array(obs0)
    np.testing.assert_allclose(m["loss/critic"], np.mean((2 * s0 - y) ** 2 + (3 * s0 - y) ** 2), rtol=1e-6)
    # Adam's first step moves each critic weight by lr = 5e-4 against its gradient's sign; Polyak tau = 0.01
    w_new = np.asarray(new.critic_params["w"])
    np.testing.assert_allclose(np.abs(w_new - [2.0, 3.0]), 5e-4, rtol=1e-4)
    np.testing.assert_allclose(new.target_params["w"], 0.99 * np.array([2.0, 3.0]) + 0.01 * w_new, rtol=1e-6)
    assert int(new.steps) == 1
    with pytest.raises(AssertionError):  # a batch whose leading axis is not the 4 tasks
        learner.update(ls, jax.tree.map(lambda x: x[:3], batch), jax.random.key(1))


@pytest.mark.parametrize("mtrl,mode", [("mean", "clamp"), ("pcgrad", "clamp"), ("mean", "tanh")])
def test_one_update_with_real_networks(mtrl, mode):
    ts = envs.TaskSet(("a", "b"), (2, 2))
    cfg = sac.SACConfig(batch_size=8, mtrl=mtrl, mtrl_target="both", log_std_mode=mode)
    nets = sac.make_networks(action_size=2, num_tasks=2, actor_kwargs={"hidden": (8,)}, critic_kwargs={"hidden": (8,)})
    learner = sac.make_learner(cfg, nets, ts, obs_size=5, action_size=2)
    ls = learner.init(jax.random.key(0))
    obs = jnp.concatenate([jax.random.normal(jax.random.key(1), (4, 3)), jnp.asarray(ts.one_hot())], 1)
    act = learner.act(ls, obs, jnp.asarray(ts.task_ids), jax.random.key(2))
    det = learner.act(ls, obs, jnp.asarray(ts.task_ids), jax.random.key(2), deterministic=True)
    assert act.shape == det.shape == (4, 2) and float(jnp.max(jnp.abs(act))) < 1.0
    k = jax.random.split(jax.random.key(3), 3)
    tm = jnp.concatenate([jax.random.normal(k[0], (2, 4, 3)), jnp.broadcast_to(jnp.eye(2)[:, None], (2, 4, 2))], -1)
    batch = replay.Transition(obs=tm, action=jax.random.uniform(k[1], (2, 4, 2), minval=-1), reward=jnp.ones((2, 4)),
                              next_obs=tm, done=jnp.zeros((2, 4)), n_steps=jnp.full((2, 4), 4.0))
    new, m = jax.jit(learner.update)(ls, batch, k[2])
    assert jax.tree.structure(new.critic_params) == jax.tree.structure(ls.critic_params)
    assert set(new.critic_params["params"]) == {"q1", "q2"}
    assert all(bool(jnp.isfinite(x).all()) for x in jax.tree.leaves(new))
    assert m["task/alpha"].shape == (2,) and not bool(m["nonfinite"])
    assert (("mtrl/pcgrad/num_conflicts" in m) == (mtrl == "pcgrad"))
    # tanh: raw log-std ~ 0 maps to -9 (sigma 1.2e-4), so -log pi ~ 2 * (0.9 - 9) = -16 < H_target = -2: the
    # gradient is negative for both tasks and Adam's first step raises both log-alphas by lr = 5e-3. clamp (MTBench):
    # log-std ~ 0, sigma ~ 1, -log pi ~ 2 * (1.42 + 0.87) ~ 4.6 > -2: both log-alphas fall by 5e-3.
    np.testing.assert_allclose(np.log(m["task/alpha"]), 5e-3 if mode == "tanh" else -5e-3, rtol=1e-4)


@pytest.mark.parametrize("bad", [{"tau": 0.0}, {"tau": 1.5}, {"actor_lr": 0.0}, {"alpha_grad_clip": -1.0},
                                 {"log_std_min": 2.0, "log_std_max": 2.0}, {"mtrl": "nope"}, {"mtrl_target": "x"},
                                 {"n_step": 0}, {"gamma": 1.5}, {"batch_size": 0}, {"warmup_steps": -1},
                                 {"adam_b1": 1.0}, {"log_std_mode": "softplus"}])
def test_bad_config_raises(bad):
    with pytest.raises(ValueError, match="SACConfig"):
        sac.SACConfig(**bad)


def test_defaults_are_mtbench_mt10():
    cfg = sac.SACConfig()
    assert (cfg.horizon, cfg.gradient_steps, cfg.batch_size, cfg.buffer_size, cfg.n_step) == (1, 4, 8192, 5_000_000, 4)
    assert (cfg.actor_lr, cfg.critic_lr, cfg.alpha_lr, cfg.tau, cfg.init_alpha) == (5e-4, 5e-4, 5e-3, 0.01, 1.0)
    assert (cfg.log_std_min, cfg.log_std_max, cfg.alpha_grad_clip, cfg.gamma) == (-20.0, 2.0, 0.5, 0.99)
