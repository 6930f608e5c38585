"""FastTD3 learner (mtjax/algos/fasttd3.py): a hand-computed C51 step (also with the per-task reward scale), the
delayed actor, the learning-rate schedules, the per-episode exploration noise, the toy env."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from compile_options import OPTIMISED

from envs_bridge import registry
from mtjax import envs, replay
from mtjax.algos import fasttd3, off_policy, sac


def _fake_nets():
    """Actor: constant pre-tanh output; critics: fixed logits log(0.2, 0.3, 0.5) and log(0.5, 0.3, 0.2)."""
    def critic_apply(p, x, a, t):
        del a, t
        return jnp.broadcast_to(p["l1"], (x.shape[0], 3)), jnp.broadcast_to(p["l2"], (x.shape[0], 3))

    logits = {"l1": jnp.log(jnp.array([0.2, 0.3, 0.5])), "l2": jnp.log(jnp.array([0.5, 0.3, 0.2]))}
    return sac.Networks(actor_init=lambda k, x, t: {"b": jnp.zeros(2)},
                        actor_apply=lambda p, x, t: jnp.broadcast_to(p["b"], (x.shape[0], 2)),
                        critic_init=lambda k, x, a, t: logits, critic_apply=critic_apply)


def _c51_case(**over):
    """Two tasks, one sample each on the fake networks: atoms (-1, 0, 1), gamma 0.5, m = 1, reward 0.5, task 1 done.
    Returns ``(learner, initial state, batch)``."""
    ts = envs.TaskSet(("a", "b"), (1, 1))
    cfg = fasttd3.TD3Config(gamma=0.5, n_step=1, num_atoms=3, v_min=-1.0, v_max=1.0, batch_size=2,
                            normalize_obs=False, policy_noise=0.0, **over)
    learner = fasttd3.make_learner(cfg, _fake_nets(), ts, obs_size=3, action_size=2)
    obs = jnp.asarray(np.concatenate([np.zeros((2, 1, 1)), np.eye(2)[:, None]], -1), jnp.float32)
    batch = replay.Transition(obs=obs, action=jnp.zeros((2, 1, 2)), reward=jnp.full((2, 1), 0.5), next_obs=obs,
                              done=jnp.array([[0.0], [1.0]]), n_steps=jnp.ones((2, 1)))
    return learner, learner.init(jax.random.key(0)), batch


def test_c51_cdq_target_and_cross_entropy_by_hand():
    # Atoms z = (-1, 0, 1); gamma 0.5 and m = 1 -> discount 0.5. Target critics: p1 = (.2, .3, .5) (mean 0.3),
    # p2 = (.5, .3, .2) (mean -0.3).
    # task 0: r 0.5, done 0: Tz = 0.5 + 0.5 z = (0, 0.5, 1).
    #   proj(p1) = (0, .2 + .15, .15 + .5) = (0, .35, .65), mean .65; proj(p2) = (0, .5 + .15, .15 + .2) =
    #   (0, .65, .35), mean .35 -> CDQ takes proj(p2); its mean 0.35 is the reported target.
    # task 1: r 0.5, done 1: all mass at 0.5 -> (0, .5, .5) for both, mean 0.5.
    # Cross-entropy of both online critics (= the targets' logits before the step) to that target:
    #   task 0: -(.65 ln .3 + .35 ln .5) - (.65 ln .3 + .35 ln .2) = 1.025183 + 1.345885 = 2.371068
    #   task 1: -(.5 ln .3 + .5 ln .5) - (.5 ln .3 + .5 ln .2) = 0.948560 + 1.406705 = 2.355265
    learner, ls, batch = _c51_case()
    new, m = jax.jit(learner.update)(ls, batch, jax.random.key(1))
    np.testing.assert_allclose(m["task/target_q"], [0.35, 0.5], rtol=1e-5)
    ce0 = -(0.65 * math.log(0.3) + 0.35 * math.log(0.5)) - (0.65 * math.log(0.3) + 0.35 * math.log(0.2))
    ce1 = -(0.5 * math.log(0.3) + 0.5 * math.log(0.5)) - (0.5 * math.log(0.3) + 0.5 * math.log(0.2))
    np.testing.assert_allclose([ce0, ce1], [2.371068, 2.355265], rtol=1e-6)
    np.testing.assert_allclose(m["loss/critic"], 0.5 * (ce0 + ce1), rtol=1e-5)
    # Polyak tau 0.1 of the stepped critic
    np.testing.assert_allclose(new.target_params["l1"], 0.9 * ls.target_params["l1"] + 0.1 * new.critic_params["l1"],
                               rtol=1e-6)


def test_actor_steps_every_second_update():
    ts = envs.TaskSet(("a", "b"), (2, 2))
    cfg = fasttd3.TD3Config(batch_size=8, num_atoms=11)
    nets = fasttd3.make_networks(cfg, action_size=2, num_tasks=2, actor_net="mlp", critic_net="mlp",
                                 actor_kwargs={"hidden": (8,)}, critic_kwargs={"hidden": (8,)})
    learner = fasttd3.make_learner(cfg, nets, ts, obs_size=5, action_size=2)
    ls = learner.init(jax.random.key(0))
    k = jax.random.split(jax.random.key(1), 3)
    tm = jnp.concatenate([jax.random.normal(k[0], (2, 4, 3)), jnp.broadcast_to(jnp.eye(2)[:, None], (2, 4, 2))], -1)
    batch = replay.Transition(obs=tm, action=jax.random.uniform(k[1], (2, 4, 2), minval=-1), reward=jnp.ones((2, 4)),
                              next_obs=tm, done=jnp.zeros((2, 4)), n_steps=jnp.full((2, 4), 8.0))
    upd = jax.jit(learner.update)
    s1, m1 = upd(ls, batch, k[2])
    s2, m2 = upd(s1, batch, k[2])
    # MTBench's gradient_step % actor_update_freq == 1: the actor steps after the second critic update
    assert not bool(m1["actor_updated"]) and bool(m2["actor_updated"])
    for a, b in zip(jax.tree.leaves(s1.actor_params), jax.tree.leaves(ls.actor_params)):
        np.testing.assert_array_equal(a, b)
    changed = [not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(s2.actor_params), jax.tree.leaves(s1.actor_params))]
    assert all(changed)
    assert not np.array_equal(jax.tree.leaves(s1.critic_params)[0], jax.tree.leaves(ls.critic_params)[0])
    act = learner.act(s2, tm[0], jnp.zeros(4, jnp.int32), k[0])
    assert act.shape == (4, 2) and float(jnp.max(jnp.abs(act))) <= 1.0


def test_fasttd3_improves_the_toy_return():
    env = registry.make_env("toy", 32, num_tasks=4)
    cfg = fasttd3.TD3Config(horizon=4, gradient_steps=4, batch_size=256, buffer_size=20_000, n_step=3,
                            warmup_steps=200, gamma=0.9, lr_decay_steps=0, weight_decay=0.0, actor_lr=1e-3,
                            critic_lr=1e-3, num_atoms=51)
    nets = fasttd3.make_networks(cfg, action_size=2, num_tasks=4, actor_net="mlp", critic_net="mlp",
                                 actor_kwargs={"hidden": (64, 64)}, critic_kwargs={"hidden": (64, 64)})
    tr = off_policy.make_train(cfg, env, fasttd3.make_learner(cfg, nets, env.task_set, env.obs_size, 2))
    chunk = jax.jit(tr.train_chunk, static_argnums=1, compiler_options=OPTIMISED)
    s, m0 = chunk(tr.init(jax.random.key(0)), 300)
    s, m1 = chunk(s, 300)
    first, last = float(np.nanmean(m0["return"][:50])), float(np.nanmean(m1["return"][-100:]))
    assert first < -35.0, first
    assert last > -15.0, (first, last)
    assert not bool(np.any(m1["nonfinite"]))


def test_the_reward_scale_enters_the_c51_target_by_hand():
    # As the C51 test above, but task 0's return statistics say |G| reached 100: denominator max(std 1, 100 / 10)
    # = 10, so its sampled reward 0.5 becomes 0.05 and Tz = 0.05 + 0.5 z = (-0.45, 0.05, 0.55), projected on
    # (-1, 0, 1) as (.45, .55, 0), (0, .95, .05), (0, .45, .55):
    #   proj(p1 = .2, .3, .5) = (.09, .11 + .285 + .225, .015 + .275) = (.09, .62, .29), mean .20
    #   proj(p2 = .5, .3, .2) = (.225, .275 + .285 + .09, .015 + .11) = (.225, .65, .125), mean -.10 -> CDQ: -0.10
    # Task 1 (|G| max 0, std 1): denominator 1, reward 0.5, done: mass at 0.5, mean 0.5.
    learner, ls, batch = _c51_case()
    ls = ls.replace(reward_stats=ls.reward_stats.replace(ret_max=jnp.array([100.0, 0.0])))
    _, m = jax.jit(learner.update)(ls, batch, jax.random.key(1))
    np.testing.assert_allclose(m["task/target_q"], [-0.10, 0.5], rtol=1e-5, atol=1e-6)
    off = _c51_case(normalize_reward=False)[0]
    _, m_off = jax.jit(off.update)(ls, batch, jax.random.key(1))
    np.testing.assert_allclose(m_off["task/target_q"], [0.35, 0.5], rtol=1e-5)  # the unscaled case above


def test_learning_rates_follow_mtbench_per_iteration_cosine():
    # 100 iterations x 2 updates, actor every 2nd: the critic decays over 200 of its steps, the actor over 100 of
    # its own, so after iteration i both are at lr_end + (lr0 - lr_end) (1 + cos(pi i / 100)) / 2
    cfg = fasttd3.TD3Config(lr_decay_steps=200, policy_frequency=2, actor_lr=3e-4, critic_lr=1e-3, lr_end=3e-5)
    actor, critic = fasttd3.lr_schedules(cfg)
    for i in (0, 25, 50, 100):
        cos = (1 + math.cos(math.pi * i / 100)) / 2
        np.testing.assert_allclose(float(actor(i)), 3e-5 + (3e-4 - 3e-5) * cos, rtol=1e-5)
        np.testing.assert_allclose(float(critic(2 * i)), 3e-5 + (1e-3 - 3e-5) * cos, rtol=1e-5)
    assert fasttd3.lr_schedules(fasttd3.TD3Config(lr_decay_steps=0)) == (3e-4, 3e-4)


def test_exploration_noise_is_held_per_episode():
    ts = envs.TaskSet(("a", "b"), (2, 2))
    cfg = fasttd3.TD3Config(batch_size=8, std_min=0.1, std_max=0.4)
    learner = fasttd3.make_learner(cfg, _fake_nets(), ts, obs_size=3, action_size=2)
    ls = learner.init(jax.random.key(0))
    std0 = np.asarray(ls.noise_std)[:, 0]
    assert std0.shape == (4,) and np.all((std0 >= 0.1) & (std0 <= 0.4)) and len(set(std0.tolist())) == 4
    ls1 = learner.observe(ls, jnp.zeros(4), jnp.array([False, True, False, False]), jnp.array([0, 0, 1, 1]),
                          jax.random.key(2))
    std1 = np.asarray(ls1.noise_std)[:, 0]
    np.testing.assert_array_equal(std1[[0, 2, 3]], std0[[0, 2, 3]])  # running episodes keep their std
    assert std1[1] != std0[1] and 0.1 <= std1[1] <= 0.4  # the ended one draws a new one
    # act uses the held std: env 0 at std 0 acts exactly tanh(mu) = 0, the others are perturbed
    held = ls1.replace(noise_std=jnp.array([[0.0], [0.3], [0.3], [0.3]]))
    obs = jnp.zeros((4, 3))
    a = np.asarray(learner.act(held, obs, jnp.array([0, 0, 1, 1]), jax.random.key(3)))
    np.testing.assert_array_equal(a[0], [0.0, 0.0])
    assert np.all(a[1:] != 0.0)
    fresh = fasttd3.make_learner(fasttd3.TD3Config(batch_size=8, std_min=0.1, std_max=0.4, noise_per_episode=False),
                                 _fake_nets(), ts, obs_size=3, action_size=2)
    assert np.all(np.asarray(fresh.act(held, obs, jnp.array([0, 0, 1, 1]), jax.random.key(3)))[0] != 0.0)


@pytest.mark.parametrize("bad", [{"tau": 0.0}, {"policy_frequency": 0}, {"std_min": 0.5, "std_max": 0.1},
                                 {"num_atoms": 1}, {"v_min": 1.0, "v_max": 1.0}, {"lr_end": 0.0},
                                 {"noise_clip": -1.0}, {"n_step": 0},
                                 {"reward_norm_return": "agent"}, {"reward_norm_g_max": 0.0}])
def test_bad_config_raises(bad):
    with pytest.raises(ValueError, match="TD3Config"):
        fasttd3.TD3Config(**bad)
