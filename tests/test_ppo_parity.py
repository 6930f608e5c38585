"""MT-PPO details that must match rl_games 1.6.1 / MTBench's executed code, on hand-computed cases.

* Adaptive learning rate: rl_games writes each minibatch's current mu/sigma back into the dataset
  (``update_mu_sigma``), so the KL of mini-epoch e compares with mini-epoch e - 1, not with the rollout policy.
* Value normaliser: rl_games' ``RunningMeanStd`` starts at count 1, uses sqrt(var + 1e-5) and clamps normalised
  values/returns and the critic's output (before de-normalising) to [-5, 5].
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mtjax import envs, losses, normalize, transforms
from mtjax.algos import ppo

N, H = 8, 4  # one task, 32 samples, one minibatch


def _scalar_policy():
    """mu = params["mu"] (one action dim), log_std = 0 fixed (sigma = 1), value = params["v"]."""
    def init_fn(key, obs, task_id):
        del key, obs, task_id
        return {"mu": jnp.zeros((1,)), "v": jnp.zeros(())}

    def apply_fn(params, obs, task_id):
        del task_id
        b = obs.shape[:-1]
        return jnp.broadcast_to(params["mu"], b + (1,)), jnp.zeros((1,)), jnp.broadcast_to(params["v"], b)

    return init_fn, apply_fn


def _learner(**kw):
    cfg = ppo.PPOConfig(horizon=H, epochs=3, minibatch_size=N * H, lr=0.004, lr_schedule="adaptive",
                        kl_threshold=2.5e-5, normalize_obs=False, normalize_value=False, normalize_advantage=False,
                        entropy_coef=0.0, **kw)
    sign = optax.stateless(lambda u, p: jax.tree.map(jnp.sign, u))  # every step moves each param by exactly lr
    tx = optax.chain(transforms.mean(), sign)
    init_fn, apply_fn = _scalar_policy()
    return ppo.make_learner(cfg, init_fn, apply_fn, envs.TaskSet(("a",), (N,)), obs_size=2, action_size=1,
                            onehot_dims=1, tx=tx)


def _rollout():
    action = jnp.ones((H, N, 1))  # every action at mu + 1 with positive advantage: mu rises every step
    lp = losses.gaussian_log_prob(jnp.zeros((H, N, 1)), jnp.zeros((1,)), action)
    return ppo.Rollout(obs=jnp.ones((H, N, 2)), action=action, log_prob=lp, value=jnp.zeros((H, N)),
                       reward=jnp.ones((H, N)), done=jnp.zeros((H, N), bool), truncated=jnp.zeros((H, N), bool),
                       task_id=jnp.zeros((N,), jnp.int32))


@pytest.mark.parametrize("reference, lr, kl", [
    # thr = 2.5e-5, band [thr/2, 2 thr] = [1.25e-5, 5e-5]; lr stays within rl_games' [1e-6, 1e-2].
    # epoch 0: mu 0 vs 0 -> KL = log(1 + 1e-5) = 1e-5 < 1.25e-5 -> lr 0.004 * 1.5 = 0.006 (step 0.004: mu 0.004)
    # epoch 1: mu 0.004 vs 0 (both references) -> KL = 1e-5 + 0.004^2 / 2 = 1.8e-5 in the band: lr stays 0.006
    # epoch 2 (mu 0.01): previous epoch mu 0.004 -> KL = 1e-5 + 0.006^2 / 2 = 2.8e-5 in the band: lr 0.006;
    #                    rollout mu 0 -> KL = 1e-5 + 0.01^2 / 2 = 6e-5 > 5e-5: lr 0.006 / 1.5 = 0.004
    ("previous_epoch", 0.006, 1e-5 + 0.006 ** 2 / 2),
    ("rollout", 0.004, 1e-5 + 0.01 ** 2 / 2),
])
def test_adaptive_lr_follows_rl_games_kl_reference(reference, lr, kl):
    lrn = _learner(kl_reference=reference)
    ls = lrn.init(jax.random.key(0))
    ls, m = lrn.update(ls, _rollout(), jnp.zeros((N,)), jax.random.key(1))
    np.testing.assert_allclose(float(ls.params["mu"][0]), 0.004 + 0.006 + 0.006, rtol=1e-5)
    np.testing.assert_allclose(float(ls.lr), lr, rtol=1e-6)
    # float32: log(1.00001f) = 1.0014e-5 (1.4e-8 off), i.e. < 1e-3 relative of the KLs here
    np.testing.assert_allclose(float(m["kl"]), kl, rtol=2e-3)


def test_rl_games_policy_kl_hand_case():
    # sigma 1 -> 2, mu 0 -> 1 (current vs reference): log(2/1 + 1e-5) + (1 + 1) / (2 * 4) - 0.5
    got = losses.rl_games_policy_kl(jnp.array([0.0]), jnp.log(jnp.array([1.0])), jnp.array([1.0]),
                                    jnp.log(jnp.array([2.0])))
    np.testing.assert_allclose(float(got), np.log(2.0 + 1e-5) + 2.0 / 8.0 - 0.5, rtol=1e-6)


def test_running_stats_start_at_count_one():
    # pseudo-sample (mean 0, var 1, count 1) + batch {2, 4} (mean 3, population var 1, n 2):
    # count 3, mean 3 * 2 / 3 = 2, M2 = 1 * 1 + 1 * 2 + 3^2 * (1 * 2 / 3) = 9, var 9 / 3 = 3
    st = normalize.init_stats(1, 1)
    st = normalize.update_stats(st, jnp.array([[2.0], [4.0]]), jnp.zeros((2,), jnp.int32))
    np.testing.assert_allclose([float(st.count[0]), float(st.mean[0, 0]), float(st.var[0, 0])], [3.0, 2.0, 3.0],
                               rtol=1e-6)


def test_value_normaliser_clamps_like_rl_games():
    st = normalize.init_stats(1, 1)
    tid = jnp.zeros((2,), jnp.int32)
    y = normalize.normalize(st, jnp.array([10.0, -2.0]), tid, eps=1e-5, clip=5.0)  # 10/sqrt(1.00001) -> 5
    np.testing.assert_allclose(np.asarray(y), [5.0, -2.0 / np.sqrt(1.00001)], rtol=1e-6)
    x = normalize.denormalize(st, jnp.array([7.0, 1.0]), tid, eps=1e-5, clip=5.0)  # 7 -> 5 before scaling
    np.testing.assert_allclose(np.asarray(x), [5.0 * np.sqrt(1.00001), np.sqrt(1.00001)], rtol=1e-6)


@pytest.mark.parametrize("clip, raw", [(5.0, 5.0 * np.sqrt(1.00001)), (0.0, 7.0 * np.sqrt(1.00001))])
def test_learner_value_clamps_critic_output_before_denormalising(clip, raw):
    init_fn, apply_fn = _scalar_policy()
    cfg = ppo.PPOConfig(horizon=H, minibatch_size=N * H, value_norm_clip=clip)
    lrn = ppo.make_learner(cfg, init_fn, apply_fn, envs.TaskSet(("a",), (N,)), obs_size=2, action_size=1,
                           onehot_dims=1)
    ls = lrn.init(jax.random.key(0))
    ls = ls.replace(params={"mu": jnp.zeros((1,)), "v": jnp.asarray(7.0)})  # critic says 7 (normalised units)
    v = lrn.value(ls, jnp.ones((3, 2)), jnp.zeros((3,), jnp.int32))
    np.testing.assert_allclose(np.asarray(v), raw, rtol=1e-6)


@pytest.mark.parametrize("clip, eps, want", [
    (0.0, 1e-8, [3.0 / np.sqrt(1e-6 + 1e-8), 0.0]),        # MTBench: (x - mu) / sqrt(var + 1e-8), no clamp
    (5.0, 1e-5, [5.0, 0.0]),                               # rl_games: 3 / sqrt(1.1e-5) = 904 -> clamped to 5
    (1000.0, 1e-5, [3.0 / np.sqrt(1e-6 + 1e-5), 0.0]),     # eps alone: 904.5
])
def test_learner_obs_normalisation_clip_and_eps(clip, eps, want):
    # one task, one obs dim whose statistics say mean 2, var 1e-6 (a nearly constant dim); obs 5 and 2
    init_fn, _ = _scalar_policy()

    def apply_fn(params, obs, task_id):  # mu = w * normalised obs[0]
        del task_id
        return params["mu"] * obs[..., :1], jnp.zeros((1,)), jnp.broadcast_to(params["v"], obs.shape[:-1])

    cfg = ppo.PPOConfig(horizon=H, minibatch_size=N * H, obs_norm_clip=clip, obs_norm_eps=eps)
    lrn = ppo.make_learner(cfg, init_fn, apply_fn, envs.TaskSet(("a",), (N,)), obs_size=2, action_size=1,
                           onehot_dims=1)
    ls = lrn.init(jax.random.key(0))
    stats = normalize.RunningStats(mean=jnp.full((1, 1), 2.0), var=jnp.full((1, 1), 1e-6), count=jnp.ones((1,)))
    ls = ls.replace(obs_stats=stats, params={"mu": jnp.ones((1,)), "v": jnp.asarray(0.0)})
    obs = jnp.array([[5.0, 1.0], [2.0, 1.0]])
    mu = lrn.mean_action(ls, obs, jnp.zeros((2,), jnp.int32))  # the scalar policy's mean is w * obs[0]
    np.testing.assert_allclose(np.asarray(mu)[:, 0], want, rtol=1e-5)


def test_obs_normalisation_options_are_validated():
    with pytest.raises(ValueError, match="obs_norm_clip"):
        ppo.PPOConfig(obs_norm_clip=-1.0)
    with pytest.raises(ValueError, match="obs_norm_eps"):
        ppo.PPOConfig(obs_norm_eps=0.0)
