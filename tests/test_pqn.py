"""MT-PQN (mtjax/algos/pqn.py, mtjax/nets/qnet.py): Q(lambda) returns, decoupled utilities and the epsilon
schedule by hand, one update against a numpy derivation, the jitted on-policy trainer learning the toy env with
``algo="pqn"``, and MTBench's discretised Meta-World option (bins -> actions, 500-step episodes)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from envs_bridge import registry
from mtjax import envs, nets
from mtjax.algos import on_policy, ppo, pqn


def _rollout(obs, action, value, reward, done, task_id):
    f = lambda x: jnp.asarray(x, jnp.float32)
    h, n = np.shape(reward)
    return ppo.Rollout(obs=f(obs), action=f(action), log_prob=jnp.zeros((h, n)), value=f(value), reward=f(reward),
                       done=jnp.asarray(done, bool), truncated=jnp.asarray(done, bool),
                       task_id=jnp.asarray(task_id, jnp.int32))


# ---------------------------------------------------------------------------------------------- by hand


def test_q_lambda_returns_three_steps_by_hand():
    # gamma = 0.9, lambda = 0.5, rewards (1, 2, 3), values V(s_0..s_2) = (0.5, 1, 2), V(s_3) = 4.
    # R_2 = r_2 + g (1 - d_2) V_3;  R_t = r_t + g [l R_{t+1} + (1 - l) (1 - d_t) V_{t+1}].
    # Env 0, episode ends at t = 1 (d = 0, 1, 0):
    #   R_2 = 3 + 0.9 * 4 = 6.6
    #   R_1 = 2 + 0.9 * (0.5 * 6.6 + 0.5 * 0 * 2) = 2 + 2.97 = 4.97   (MTBench: lambda R_2 is not cut at the end)
    #   R_0 = 1 + 0.9 * (0.5 * 4.97 + 0.5 * 1 * 1) = 1 + 0.9 * 2.985 = 3.6865
    #   masked (Peng): R_1 = 2 + 0 = 2;  R_0 = 1 + 0.9 * (0.5 * 2 + 0.5 * 1) = 2.35
    # Env 1, no end: R_2 = 6.6;  R_1 = 2 + 0.9 * (3.3 + 0.5 * 2) = 5.87;  R_0 = 1 + 0.9 * (2.935 + 0.5) = 4.0915
    value = np.array([[0.5, 0.5], [1.0, 1.0], [2.0, 2.0]])
    reward = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    done = np.array([[0, 0], [1, 0], [0, 0]])
    ro = _rollout(np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), value, reward, done, [0, 1])
    last = jnp.array([4.0, 4.0])
    cfg = pqn.PQNConfig(gamma=0.9, q_lambda=0.5)
    want = np.array([[3.6865, 4.0915], [4.97, 5.87], [6.6, 6.6]])
    np.testing.assert_allclose(pqn.q_targets(cfg, ro, last), want, rtol=1e-6)
    masked = pqn.q_targets(dataclasses.replace(cfg, mask_lambda_return=True), ro, last)
    np.testing.assert_allclose(masked[:, 0], [2.35, 2.0, 6.6], rtol=1e-6)


def test_decoupled_q_value_and_greedy_by_hand():
    # Sample 0: dim 0 utilities (1, 5, 2), dim 1 (-1, -3, 0): greedy bins (1, 2), V = (5 + 0) / 2 = 2.5,
    #           Q(s, a = (0, 1)) = (1 + -3) / 2 = -1.
    # Sample 1: ties pick the lowest bin: (2, 2, 1) -> 0 and (0, 0, 0) -> 0; V = (2 + 0) / 2 = 1,
    #           Q(s, a = (2, 2)) = (1 + 0) / 2 = 0.5.
    q = jnp.array([[[1.0, 5.0, 2.0], [-1.0, -3.0, 0.0]], [[2.0, 2.0, 1.0], [0.0, 0.0, 0.0]]])
    np.testing.assert_array_equal(pqn.greedy_bins(q), [[1, 2], [0, 0]])
    np.testing.assert_allclose(pqn.state_value(q), [2.5, 1.0])
    np.testing.assert_allclose(pqn.chosen_q(q, jnp.array([[0, 1], [2, 2]])), [-1.0, 0.5])
    # Bin j of B -> j * 2 / (B - 1) - 1: B = 3 -> (-1, 0, 1); B = 5 -> (-1, -0.5, 0, 0.5, 1); B = 2 -> (-1, 1).
    for b, want in ((3, [-1, 0, 1]), (5, [-1, -0.5, 0, 0.5, 1]), (2, [-1, 1])):
        a = pqn.bins_to_action(jnp.arange(b), b)
        np.testing.assert_array_equal(a, want)
        np.testing.assert_array_equal(pqn.action_to_bins(a, b), np.arange(b))


def test_epsilon_and_learning_rate_schedules():
    # MTBench MT10: 50,000 iterations x 0.5 % = 250 iterations of decay from 1 to 0.005;
    # halfway: 1 + (0.005 - 1) * 125 / 250 = 1 - 0.4975 = 0.5025.
    cfg = pqn.PQNConfig()
    eps = [float(pqn.epsilon(cfg, i)) for i in (0, 125, 250, 251, 49_999)]
    np.testing.assert_allclose(eps, [1.0, 0.5025, 0.005, 0.005, 0.005], rtol=1e-6)
    assert float(pqn.epsilon(dataclasses.replace(cfg, exploration_fraction=0.0), 0)) == pytest.approx(0.005)
    # lr 3e-4 * (1 - i / 50,000) at iteration i = count // 32 (8 epochs x 4 minibatches per iteration):
    # counts 0 and 31 -> i = 0 -> 3e-4; count 32 * 25,000 -> i = 25,000 -> 1.5e-4; i = 50,000 -> 0.
    lrs = [float(pqn.learning_rate(cfg, c, 32)) for c in (0, 31, 32 * 25_000, 32 * 50_000)]
    np.testing.assert_allclose(lrs, [3e-4, 3e-4, 1.5e-4, 0.0], rtol=1e-6, atol=1e-12)
    assert float(pqn.learning_rate(dataclasses.replace(cfg, anneal_lr=False), 32 * 25_000, 32)) == pytest.approx(3e-4)


def test_epsilon_greedy_explores_per_env_not_per_dim():
    # Linear Q on 2 dims x 3 bins; an env's action differs from the greedy one unless every dim's draw hits the
    # greedy bin. Exploring per env with probability eps: P(differs) = eps * (1 - (1/3)^2) = eps * 8/9
    # (per dim it would be 1 - (1 - eps * 2/3)^2: 0.556 at eps = 0.5, against 0.444 per env).
    # N = 3,000 envs: binomial std <= sqrt(0.25 / 3000) = 0.0091; tolerance 0.045 (5 std).
    n, cfg = 3000, pqn.PQNConfig(total_iterations=100, exploration_fraction=0.5, eps_end=0.0, horizon=1,
                                 num_minibatches=1)
    ts = envs.TaskSet.even(("a",), n)
    tid = jnp.asarray(ts.task_ids)
    w = jax.random.normal(jax.random.key(1), (3, 6))
    init_fn = lambda key, x, tid: {"w": w}
    apply_fn = lambda p, x, tid: (x @ p["w"]).reshape(x.shape[0], 2, 3)
    learner = pqn.make_learner(cfg, init_fn, apply_fn, ts, 3, 2)
    ls = learner.init(jax.random.key(0))
    obs = jax.random.normal(jax.random.key(2), (n, 3))
    greedy = learner.mean_action(ls, obs, tid)
    for it, eps in ((0, 1.0), (25, 0.5), (50, 0.0)):  # eps = 1 - i / 50, floored at 0
        action, logp, v = learner.act(ls.replace(iteration=jnp.int32(it)), obs, tid, jax.random.key(3))
        differs = float(jnp.mean(jnp.any(action != greedy, axis=-1)))
        assert differs == pytest.approx(eps * 8 / 9, abs=0.045), (it, differs)
        np.testing.assert_array_equal(logp, 0.0)
        np.testing.assert_allclose(v, pqn.state_value(apply_fn({"w": w}, obs, None)))
        assert set(np.unique(np.asarray(action))) <= {-1.0, 0.0, 1.0}


# ---------------------------------------------------------------------------------------------- update


def _numpy_update(w0, obs, action, value, reward, done, last_value, cfg, num_tasks):
    """One PQN update with one epoch and one minibatch in float64 numpy: Q(lambda) recursion, the per-task
    decoupled MSE gradient of the linear net ``q = x W`` (reshaped ``[A, B]``), the task mean, the global-norm
    clip, and RAdam's first step, which is plain momentum: ``rho_1 = rho_inf - 2 b2 / (1 - b2) = 1 < 5``, so
    ``update = m_hat = g`` and ``W_1 = W_0 - lr g``."""
    h, n = reward.shape
    a_dims, b = action.shape[-1], cfg.num_bins
    ret = np.zeros((h, n))
    for t in reversed(range(h)):
        if t == h - 1:
            ret[t] = reward[t] + cfg.gamma * (1 - done[t]) * last_value
        else:
            ret[t] = reward[t] + cfg.gamma * (cfg.q_lambda * ret[t + 1] + (1 - cfg.q_lambda) * (1 - done[t])
                                              * value[t + 1])
    bins = np.rint((action + 1) * (b - 1) / 2).astype(int)
    per_task = n // num_tasks
    grads, losses = [], []
    for k in range(num_tasks):
        x = obs[:, k * per_task:(k + 1) * per_task].reshape(-1, obs.shape[-1])
        a = bins[:, k * per_task:(k + 1) * per_task].reshape(-1, a_dims)
        r = ret[:, k * per_task:(k + 1) * per_task].reshape(-1)
        q = (x @ w0).reshape(-1, a_dims, b)
        q_sa = np.mean(np.take_along_axis(q, a[..., None], -1)[..., 0], -1)
        err = q_sa - r
        losses.append(np.mean(err**2))
        g = np.zeros_like(w0)
        for i in range(len(r)):
            for d in range(a_dims):
                g[:, d * b + a[i, d]] += 2 * err[i] / len(r) / a_dims * x[i]
        grads.append(g)
    g = np.mean(grads, 0)
    g = g * min(1.0, cfg.max_grad_norm / np.linalg.norm(g))
    return w0 - cfg.lr * g, np.mean(losses)


def test_one_update_matches_numpy():
    # 2 tasks x 2 envs x 3 steps, obs dim 3, 2 action dims x 3 bins, linear Q; the clip (0.5) is active (the
    # task-mean gradient has norm 0.84).
    h, n, o = 3, 4, 3
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(h, n, o))
    action = rng.integers(0, 3, size=(h, n, 2)) - 1.0
    value, reward = rng.normal(size=(h, n)), rng.normal(size=(h, n))
    done = np.zeros((h, n))
    done[1, 0] = done[0, 3] = 1
    last_value = rng.normal(size=n)
    w0 = rng.normal(size=(o, 6)).astype(np.float32)
    cfg = pqn.PQNConfig(horizon=h, epochs=1, num_minibatches=1, total_iterations=10, gamma=0.9, q_lambda=0.5,
                        lr=0.1, max_grad_norm=0.5)
    ts = envs.TaskSet.even(("a", "b"), n)
    init_fn = lambda key, x, tid: {"w": jnp.asarray(w0)}
    apply_fn = lambda p, x, tid: (x @ p["w"]).reshape(x.shape[:-1] + (2, 3))
    learner = pqn.make_learner(cfg, init_fn, apply_fn, ts, o, 2)
    ls = learner.init(jax.random.key(0))
    ro = _rollout(obs, action, value, reward, done, ts.task_ids)
    ls1, m = jax.jit(learner.update)(ls, ro, jnp.asarray(last_value, jnp.float32), jax.random.key(1))
    want_w, want_loss = _numpy_update(w0.astype(np.float64), obs, action, value, reward, done, last_value, cfg, 2)
    # float32 forward/backward on O(1) numbers: relative error ~1e-6; 1e-5 leaves a margin.
    np.testing.assert_allclose(ls1.params["w"], want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m["loss/total"], want_loss, rtol=1e-5)
    assert int(ls1.iteration) == 1 and not bool(m["nonfinite"])
    assert float(m["epsilon"]) == 1.0 and float(m["lr"]) == pytest.approx(0.1)


# ---------------------------------------------------------------------------------------------- network, errors


def test_qnetwork_layout_and_orthogonal_init():
    t, obs, hidden = 3, 5, 8
    init_fn, apply_fn = nets.make_q_network(action_size=4, num_bins=3, num_tasks=t,
                                            net_kwargs={"hidden": hidden})
    x = jax.random.normal(jax.random.key(0), (6, obs))
    tid = jnp.arange(6) % t
    v = init_fn(jax.random.key(1), x, tid)
    q = apply_fn(v, x, tid)
    assert q.shape == (6, 4, 3) and bool(jnp.isfinite(q).all())
    p = v["params"]["critic"]  # the Q-network is MTBench's critic (what mtrl_target="critic" selects)
    assert set(p) == {"projection", "LayerNorm_0", "_ResidualBlock_0", "out"}
    assert set(p["_ResidualBlock_0"]) == {"Dense_0", "Dense_1", "LayerNorm_0", "LayerNorm_1"}
    # Orthogonal with gain sqrt(2): a [5, 8] kernel has orthogonal rows, K K^T = 2 I_5; square [8, 8] blocks
    # K^T K = 2 I_8; the [8, 12] output K K^T = 2 I_8. Biases are zero.
    eye = lambda k: np.eye(k) * 2.0
    np.testing.assert_allclose(p["projection"]["kernel"] @ p["projection"]["kernel"].T, eye(5), atol=1e-5)
    for name in ("Dense_0", "Dense_1"):
        k = p["_ResidualBlock_0"][name]["kernel"]
        np.testing.assert_allclose(k.T @ k, eye(8), atol=1e-5)
    np.testing.assert_allclose(p["out"]["kernel"] @ p["out"]["kernel"].T, eye(8), atol=1e-5)
    dense_biases = [b for k, b in traverse_util.flatten_dict(p).items()
                    if k[-1] == "bias" and not any("LayerNorm" in part for part in k)]
    assert len(dense_biases) == 4 and all(float(jnp.abs(b).max()) == 0 for b in dense_biases)
    # MTBench skips the projection when the input is already `hidden` wide; num_blocks = 1 has no block.
    v2 = nets.make_net("qnet", out_dim=2, num_tasks=1, hidden=8, num_blocks=1).init(
        jax.random.key(0), jnp.zeros((1, 8)), jnp.zeros((1,), jnp.int32))
    assert set(v2["params"]) == {"out"}


def test_errors():
    with pytest.raises(ValueError, match="num_bins"):
        pqn.PQNConfig(num_bins=1)
    with pytest.raises(ValueError, match="q_lambda"):
        pqn.PQNConfig(q_lambda=1.5)
    with pytest.raises(ValueError, match="eps_end"):
        pqn.PQNConfig(eps_start=0.1, eps_end=0.5)
    with pytest.raises(ValueError, match="mtrl_target"):
        pqn.PQNConfig(mtrl_target="actor")
    with pytest.raises(ValueError, match="num_bins"):
        nets.make_q_network(action_size=4, num_bins=1, num_tasks=2)
    ts = envs.TaskSet.even(("a", "b"), 2)
    init_fn, apply_fn = nets.make_q_network(action_size=2, num_bins=3, num_tasks=2)
    with pytest.raises(TypeError, match="PQNConfig"):
        pqn.make_learner(ppo.PPOConfig(), init_fn, apply_fn, ts, 4, 2)
    with pytest.raises(ValueError, match="minibatches"):
        pqn.make_learner(pqn.PQNConfig(horizon=2, num_minibatches=4), init_fn, apply_fn, ts, 4, 2)
    with pytest.raises(ValueError, match="action_scale"):
        registry.make_env("reach", 2, action_scale=0.0)


# ---------------------------------------------------------------------------------------------- training


def test_pqn_learns_the_toy_env():
    # 64 envs on 4 point-reach tasks, 300 iterations x 16 steps; epsilon decays over the first 30 iterations.
    # Random play returns about -42 per 40-step episode; the greedy policy reaches the goals.
    env = registry.make_env("toy", 64, num_tasks=4)
    cfg = pqn.PQNConfig(horizon=16, epochs=4, num_minibatches=2, total_iterations=300, exploration_fraction=0.1,
                        lr=1e-3, gamma=0.9)
    init_fn, apply_fn = nets.make_q_network(action_size=env.action_size, num_bins=3, num_tasks=4,
                                            net_kwargs={"hidden": 64})
    trainer = on_policy.make_train(cfg, env, init_fn, apply_fn, total_iterations=300, algo="pqn")
    state, m = jax.jit(trainer.train)(jax.random.key(0))
    ret, succ = np.asarray(m["return"]), np.asarray(m["success"])
    first, last = np.nanmean(ret[:50]), np.nanmean(ret[-50:])
    assert last > first + 8.0, (first, last)
    assert np.nanmean(succ[-50:]) > np.nanmean(succ[:50]) + 0.1
    assert not np.asarray(m["nonfinite"]).any()
    assert int(state.learner.iteration) == 300
    np.testing.assert_allclose(np.asarray(m["epsilon"])[[0, 15, 30, 299]], [1.0, 0.5025, 0.005, 0.005], rtol=1e-5)


def test_discretised_metaworld_option():
    # MTBench's meta-world-discrete-v2: 500-step episodes, 0.005 m per unit action; bins (2, 1, 0, 1) ->
    # (+1, 0, -1, 0) and (0, 2, 1, 1) -> (-1, +1, 0, 0) move the mocap by 0.005 * (1, 0, -1) and 0.005 * (-1, 1, 0).
    env = registry.make_env("reach", 2, episode_length=500, action_scale=0.005)
    bins = jnp.array([[2, 1, 0, 1], [0, 2, 1, 1]])
    first = pqn.bins_to_action(bins, 3)
    np.testing.assert_array_equal(first, [[1, 0, -1, 0], [-1, 1, 0, 0]])
    actions = jnp.zeros((500, 2, 4)).at[0].set(first)

    def run(key):
        s0 = env.reset(key)

        def step(s, a):
            s = env.step(s, a)
            return s, (env.inspect(s)["mocap"], s.done, s.truncated)

        return env.inspect(s0)["mocap"], jax.lax.scan(step, s0, actions)[1]

    mocap0, (mocap, done, trunc) = jax.jit(run)(jax.random.key(0))
    # float32 positions of O(1) metres: rounding ~1e-7; 1e-6 tolerance.
    np.testing.assert_allclose(mocap[0] - mocap0, [[0.005, 0, -0.005], [-0.005, 0.005, 0]], atol=1e-6)
    np.testing.assert_allclose(mocap[1], mocap[0], atol=1e-7)  # zero actions hold the target
    done, trunc = np.asarray(done), np.asarray(trunc)
    assert not done[:499].any() and done[499].all() and trunc[499].all()
    np.testing.assert_allclose(mocap[499], mocap0, atol=1e-6)  # reset puts the mocap back at the hand's start
