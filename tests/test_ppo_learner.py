"""One ``learner.update`` against a float64 numpy derivation (tests/ppo_numpy_reference.py) on a tiny batch, and
the learner's time-out bootstrap, value-normaliser and observation-normaliser paths by hand.

The batch: 2 tasks x 2 envs x 3 steps of a linear actor-critic (observation = 2 features + a 2-dim one-hot),
one minibatch holding all 12 samples, 2 mini-epochs (so the second Adam step depends on gradient magnitudes,
not only on their signs).
"""

import dataclasses

import jax.numpy as jnp
import numpy as np
import ppo_numpy_reference as ref
import pytest

from mtjax.algos import ppo

T, E, H, F, N, O, A, TASK_ID = ref.T, ref.E, ref.H, ref.F, ref.N, ref.O, ref.A, ref.TASK_ID
_params0, _rollout, _learner, _update = ref.tiny_params, ref.tiny_rollout, ref.tiny_learner, ref.run_update


CFG = ppo.PPOConfig(horizon=H, epochs=2, minibatch_size=H * N, lr=0.01)


def _assert_params(got, want, atol):
    for g in ("actor", "critic"):
        for k in want[g]:
            np.testing.assert_allclose(np.asarray(got[g][k]), want[g][k], atol=atol, rtol=0, err_msg=f"{g}/{k}")


def test_update_matches_numpy_by_hand():
    ro = _rollout()
    cfg = CFG
    want = ref.update(cfg, _params0(), ro, T, F)
    # The batch exercises the branches: some ratios are clipped, some value steps too, and no sample sits
    # within 1e-3 of a kink (where float32 rounding could pick the other branch).
    assert want["margin"] > 1e-3
    g = np.concatenate([ref._flat(ref.aggregate(gs, "mean")) for gs in want["task_grads"]])
    # Adam divides by |g|: a component near 0 would make float32 noise decide the step. None is.
    assert np.abs(g).min() > 1e-3 * np.abs(g).max()
    _, new, m = _update(_learner(cfg), ro)
    # Tolerance: the float32 start (params of size <= 1 rounded to 6e-8) plus float32 losses/gradients over <= 12
    # samples of O(10) normalised values (relative error ~1e-6 after the standardisations' 1/std), carried by
    # two Adam steps of lr 0.01: measured 1.9e-7; atol 2e-6 leaves a 10x margin. Adam is invariant to a constant
    # scale of a gradient component, so the params see the gradient's direction and its change between the two
    # steps; the magnitudes are checked by the logged losses and grad_norm (measured relative error <= 5e-7).
    _assert_params(new.params, want["params"], atol=2e-6)
    for k in ("loss/total", "loss/actor", "loss/critic", "loss/entropy", "grad_norm"):
        np.testing.assert_allclose(m[k], want["metrics"][k], rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(new.value_stats.mean, want["value_stats"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new.value_stats.var, want["value_stats"][1], rtol=1e-5)
    np.testing.assert_allclose(new.obs_stats.mean, want["obs_stats"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new.obs_stats.var, want["obs_stats"][1], rtol=1e-5)
    assert float(new.lr) == pytest.approx(0.01)  # fixed schedule
    # The check can fail: GAE lambda 0.94 instead of 0.95 moves the params by 3.5e-5 (17 x atol).
    other = ref.update(dataclasses.replace(cfg, lam=0.94), _params0(), ro, T, F)
    assert np.abs(ref._flat(other["params"]) - ref._flat(want["params"])).max() > 10 * 2e-6


@pytest.mark.parametrize("variant", [{"normalize_obs": False}, {"normalize_value": False},
                                     {"normalize_advantage": False, "value_bootstrap": False, "epochs": 1}])
def test_update_matches_numpy_without_normalisers(variant):
    cfg = dataclasses.replace(CFG, **variant)
    ro = _rollout(2)
    want = ref.update(cfg, _params0(), ro, T, F)
    assert want["margin"] > 1e-3
    _, new, m = _update(_learner(cfg), ro)
    _assert_params(new.params, want["params"], atol=2e-6)  # as in test_update_matches_numpy_by_hand
    np.testing.assert_allclose(m["loss/total"], want["metrics"]["loss/total"], rtol=1e-5)


def test_time_out_bootstraps_the_value_in_the_returns():
    # One task, one env, H = 3, gamma = lam = 0.5 (the numbers of test_returns.test_gae_hand_worked): r = (1, 2, 3),
    # V = (0.5, 1, 2), the episode ends after step 1 by time-out, V(s_3) = 4.
    # Time-out: r_1 += gamma V(s_1) = 0.5 -> 2.5. GAE: A_2 = 3 + 0.5*4 - 2 = 3; A_1 = 2.5 - 1 = 1.5 (done cuts);
    # A_0 = (1 + 0.5*1 - 0.5) + 0.25 A_1 = 1.375. Returns A + V = (1.875, 2.5, 5). Without the bootstrap
    # A_1 = 1, A_0 = 1.25 and the returns are (1.75, 2, 5).
    # The learner exposes its returns through the value normaliser: it adds the 3 values, then the 3 returns,
    # to statistics that start from a negligible pseudo-count (1e-6), so its mean is (sum V + sum R) / 6.
    ro = {"obs": np.zeros((3, 1, F + 1)), "action": np.zeros((3, 1, A)), "log_prob": np.zeros((3, 1)),
          "value": np.array([[0.5], [1.0], [2.0]]), "reward": np.array([[1.0], [2.0], [3.0]]),
          "done": np.array([[0.0], [1.0], [0.0]]), "truncated": np.array([[0.0], [1.0], [0.0]]),
          "task_id": np.zeros(1, np.int64), "last_value": np.array([4.0])}
    ro["obs"][..., -1] = 1.0
    params = {"actor": {"W": np.zeros((F + 1, A)), "b": np.zeros(A), "log_std": np.zeros(A)},
              "critic": {"U": np.zeros(F + 1), "c": np.asarray(0.0)}}
    for bootstrap, rets in ((True, [1.875, 2.5, 5.0]), (False, [1.75, 2.0, 5.0])):
        cfg = ppo.PPOConfig(horizon=3, epochs=1, minibatch_size=3, gamma=0.5, lam=0.5, stats_init_count=1e-6,
                            value_bootstrap=bootstrap)
        _, new, _ = _update(_learner(cfg, params, counts=(1,)), ro)
        vals = np.array([0.5, 1.0, 2.0] + rets)
        # float32 moments of 6 values of size <= 5: relative error ~1e-6; the two cases differ by 0.104.
        np.testing.assert_allclose(new.value_stats.mean[0, 0], vals.mean(), rtol=1e-5)
        np.testing.assert_allclose(new.value_stats.var[0, 0], vals.var(), rtol=1e-5)
        np.testing.assert_allclose(ref.targets(cfg, ro, ((np.zeros((1, 1)), np.ones((1, 1)), np.full(1, 1e-6))))[4]
                                   [:, 0], rets, rtol=1e-12)  # the numpy reference agrees with the hand values


def test_value_normaliser_path():
    """``learner.value`` de-normalises the critic with the per-task statistics of values and returns."""
    ro = _rollout()
    for normalize_value in (True, False):
        cfg = dataclasses.replace(CFG, normalize_value=normalize_value)
        learner = _learner(cfg)
        _, new, _ = _update(learner, ro)
        want = ref.update(cfg, _params0(), ro, T, F)
        obs = jnp.asarray(ro["obs"][0], jnp.float32)
        got = np.asarray(learner.value(new, obs, jnp.asarray(TASK_ID)))
        x = _normalised_obs(ro["obs"][0], want["obs_stats"], cfg)
        v = x @ want["params"]["critic"]["U"] + want["params"]["critic"]["c"]
        if normalize_value:
            mean, var, _ = want["value_stats"]
            # rl_games: clamp the normalised output to [-5, 5], then v * sqrt(var + 1e-5) + mean per task.
            v = np.clip(v, -5, 5) * np.sqrt(var[TASK_ID, 0] + 1e-5) + mean[TASK_ID, 0]
            assert np.abs(mean).max() > 0.3  # the statistics moved: de-normalising is not the identity
        else:
            np.testing.assert_array_equal(new.value_stats.mean, 0.0)
            np.testing.assert_array_equal(new.value_stats.var, 1.0)
        # float32 value of a 4-term dot product scaled by sqrt(var) <= ~3: ~1e-6 relative.
        np.testing.assert_allclose(got, v, rtol=1e-4, atol=1e-5)


def _normalised_obs(obs, stats, cfg):
    if not cfg.normalize_obs:
        return obs
    feats = (obs[:, :F] - stats[0][TASK_ID]) / np.sqrt(stats[1][TASK_ID] + cfg.obs_norm_eps)
    return np.concatenate([feats, obs[:, F:]], axis=1)


def test_observation_normaliser_path():
    """The first mini-epoch's minibatches update per-task feature statistics (the one-hot is left out), and
    ``act`` / ``mean_action`` feed the policy the normalised features."""
    ro = _rollout()
    tid = np.broadcast_to(TASK_ID, (H, N)).reshape(-1)
    feats = ro["obs"][..., :F].reshape(-1, F)
    for normalize_obs in (True, False):
        cfg = dataclasses.replace(CFG, normalize_obs=normalize_obs, stats_init_count=1e-6)
        learner = _learner(cfg)
        _, new, _ = _update(learner, ro)
        assert new.obs_stats.mean.shape == (T, F)  # features only
        for k in range(T):
            # Both mini-epochs see the same 6 samples of task k; only the first counts them, so the moments are
            # exactly theirs and the count is 6 (a second pass would make it 12). float32 moments: ~1e-6.
            want_mean = feats[tid == k].mean(0) if normalize_obs else np.zeros(F)
            want_var = feats[tid == k].var(0) if normalize_obs else np.ones(F)
            np.testing.assert_allclose(new.obs_stats.mean[k], want_mean, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(new.obs_stats.var[k], want_var, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(new.obs_stats.count[k], 6.0 if normalize_obs else 1e-6, rtol=1e-5)
        obs = ro["obs"][0]
        got = np.asarray(learner.mean_action(new, jnp.asarray(obs, jnp.float32), jnp.asarray(TASK_ID)))
        stats = (np.asarray(new.obs_stats.mean, np.float64), np.asarray(new.obs_stats.var, np.float64))
        x = _normalised_obs(obs, stats, cfg)
        if normalize_obs:
            assert np.abs(x[:, :F] - obs[:, :F]).max() > 1.0  # normalising changes the input a lot
        want = x @ np.asarray(new.params["actor"]["W"], np.float64) + np.asarray(new.params["actor"]["b"])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)  # float32 4-term dot products


def test_popart_rescales_the_head_and_preserves_the_critic_through_an_update():
    """``value_norm="popart"``: the update's ART step moves the per-task statistics, its POP step rescales the
    network's ``critic_popart`` head, and the critic's raw outputs are unchanged by it."""
    import jax

    from mtjax import envs, nets

    # 2 tasks x 1 env x 2 steps, gamma = 0.5, lam = 1, rollout values 0, no episode end, bootstrap value 0, so the
    # returns are the discounted rewards:
    #   task 0: r = (1, 4) -> G = (1 + 0.5 * 4, 4) = (3, 4): mu = 3.5, nu = (9 + 16) / 2 = 12.5, sigma = 0.5
    #   task 1: r = (0, 20) -> G = (10, 20): mu = 15, nu = (100 + 400) / 2 = 250, sigma = sqrt(250 - 225) = 5
    # The first PopArt update is bias-corrected to step 1, so these are the new statistics exactly.
    # POP from (mu, sigma) = (0, 1) with the identity head (kernel 1, bias 0): kernel' = 1 / sigma = (2, 0.2),
    # bias' = (1 * 0 + 0 - mu) / sigma = (-7, -3).
    cfg = ppo.PPOConfig(horizon=2, epochs=1, minibatch_size=2, gamma=0.5, lam=1.0, value_norm="popart",
                        normalize_obs=False, lr=1e-30)  # lr: the gradient step vanishes below float32 rounding
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=A, num_tasks=2,
                                               actor_kwargs={"hidden": (8,)}, critic_kwargs={"hidden": (8,)},
                                               popart=True)
    learner = ppo.make_learner(cfg, init_fn, apply_fn, envs.TaskSet(("a", "b"), (1, 1)), obs_size=F + 2,
                               action_size=A)
    tid = jnp.array([0, 1])
    rng = np.random.default_rng(0)
    obs = jnp.asarray(np.concatenate([rng.normal(size=(2, 2, F)), np.broadcast_to(np.eye(2), (2, 2, 2))], -1),
                      jnp.float32)
    ro = ppo.Rollout(obs=obs, action=jnp.zeros((2, 2, A)), log_prob=jnp.zeros((2, 2)), value=jnp.zeros((2, 2)),
                     reward=jnp.array([[1.0, 0.0], [4.0, 20.0]]), done=jnp.zeros((2, 2), bool),
                     truncated=jnp.zeros((2, 2), bool), task_id=tid)
    ls = learner.init(jax.random.key(0))
    new, m = jax.jit(learner.update)(ls, ro, jnp.zeros(2), jax.random.key(1))
    np.testing.assert_allclose(new.popart.mean, [3.5, 15.0], rtol=1e-6)
    np.testing.assert_allclose(new.popart.second, [12.5, 250.0], rtol=1e-6)
    head = new.params["params"]["critic_popart"]
    np.testing.assert_allclose(head["kernel"], [[2.0, 0.2]], rtol=1e-5)
    np.testing.assert_allclose(head["bias"], [-7.0, -3.0], rtol=1e-5)
    assert np.isfinite(m["loss/critic"])
    probe = jnp.asarray(rng.normal(size=(6, F + 2)), jnp.float32)
    ptid = jnp.array([0, 1, 0, 1, 0, 1])
    before, after = learner.value(ls, probe, ptid), learner.value(new, probe, ptid)
    # float32: after = sigma (k c + b) + mu with terms |sigma k c| = |c| <= ~3, |sigma b| = mu <= 15: five
    # roundings of values <= ~35 are <= 5 * 35 * 6e-8 = 1e-5; atol 1e-4.
    np.testing.assert_allclose(after, before, atol=1e-4)
    # Without the POP step the same critic would read sigma c + mu, far from c.
    assert np.abs(np.asarray(5.0 * before[1::2] + 15.0 - before[1::2])).min() > 1.0


def test_popart_needs_the_network_head():
    cfg = dataclasses.replace(CFG, value_norm="popart")
    with pytest.raises(ValueError, match=r"value_norm='popart' needs .*popart=True"):
        _update(_learner(cfg), _rollout())
    with pytest.raises(ValueError, match=r"value_norm='pop'; valid: running, popart"):
        dataclasses.replace(CFG, value_norm="pop")
