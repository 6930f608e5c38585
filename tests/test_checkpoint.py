"""Checkpoint round trip, bitwise resume, NaN stop with the last good checkpoint intact."""

import json
import logging

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge import registry, toy
from experiments import train
from experiments.configs import toy_ppo
from mtjax import checkpoint, envs


def _config(run_dir, total, **over):
    c = toy_ppo.get_config("smoke")
    c.run_dir = str(run_dir)
    c.total_iterations = total
    c.iters_per_call = 5
    c.checkpoint_every = 5
    c.env.num_envs = 32
    c.ppo.minibatch_size = 128
    c.ppo.horizon = 8
    c.ppo.epochs = 2
    c.tensorboard = False
    c.progress = False
    c.plot = False
    for k, v in over.items():
        setattr(c, k, v)
    return c


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def _plain_leaves(tree):
    """Leaves with typed PRNG keys as their key data (NumPy cannot hold typed keys)."""
    return _leaves(jax.tree.map(
        lambda z: jax.random.key_data(z) if jax.dtypes.issubdtype(z.dtype, jax.dtypes.prng_key) else z, tree))


def _by_path(tree):
    """Leaves by path, quotes dropped (orbax stores a tuple's items under the keys "0", "1", ...)."""
    return {jax.tree_util.keystr(p).replace("'", ""): np.asarray(x)
            for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def test_round_trip_restores_equal_state_with_typed_key(tmp_path):
    from mtjax import nets
    from mtjax.algos import on_policy, ppo

    env = registry.make_env("toy", 8, num_tasks=2)
    i, a = nets.make_actor_critic(actor_net="mlp", critic_net="multihead", action_size=2, num_tasks=2,
                                  actor_kwargs={"hidden": (8,)}, critic_kwargs={"hidden": (8,)})
    tr = on_policy.make_train(ppo.PPOConfig(horizon=4, epochs=1, minibatch_size=16), env, i, a)
    s, _ = jax.jit(tr.train_chunk, static_argnums=1)(tr.init(jax.random.key(0)), 1)
    ck = checkpoint.Checkpointer(str(tmp_path))
    ck.save(1, s, {"name": "x"}, {"success": 0.25})
    r, cfg, met = ck.restore(jax.eval_shape(tr.init, jax.random.key(0)))
    ck.close()
    assert cfg == {"name": "x"} and met == {"success": 0.25}
    assert jax.dtypes.issubdtype(r.key.dtype, jax.dtypes.prng_key)
    np.testing.assert_array_equal(jax.random.key_data(r.key), jax.random.key_data(s.key))
    np.testing.assert_array_equal(jax.random.key_data(r.env_state.key), jax.random.key_data(s.env_state.key))
    assert jax.tree.structure(r) == jax.tree.structure(s)
    for x, y in zip(_plain_leaves(r), _plain_leaves(s)):
        np.testing.assert_array_equal(x, y)


def test_zero_size_leaves_round_trip(tmp_path):
    state = {"empty": jnp.zeros((4, 0), jnp.float32), "x": jnp.arange(3), "k": jax.random.key(5)}
    ck = checkpoint.Checkpointer(str(tmp_path))
    ck.save(0, state, {})
    r, _, _ = ck.restore(jax.eval_shape(lambda: state))
    ck.close()
    assert r["empty"].shape == (4, 0) and r["empty"].dtype == jnp.float32
    np.testing.assert_array_equal(r["x"], state["x"])
    np.testing.assert_array_equal(jax.random.key_data(r["k"]), jax.random.key_data(state["k"]))


def test_resume_equals_uninterrupted_bitwise(tmp_path):
    full = tmp_path / "full"
    part = tmp_path / "part"
    train.run(_config(full, 10))
    train.run(_config(part, 5))
    assert checkpoint.latest_step(str(part)) == 5
    # mark iteration 5's wall clock: the resumed process must continue from it (the run's time over its processes)
    with open(part / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    rows[-1]["wall_s"] = 1e6
    with open(part / "metrics.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    train.run(_config(part, 10), resume=True)
    a, _, ma = checkpoint.restore_raw(str(full))
    b, _, mb = checkpoint.restore_raw(str(part))
    assert int(a["iteration"]) == int(b["iteration"]) == 10
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb) and len(la) > 10
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(x, y)
    timing = {"wall_s", "env_steps_per_s", "device_peak_bytes"}
    assert {k: v for k, v in ma.items() if k not in timing} == {k: v for k, v in mb.items() if k not in timing}
    with open(part / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    assert [r["iteration"] for r in rows] == list(range(1, 11))
    walls = [r["wall_s"] for r in rows]
    assert walls[4] == 1e6 and walls[5:] == sorted(walls[5:]) and 1e6 < walls[5] < 1e6 + 600


def test_an_earlier_step_export_carries_the_metrics_up_to_that_step(tmp_path):
    full, slim = tmp_path / "full", tmp_path / "slim"
    train.run(_config(full, 10))
    assert checkpoint.export_learner(str(full), str(slim), step=5) == 5
    with open(full / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    with open(slim / "metrics.jsonl") as f:
        assert [json.loads(line) for line in f] == rows[:5] and len(rows) == 10


class _NaNAfter(toy.PointReach):
    """The toy env, but every reward becomes NaN once ``limit`` total steps have been taken."""

    def __init__(self, task_set, limit, **kw):
        super().__init__(task_set, **kw)
        self.limit = limit

    def reset(self, key):
        s = super().reset(key)
        return s.replace(sim=(s.sim, jnp.zeros((), jnp.int32)))

    def step(self, state, action):
        sim, count = state.sim
        out = super().step(state.replace(sim=sim), action)
        reward = jnp.where(count >= self.limit, jnp.nan, out.reward)
        return out.replace(sim=(out.sim, count + 1), reward=reward)


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    registry.register("toy_nan", lambda num_envs, **kw: _NaNAfter(
        envs.TaskSet.even(("a", "b"), num_envs), limit=8 * 7, episode_length=10))
    c = _config(tmp_path, 20)
    c.env.name = "toy_nan"
    c.env.kwargs = {}
    with pytest.raises(train.NonFiniteError, match="iteration 8"):
        train.run(c)
    assert checkpoint.latest_step(str(tmp_path)) == 5
    st, _, _ = checkpoint.restore_raw(str(tmp_path))
    assert int(st["iteration"]) == 5
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(st["learner"]["params"]))


def test_export_learner_keeps_only_the_learner_and_evaluates_the_same(tmp_path, caplog):
    from experiments import evaluate

    full = tmp_path / "full"
    train.run(_config(full, 5))
    with caplog.at_level(logging.WARNING):
        n = checkpoint.export_learner(str(full), str(tmp_path / "slim"))
    assert n == 5
    # reading the array metadata of the "state" item used to log a warning about a file one directory up
    assert not [r for r in caplog.records if "_CHECKPOINT_METADATA" in r.getMessage()], caplog.text
    a, cfg_a, met_a = checkpoint.restore_raw(str(full))
    b, cfg_b, met_b = checkpoint.restore_raw(str(tmp_path / "slim"))
    assert set(b) == {"learner"} and "env_state" in a
    assert cfg_a == cfg_b and met_a == met_b
    la, lb = _leaves(a["learner"]), _leaves(b["learner"])
    assert len(la) == len(lb) > 4
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(x, y)
    assert evaluate.evaluate(str(full), episodes=2) == evaluate.evaluate(str(tmp_path / "slim"), episodes=2)


def test_a_learner_export_continues_the_learner_with_fresh_envs(tmp_path, capsys):
    """A learner-only export (what a device call can carry between machines) resumes: the learner and the iteration
    come from the export, the envs start from the fresh init's episodes, the trainer key is folded with the step."""
    import functools

    from experiments import common

    full, slim = tmp_path / "full", tmp_path / "slim"
    train.run(_config(full, 5))
    assert checkpoint.export_learner(str(full), str(slim)) == 5
    assert checkpoint.state_keys(str(slim), 5) == {"learner"}
    assert {"learner", "env_state", "key", "iteration"} <= checkpoint.state_keys(str(full), 5)

    rc = common.typed(_config(slim, 10))
    env = common.build_env(rc)
    trainer = common.build_trainer(rc, env)
    init = functools.partial(trainer.init, jax.random.key(rc.seed))
    ckpt = checkpoint.Checkpointer(rc.directory)
    try:
        state = common.resume_learner_only(rc, ckpt, init)
    finally:
        ckpt.close()
    assert "learner-only checkpoint" in capsys.readouterr().err
    fresh = jax.jit(init)()
    exported, _, _ = checkpoint.restore_raw(str(slim))
    ours = _by_path(flax.serialization.to_state_dict(state.learner))
    want = _by_path(exported["learner"])
    assert ours.keys() == want.keys() and len(ours) > 4
    for k in ours:
        np.testing.assert_array_equal(ours[k].reshape(want[k].shape), want[k], err_msg=k)
    assert any(not np.array_equal(x, y) for x, y in zip(_leaves(state.learner.params), _leaves(fresh.learner.params)))
    for x, y in zip(_plain_leaves(state.env_state), _plain_leaves(fresh.env_state), strict=True):
        np.testing.assert_array_equal(x, y)
    assert int(state.iteration) == 5
    assert not np.array_equal(jax.random.key_data(state.key), jax.random.key_data(fresh.key))

    # the export carries the run's metrics up to its step; the CLI path: --resume in the export's directory trains
    # iterations 6-10 and appends exactly those, wall_s continuing from iteration 5's
    with open(full / "metrics.jsonl") as f:
        first = [json.loads(line) for line in f]
    with open(slim / "metrics.jsonl") as f:
        assert [json.loads(line) for line in f] == first[:5]
    rec = train.run(_config(slim, 10), resume=True)
    assert rec["iteration"] == 10 and checkpoint.latest_step(str(slim)) == 10
    with open(slim / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    assert [r["iteration"] for r in rows] == list(range(1, 11)) and rows[:5] == first[:5]
    assert rows[5]["wall_s"] > rows[4]["wall_s"] > 0
    # a full checkpoint takes the ordinary (bit-exact) resume path
    rc_full = common.typed(_config(full, 10))
    ckpt = checkpoint.Checkpointer(rc_full.directory)
    try:
        assert common.resume_learner_only(rc_full, ckpt, init) is None
    finally:
        ckpt.close()


def test_resume_compares_only_the_section_the_algo_reads(tmp_path):
    # another learner's defaults may change between versions (session 24 changed FastTD3's): a PPO run resumes
    import ml_collections

    from mtjax import run_dir as rundir

    part = tmp_path / "part"
    train.run(_config(part, 5))
    c = _config(part, 10)
    c.td3 = ml_collections.ConfigDict({"weight_decay": 0.5, "warmup_steps": 3})
    c.sac = ml_collections.ConfigDict({"tau": 0.5})
    assert train.run(c, resume=True)["iteration"] == 10
    c = _config(part, 15)
    c.ppo.epochs = 3  # the section PPO reads: refused, named
    with pytest.raises(rundir.RunDirError, match="ppo.epochs: 2 -> 3"):
        train.run(c, resume=True)
