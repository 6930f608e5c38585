"""mtjax.multi_seed: S seeds in one program equal S single-seed runs (STYLE rule 37)."""

import jax
import numpy as np
import pytest
from toy_run import toy_run_config

from envs_bridge import registry
from mtjax import multi_seed, nets
from mtjax.algos import on_policy, ppo


def _trainer():
    env = registry.make_env("toy", 16, num_tasks=2)
    cfg = ppo.PPOConfig(horizon=8, epochs=2, minibatch_size=64, lr=1e-3, entropy_coef=0.0)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=2,
                                               actor_kwargs={"hidden": (16,)}, critic_kwargs={"hidden": (16,)})
    return on_policy.make_train(cfg, env, init_fn, apply_fn, total_iterations=3)


def test_seed_keys_rows_are_the_single_run_keys():
    keys = multi_seed.seed_keys(42, 3)
    assert keys.shape == (3,)
    for k in range(3):
        np.testing.assert_array_equal(jax.random.key_data(keys[k]), jax.random.key_data(jax.random.key(42 + k)))
    with pytest.raises(ValueError, match="num_seeds must be >= 1"):
        multi_seed.seed_keys(0, 0)


def test_two_seeds_in_one_program_equal_two_runs():
    tr = _trainer()
    stacked = jax.jit(multi_seed.vmap_init(tr.init, seed=7, num_seeds=2))()
    chunk = jax.jit(multi_seed.vmap_chunk(tr.train_chunk), static_argnums=1)
    sv, mv = chunk(stacked, 3)
    assert mv["loss/total"].shape == (2, 3) and np.asarray(sv.iteration).tolist() == [3, 3]
    single = jax.jit(tr.train_chunk, static_argnums=1)
    for k in range(2):
        s1, m1 = single(tr.init(jax.random.key(7 + k)), 3)
        got = multi_seed.select(sv, k)
        # vmap may reassociate float sums (batched matmuls): equal to float32 rounding after 3 PPO iterations
        for x, y in zip(jax.tree.leaves(got.learner.params), jax.tree.leaves(s1.learner.params)):
            np.testing.assert_allclose(x, y, rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(multi_seed.select(mv, k)["loss/total"], m1["loss/total"], rtol=1e-4, atol=1e-6)
    # the two seeds differ (the rows are not one run twice)
    a, b = (jax.tree.leaves(multi_seed.select(sv, k).learner.params)[0] for k in range(2))
    assert not np.allclose(a, b)


def test_seed_dir():
    assert multi_seed.seed_dir("runs/x/", 43) == "runs/x/seed_43"


def _toy_cfg(folder, **over):
    """The toy run through ``experiments.train.run`` (``toy_run.py``), 6 iterations unless ``over`` says."""
    return toy_run_config(folder, over.pop("total_iterations", 6), **over)


def _rows(path):
    import json

    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_cli_num_seeds_logs_each_seed_like_its_own_run_and_resumes(tmp_path):
    import os

    from experiments import common, evaluate, train

    both = tmp_path / "both"
    train.run(_toy_cfg(both, seed=5, num_seeds=2))
    for s in (5, 6):
        rows = _rows(both / f"seed_{s}" / "metrics.jsonl")
        assert [r["iteration"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert not os.path.exists(both / "metrics.jsonl")
    # seed 6 of the pair is the single run with --config.seed=6 (float32 rounding under vmap)
    single = tmp_path / "single6"
    train.run(_toy_cfg(single, seed=6))
    got = [r["loss/total"] for r in _rows(both / "seed_6" / "metrics.jsonl")]
    want = [r["loss/total"] for r in _rows(single / "metrics.jsonl")]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    # resume: 4 iterations, then --resume to 6, equals the uninterrupted pair; logs without duplicates
    part = tmp_path / "part"
    train.run(_toy_cfg(part, seed=5, num_seeds=2, total_iterations=4))
    train.run(_toy_cfg(part, seed=5, num_seeds=2), resume=True)
    for s in (5, 6):
        rows = _rows(part / f"seed_{s}" / "metrics.jsonl")
        assert [r["iteration"] for r in rows] == [1, 2, 3, 4, 5, 6]
        np.testing.assert_allclose([r["loss/total"] for r in rows],
                                   [r["loss/total"] for r in _rows(both / f"seed_{s}" / "metrics.jsonl")],
                                   rtol=1e-5, atol=1e-7)
    # evaluate picks a seed; a bad index is one clear error
    res = evaluate.evaluate(str(both), episodes=1, seed_index=1)
    assert len(res) == 4 and all(r["episodes"] == 1 for r in res.values())
    with pytest.raises(ValueError, match=r"seed_index=2: the run has 2 seed\(s\)"):
        common.restore_policy(str(both), 1, seed_index=2)


def test_num_seeds_config_errors():
    from experiments import common

    with pytest.raises(ValueError, match="config.num_seeds must be >= 1"):
        common.typed(_toy_cfg("/tmp/x", num_seeds=0))
    with pytest.raises(ValueError, match="num_seeds=2 runs on env_backend='jax' with num_devices 0 or 1"):
        common.typed(_toy_cfg("/tmp/x", num_seeds=2, num_devices=2))
