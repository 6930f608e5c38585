"""Off-policy and critic-free targets (mtjax/targets.py): hand-computed cases."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import targets

# float32: results of a few additions/multiplications of O(10) numbers are exact to ~1e-6 relative.
RTOL = 1e-6


def test_sac_critic_target_two_tasks():
    # task 0: alpha = 0.5; task 1: alpha = 2. gamma^n = 0.9^2 = 0.81.
    # sample 0 (task 0): min(10, 8) = 8, soft V = 8 - 0.5 * (-1) = 8.5, y = 1 + 0.81 * 8.5 = 7.885
    # sample 1 (task 1): done, y = r = 2
    args = {"reward": jnp.array([1.0, 2.0]), "done": jnp.array([0.0, 1.0]), "discount": 0.81,
            "next_q1": jnp.array([10.0, 5.0]), "next_q2": jnp.array([8.0, 6.0]),
            "next_log_prob": jnp.array([-1.0, -2.0]), "task_id": jnp.array([0, 1])}
    log_alpha = jnp.log(jnp.array([0.5, 2.0]))
    np.testing.assert_allclose(targets.sac_critic_target(log_alpha=log_alpha, **args), [7.885, 2.0], rtol=RTOL)
    # no gradient reaches log_alpha through the target
    g = jax.grad(lambda la: targets.sac_critic_target(log_alpha=la, **args).sum())(log_alpha)
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_sac_alpha_loss_and_its_gradient():
    # H_target = -4. -log pi - H = [3 + 4, -1 + 4] = [7, 3].
    # loss = mean(0.5 * 7, 2 * 3) = (3.5 + 6) / 2 = 4.75
    # d/d log_alpha_k = (1/B) * alpha_k * (-log pi - H) = [0.5 * 7 / 2, 2 * 3 / 2] = [1.75, 3.0]
    log_alpha = jnp.log(jnp.array([0.5, 2.0]))
    log_prob, task_id = jnp.array([-3.0, 1.0]), jnp.array([0, 1])
    loss, g = jax.value_and_grad(targets.sac_alpha_loss)(log_alpha, log_prob, task_id, -4.0)
    np.testing.assert_allclose(loss, 4.75, rtol=RTOL)
    np.testing.assert_allclose(g, [1.75, 3.0], rtol=RTOL)
    # log_prob is a constant of this loss
    glp = jax.grad(lambda lp: targets.sac_alpha_loss(log_alpha, lp, task_id, -4.0))(log_prob)
    np.testing.assert_array_equal(glp, [0.0, 0.0])


def test_td3_target_and_noise_clipping():
    # y = r + (1 - d) * gamma^m * min: 1 + 0.5 * min(4, 6) = 3; done -> 2
    y = targets.td3_target(jnp.array([1.0, 2.0]), jnp.array([0.0, 1.0]), jnp.array([0.5, 0.5]),
                           jnp.array([4.0, 9.0]), jnp.array([6.0, 1.0]))
    np.testing.assert_allclose(y, [3.0, 2.0], rtol=RTOL)
    # noise std 1 with clip 0.5: P(|eps| > 0.5) = 0.62, so many draws hit the bound exactly.
    mu = jnp.tile(jnp.array([[0.0, 0.9, -0.9]]), (2000, 1))
    key = jax.random.key(0)
    a = targets.td3_target_action(mu, key, noise_std=1.0, noise_clip=0.5)
    eps = a[:, 0] - mu[:, 0]  # the centre column never reaches the action bounds
    assert float(jnp.max(jnp.abs(eps))) == 0.5
    assert 0.5 < float(jnp.mean(jnp.abs(eps) == 0.5)) < 0.75
    assert float(a[:, 1].max()) == 1.0 and float(a[:, 1].min()) == pytest.approx(0.4)  # 0.9 - 0.5; top at 1
    assert float(a[:, 2].min()) == -1.0 and float(a[:, 2].max()) == pytest.approx(-0.4)
    # same key -> bitwise equal; std 0 -> the clipped mean
    np.testing.assert_array_equal(targets.td3_target_action(mu, key, 1.0, 0.5), a)
    np.testing.assert_array_equal(targets.td3_target_action(mu * 2, key, 0.0, 0.5), jnp.clip(mu * 2, -1, 1))
    with pytest.raises(ValueError):
        targets.td3_target_action(mu, key, -1.0, 0.5)


# ---------------------------------------------------------------------------------------------- C51


def test_c51_projection_hand_cases():
    # support [-2, -1, 0, 1, 2], dz = 1.
    probs = jnp.array([
        [0.1, 0.2, 0.3, 0.25, 0.15],
        [0.2, 0.2, 0.2, 0.2, 0.2],
        [0.2, 0.2, 0.2, 0.2, 0.2],
        [0.2, 0.2, 0.2, 0.2, 0.2],
    ])
    reward = jnp.array([0.5, 1.5, -3.7, 0.25])
    done = jnp.array([0.0, 0.0, 1.0, 1.0])
    discount = jnp.array([0.5, 1.0, 0.9, 0.9])
    got = targets.c51_project(probs, reward, done, discount, -2.0, 2.0)
    want = [
        # Tz = 0.5 + 0.5 z = [-0.5, 0, 0.5, 1, 1.5]. Split masses: -0.5 -> 0.05 to -1 and 0.05 to 0;
        # 0 (on an atom) -> 0.2 to 0; 0.5 -> 0.15 to 0 and 0.15 to 1; 1 -> 0.25 to 1; 1.5 -> 0.075 to 1 and 2.
        # m = [0, 0.05, 0.05 + 0.2 + 0.15, 0.15 + 0.25 + 0.075, 0.075]
        [0.0, 0.05, 0.4, 0.475, 0.075],
        # Tz = 1.5 + z = [-0.5, 0.5, 1.5, 2.5, 3.5] -> clipped [-0.5, 0.5, 1.5, 2, 2]:
        # 0.1 -> -1, 0.1 + 0.1 -> 0, 0.1 + 0.1 -> 1, 0.1 + 0.2 + 0.2 -> 2
        [0.0, 0.1, 0.2, 0.2, 0.5],
        # done: every atom -> clip(-3.7) = -2
        [1.0, 0.0, 0.0, 0.0, 0.0],
        # done: every atom -> 0.25, split 0.75 to 0 and 0.25 to 1
        [0.0, 0.0, 0.75, 0.25, 0.0],
    ]
    np.testing.assert_allclose(got, want, atol=1e-6)
    # with no clipping the mean is r + gamma E[z]: 0.5 + 0.5 * 0.15 = 0.575
    np.testing.assert_allclose(got[0] @ targets.c51_support(-2.0, 2.0, 5), 0.575, rtol=RTOL)


def _floor_ceil_projection(probs, reward, done, discount, v_min, v_max):
    # MTBench's index_add formulation (Bellemare et al. Algorithm 1 with the l == u fix), in numpy.
    b, k = probs.shape
    z = np.linspace(v_min, v_max, k)
    dz = (v_max - v_min) / (k - 1)
    tz = np.clip(reward[:, None] + ((1 - done) * discount)[:, None] * z, v_min, v_max)
    pos = (tz - v_min) / dz
    lo, hi = np.floor(pos).astype(int), np.ceil(pos).astype(int)
    lo = np.where((hi > 0) & (lo == hi), lo - 1, lo)
    hi = np.where((lo < k - 1) & (lo == hi), hi + 1, hi)
    out = np.zeros_like(probs)
    for i in range(b):
        np.add.at(out[i], lo[i], probs[i] * (hi[i] - pos[i]))
        np.add.at(out[i], hi[i], probs[i] * (pos[i] - lo[i]))
    return out


def test_c51_projection_matches_the_floor_ceil_form_with_101_atoms():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(101), size=64).astype(np.float32)
    reward = rng.normal(scale=4.0, size=64).astype(np.float32)
    done = (rng.random(64) < 0.2).astype(np.float32)
    discount = (0.97 ** rng.integers(1, 9, size=64)).astype(np.float32)
    got = targets.c51_project(jnp.asarray(probs), jnp.asarray(reward), jnp.asarray(done), jnp.asarray(discount),
                              -10.0, 10.0)
    want = _floor_ceil_projection(probs.astype(np.float64), reward, done, discount, -10.0, 10.0)
    # float32 Tz = r + s z with |Tz| <= 10 is off by <= 2 ulp(10) = 2 * 2^-20 = 1.9e-6; dividing by dz = 0.2
    # makes each hat weight off by <= 9.5e-6, and an output atom's mass sum_j p_j w_ij (sum p_j <= 1) by as much.
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_cdq_select_picks_the_lower_mean():
    z = targets.c51_support(-1.0, 1.0, 3)
    p1 = jnp.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # means 1, -1, 0
    p2 = jnp.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])  # means 0, 0, 0 (tie -> p2)
    np.testing.assert_array_equal(targets.cdq_select(p1, p2, z), [p2[0], p1[1], p2[2]])


def test_c51_support_validates():
    with pytest.raises(ValueError):
        targets.c51_support(1.0, -1.0, 5)


# ---------------------------------------------------------------------------------------------- PQN / GRPO


def test_q_lambda_three_steps():
    # gamma = lam = 0.5; r = [1, 2, 3]; episode ends at step 1; V(s_t) = [10, 20, 30]; V(s_3) = 40.
    # R_2 = 3 + 0.5 * 40 = 23
    # R_1 = 2 + 0.5 * (0.5 * 23 + 0.5 * (1 - 1) * 30) = 2 + 5.75 = 7.75      (lam R_2 not masked: MTBench)
    # R_0 = 1 + 0.5 * (0.5 * 7.75 + 0.5 * 20) = 1 + 0.5 * 13.875 = 7.9375
    args = (jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.0]), jnp.array([10.0, 20.0, 30.0]),
            jnp.array(40.0), 0.5, 0.5)
    np.testing.assert_allclose(targets.q_lambda_returns(*args), [7.9375, 7.75, 23.0], rtol=RTOL)
    # masked: R_1 = 2 + 0 = 2; R_0 = 1 + 0.5 * (0.5 * 2 + 0.5 * 20) = 6.5
    np.testing.assert_allclose(targets.q_lambda_returns(*args, mask_lambda_return=True), [6.5, 2.0, 23.0],
                               rtol=RTOL)
    # lam = 0 is the one-step target r + gamma (1 - d) V(s'): [1 + 10, 2 + 0, 3 + 20]
    np.testing.assert_allclose(targets.q_lambda_returns(*args[:4], 0.5, 0.0), [11.0, 2.0, 23.0], rtol=RTOL)


def test_grpo_reward_to_go_and_group_advantages():
    # One env, gamma = 0.5, r = [1, 2, 4], time-out at step 1.
    # bonus on: r' = [1, 2.5, 4]; G_2 = 4, G_1 = 2.5 (episode ended), G_0 = 1 + 0.5 * 2.5 = 2.25
    # bonus off: G = [1 + 0.5 * 2, 2, 4] = [2, 2, 4]
    r, d = jnp.array([1.0, 2.0, 4.0]), jnp.array([False, True, False])
    np.testing.assert_allclose(targets.reward_to_go(r, d, d, 0.5), [2.25, 2.5, 4.0], rtol=RTOL)
    np.testing.assert_allclose(targets.reward_to_go(r, d, d, 0.5, timeout_bonus=False), [2.0, 2.0, 4.0],
                               rtol=RTOL)
    # Two tasks, envs [0, 0, 1], H = 2, G (time-major) = [[1, 2, 10], [3, 6, 12]].
    # task 0: {1, 2, 3, 6}, mean 3, squares 4 + 1 + 0 + 9 = 14, unbiased std sqrt(14 / 3) = 2.1602469
    #   -> A = [-2, -1, 0, 3] / 2.1602469 = [-0.9258201, -0.4629100, 0, 1.3887301]
    # task 1: {10, 12}, mean 11, std sqrt(2 / 1) -> A = [-0.7071068, 0.7071068]
    g = jnp.array([[1.0, 2.0, 10.0], [3.0, 6.0, 12.0]])
    a = targets.group_advantages(g, jnp.array([0, 0, 1]), num_tasks=2)
    s = math.sqrt(14 / 3)
    np.testing.assert_allclose(a, [[-2 / s, -1 / s, -0.7071068], [0.0, 3 / s, 0.7071068]], rtol=1e-5, atol=1e-7)
    # a constant task gives 0 / (0 + 1e-8) = 0
    np.testing.assert_array_equal(targets.group_advantages(jnp.full((2, 2), 5.0), jnp.array([0, 1]), 2), 0.0)


def test_reward_to_go_vmaps_over_envs():
    # [H, N] time-major rollout: vmap over the env axis equals a loop over columns.
    rng = np.random.default_rng(1)
    r = jnp.asarray(rng.normal(size=(6, 4)), jnp.float32)
    d = jnp.asarray(rng.random((6, 4)) < 0.3)
    f = jax.vmap(lambda a, b: targets.reward_to_go(a, b, b, 0.99), in_axes=1, out_axes=1)
    want = np.stack([targets.reward_to_go(r[:, i], d[:, i], d[:, i], 0.99) for i in range(4)], axis=1)
    np.testing.assert_allclose(f(r, d), want, rtol=RTOL)
