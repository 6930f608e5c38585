"""``--config.init_params_from``: MTBench's two-stage protocol (train, then start a new run from its network)."""

import jax
import numpy as np
import pytest
from toy_run import toy_run_config

from experiments import common, train
from mtjax import checkpoint


def _cfg(folder, **over):
    return toy_run_config(folder, 2, **over)


def test_second_stage_starts_from_the_first_stage_network(tmp_path):
    train.run(_cfg(tmp_path / "stage1"))
    _, raw, _, _ = checkpoint.read_raw(str(tmp_path / "stage1"))
    rc = common.typed(_cfg(tmp_path / "stage2", seed=7, init_params_from=str(tmp_path / "stage1")))
    env = common.build_env(rc)
    fresh = jax.jit(common.build_trainer(rc, env).init)(jax.random.key(7))
    started = common.init_params_from(rc, fresh)
    want = jax.tree.leaves(raw["learner"]["params"])
    got = jax.tree.leaves(started.learner.params)
    assert len(got) == len(want) > 0
    for x, y in zip(got, want):
        np.testing.assert_array_equal(np.asarray(x), y)
    # only the network: the optimiser state is the fresh one (Adam's step count 0), not stage 1's
    counts = [np.asarray(x) for x in jax.tree.leaves(started.learner.opt_state) if np.asarray(x).dtype == np.int32]
    assert counts and all(int(c.max()) == 0 for c in counts)
    # through the CLI: the run trains from there (its first logged loss differs from a fresh seed-7 run's)
    train.run(_cfg(tmp_path / "stage2", seed=7, init_params_from=str(tmp_path / "stage1")))
    train.run(_cfg(tmp_path / "fresh7", seed=7))
    a = checkpoint.read_raw(str(tmp_path / "stage2"))[1]["learner"]["params"]
    b = checkpoint.read_raw(str(tmp_path / "fresh7"))[1]["learner"]["params"]
    assert not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_mismatched_network_and_bad_combinations_are_one_line_errors(tmp_path):
    train.run(_cfg(tmp_path / "stage1"))
    over = {"init_params_from": str(tmp_path / "stage1")}
    d = _cfg(tmp_path / "wide", **over)
    d["net"]["actor_kwargs"] = {"hidden": (48, 48)}
    rc = common.typed(d)
    state = jax.jit(common.build_trainer(rc, common.build_env(rc)).init)(jax.random.key(0))
    with pytest.raises(ValueError, match="its parameters do not fit this run's networks") as e:
        common.init_params_from(rc, state)
    assert "\n" not in str(e.value) and "expected" in str(e.value)
    with pytest.raises(ValueError, match="init_params_from works for algo ppo, grpo or pqn with num_seeds 1"):
        common.typed(_cfg(tmp_path / "x", num_seeds=2, **over))
