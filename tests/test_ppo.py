"""MT-PPO learner and jitted trainer on the toy env (CPU-sized)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge import registry
from mtjax import envs, nets
from mtjax.algos import batching, on_policy, ppo

SMALL = dict(actor_kwargs={"hidden": (32, 32)}, critic_kwargs={"hidden": (32, 32)})


def _trainer(num_envs=64, tasks=4, **kw):
    env = registry.make_env("toy", num_envs, num_tasks=tasks)
    cfg = ppo.PPOConfig(**{**dict(horizon=8, epochs=2, minibatch_size=128, lr=1e-3, entropy_coef=0.0), **kw})
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=tasks,
                                               **SMALL)
    return env, on_policy.make_train(cfg, env, init_fn, apply_fn, total_iterations=2)


def test_toy_env_is_learned():
    env = registry.make_env("toy", 256, num_tasks=4)
    cfg = ppo.PPOConfig(horizon=16, epochs=4, minibatch_size=1024, lr=1e-3, entropy_coef=0.0)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=4,
                                               actor_kwargs={"hidden": (64, 64)}, critic_kwargs={"hidden": (64, 64)})
    tr = on_policy.make_train(cfg, env, init_fn, apply_fn)
    chunk = jax.jit(tr.train_chunk, static_argnums=1)
    s, m0 = chunk(tr.init(jax.random.key(0)), 5)
    first = float(np.nanmean(m0["success"]))  # 5 iterations x 16 steps: 2 episodes of 40
    for _ in range(5):
        s, m = chunk(s, 10)
    last = float(m["success"][-1])
    assert first < 0.2, first
    assert last >= 0.9, last
    assert np.all(np.isfinite(np.asarray(m["loss/total"])))
    assert not bool(np.asarray(m["nonfinite"]).any())


def test_update_is_deterministic_under_a_fixed_key():
    env, tr = _trainer()
    s = tr.init(jax.random.key(3))
    run = jax.jit(tr.train_chunk, static_argnums=1)
    a, ma = run(s, 1)
    b, mb = run(s, 1)
    for x, y in zip(jax.tree.leaves(a.learner), jax.tree.leaves(b.learner)):
        np.testing.assert_array_equal(x, y)
    c, _ = run(tr.init(jax.random.key(4)), 1)
    assert not np.array_equal(jax.tree.leaves(c.learner.params)[0], jax.tree.leaves(a.learner.params)[0])


def test_vmap_over_seeds_matches_single_runs():
    _, tr = _trainer(num_envs=16, minibatch_size=64)
    keys = jax.random.split(jax.random.key(0), 2)
    sv, _ = jax.jit(jax.vmap(tr.train))(keys)
    s1, _ = jax.jit(tr.train)(keys[1])
    for x, y in zip(jax.tree.leaves(sv.learner.params), jax.tree.leaves(s1.learner.params)):
        np.testing.assert_allclose(x[1], y, rtol=2e-5, atol=2e-6)


def test_gradient_path_mean_equals_gradient_of_mean_loss():
    """With the default ``mean`` transform, the task-major per-task gradients average to the full-batch gradient."""
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=2, **SMALL)
    x = jax.random.normal(jax.random.key(0), (2, 5, 4))
    tid = jnp.repeat(jnp.arange(2)[:, None], 5, 1)
    params = init_fn(jax.random.key(1), x[0], tid[0])

    def loss(p, xb, tb):
        mu, _, v = apply_fn(p, xb, tb)
        return jnp.mean(mu ** 2) + jnp.mean(v ** 2)

    per_task = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(params, x, tid)
    from mtjax import transforms
    agg = transforms.mean()
    upd, _ = agg.update(per_task, agg.init(params), params)
    full = jax.grad(loss)(params, x.reshape(10, 4), tid.reshape(10))
    for u, g in zip(jax.tree.leaves(upd), jax.tree.leaves(full)):
        np.testing.assert_allclose(u, g, rtol=1e-5, atol=1e-7)


def test_task_major_layout_balances_uneven_tasks():
    ts = envs.TaskSet(("a", "b"), (3, 2))
    lay = batching.TaskMajorLayout.build(ts, horizon=4, minibatch_size=8)
    # 20 samples / 8 -> 2 minibatches (rounded 2.5 -> 2); smallest task has 2*4 = 8 samples -> 4 per minibatch.
    assert (lay.num_minibatches, lay.per_task) == (2, 4)
    tid = jnp.broadcast_to(jnp.asarray(ts.task_ids), (4, 5))
    env_idx = jnp.broadcast_to(jnp.arange(5), (4, 5))
    mb = lay.minibatches({"tid": tid, "env": env_idx}, jax.random.key(0))
    assert mb["tid"].shape == (2, 2, 4)
    np.testing.assert_array_equal(mb["tid"][:, 0], 0)
    np.testing.assert_array_equal(mb["tid"][:, 1], 1)
    # task 1 owns envs 3, 4 and all 8 of its samples are used exactly once.
    assert sorted(np.asarray(mb["env"][:, 1]).reshape(-1).tolist()) == [3] * 4 + [4] * 4


@pytest.mark.parametrize("bad", [dict(horizon=0), dict(lr=-1.0), dict(lr_schedule="cosine"), dict(gamma=1.5),
                                 dict(mtrl_target="trunk")])
def test_bad_ppo_config_raises(bad):
    with pytest.raises(ValueError):
        ppo.PPOConfig(**bad)


def test_unknown_names_list_valid_choices():
    with pytest.raises(ValueError, match="valid: .*mlp"):
        nets.make_actor_critic(actor_net="nope", critic_net="mlp", action_size=2, num_tasks=2)
    with pytest.raises(ValueError, match="valid"):
        ppo.make_transform(ppo.PPOConfig(mtrl="nope"), 2)
    with pytest.raises(ValueError, match="minibatch"):
        batching.TaskMajorLayout.build(envs.TaskSet(("a", "b"), (1, 1)), horizon=2, minibatch_size=1)


def test_adaptive_lr_moves_with_kl():
    _, tr = _trainer(lr_schedule="adaptive", lr=1e-2, kl_threshold=1e-6)
    s, m = jax.jit(tr.train_chunk, static_argnums=1)(tr.init(jax.random.key(0)), 2)
    # KL far above the threshold -> lr divided by 1.5 after each of the 2 epochs per iteration (4 times).
    np.testing.assert_allclose(float(s.learner.lr), 1e-2 / 1.5 ** 4, rtol=1e-5)
