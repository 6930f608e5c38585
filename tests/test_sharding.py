"""Several devices (mtjax.sharding) on CPU: ``--xla_force_host_platform_device_count=4`` in a subprocess.

The sharded trainer is the same program with the env axis split over a mesh; it must give the one-device results
up to float reduction order. Tolerance: parameters after two iterations agree to atol 1e-6 — float32 sums over the
<= 1,024 samples of a minibatch carry rounding of order 1e-7 relative per reordering, and the parameters are O(1);
a wrong aggregation (e.g. a per-device gradient not summed over devices) changes them by ~1e-3 or more.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import pytest
from compile_options import SUITE_FLAGS

from mtjax import sharding

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import json, os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4 " + os.environ.get("XLA_FLAGS", "")
    import jax, numpy as np
    from envs_bridge import toy
    from mtjax import checkpoint, envs, nets, sharding
    from mtjax.algos import on_policy, ppo

    out = {"devices": len(jax.devices())}
    env = toy.PointReach(envs.TaskSet.even(("a", "b", "c", "d"), 32), episode_length=5)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=4,
                                               actor_kwargs={"hidden": (16,)}, critic_kwargs={"hidden": (16,)})
    key = jax.random.key(0)

    def flat(tree):
        return np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree.leaves(tree)])

    for method in ("mean", "pcgrad"):
        cfg = ppo.PPOConfig(horizon=8, epochs=2, minibatch_size=64, mtrl=method)
        tr = on_policy.make_train(cfg, env, init_fn, apply_fn)
        chunk = jax.jit(tr.train_chunk, static_argnums=1)
        one, m1 = chunk(jax.jit(tr.init)(key), 2)
        mesh = sharding.env_mesh(4)
        four0 = sharding.shard_train_state(jax.jit(tr.init)(key), mesh)
        four, m4 = chunk(four0, 2)
        out[method] = {
            "param_diff": float(np.max(np.abs(flat(one.learner.params) - flat(four.learner.params)))),
            "stats_diff": float(np.max(np.abs(flat(one.learner.obs_stats) - flat(four.learner.obs_stats)))),
            "loss": [float(m1["loss/total"][-1]), float(m4["loss/total"][-1])],
            "obs_spec": str(four.env_state.obs.sharding.spec),
            "rows_per_device": sorted({s.data.shape[0] for s in four.env_state.obs.addressable_shards}),
        }
    d = sys.argv[1]
    ck = checkpoint.Checkpointer(d)
    ck.save(2, four, {"x": 1})
    ck.close()
    np.save(os.path.join(d, "params.npy"), flat(four.learner.params))
    print(json.dumps(out))
""")

RESTORE = textwrap.dedent("""
    import json, os, sys
    import jax, numpy as np
    from envs_bridge import toy
    from mtjax import checkpoint, envs, nets
    from mtjax.algos import on_policy, ppo

    env = toy.PointReach(envs.TaskSet.even(("a", "b", "c", "d"), 32), episode_length=5)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=4,
                                               actor_kwargs={"hidden": (16,)}, critic_kwargs={"hidden": (16,)})
    tr = on_policy.make_train(ppo.PPOConfig(horizon=8, epochs=2, minibatch_size=64, mtrl="pcgrad"), env, init_fn,
                              apply_fn)
    st, _, _ = checkpoint.Checkpointer(sys.argv[1]).restore(jax.eval_shape(tr.init, jax.random.key(0)))
    flat = np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree.leaves(st.learner.params)])
    ref = np.load(os.path.join(sys.argv[1], "params.npy"))
    print(json.dumps({"devices": len(jax.devices()), "iteration": int(st.iteration),
                      "equal": bool(np.array_equal(flat, ref))}))
""")


def _run(script, *args):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env["XLA_FLAGS"] = SUITE_FLAGS  # the suite's (conftest.py); the script adds its device count
    p = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=600,
                       cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("sharded"))
    return d, _run(SCRIPT, d)


@pytest.mark.parametrize("method", ["mean", "pcgrad"])
def test_four_devices_match_one(four_devices, method):
    _, out = four_devices
    r = out[method]
    assert out["devices"] == 4
    assert r["obs_spec"] in ("P('envs',)", "PartitionSpec('envs',)") and r["rows_per_device"] == [8]  # 32 envs / 4 devices
    assert r["param_diff"] < 1e-6 and r["stats_diff"] < 1e-6
    assert r["loss"][0] == pytest.approx(r["loss"][1], rel=1e-5)


def test_checkpoint_saved_on_four_devices_restores_on_one(four_devices):
    d, _ = four_devices
    r = _run(RESTORE, d)
    assert r == {"devices": 1, "iteration": 2, "equal": True}


def test_num_devices_is_checked():
    assert sharding.resolve_num_devices(0) == len(jax.devices())
    with pytest.raises(ValueError, match=r"valid 0 \(all\) or 1\.\."):
        sharding.resolve_num_devices(len(jax.devices()) + 1)


def test_cli_run_on_four_devices_matches_one(tmp_path):
    """``--config.num_devices=4`` trains the same run as one device (toy config, 4 iterations)."""
    env = {**os.environ, "PYTHONPATH": ROOT, "XLA_FLAGS": f"--xla_force_host_platform_device_count=4 {SUITE_FLAGS}"}
    flags = ["--config.total_iterations=4", "--config.iters_per_call=2", "--config.checkpoint_every=4",
             "--config.env.num_envs=32", "--config.ppo.minibatch_size=128", "--config.ppo.horizon=8",
             "--config.ppo.epochs=2", "--config.tensorboard=False", "--config.progress=False", "--config.plot=False"]
    params = []
    for n in (1, 4):
        d = tmp_path / f"n{n}"
        p = subprocess.run([sys.executable, "-m", "experiments.train", "--config=experiments/configs/toy_ppo.py:smoke",
                            f"--config.run_dir={d}", f"--config.num_devices={n}", *flags],
                           capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
        assert p.returncode == 0, p.stderr[-3000:]
        assert ("envs split over 4 devices" in p.stdout) == (n == 4)
        from mtjax import checkpoint

        st, cfg, _ = checkpoint.restore_raw(str(d))
        assert int(st["iteration"]) == 4 and cfg["num_devices"] == n
        params.append(jax.tree.leaves(st["learner"]["params"]))
    for a, b in zip(*params):
        assert abs(a - b).max() < 1e-5  # 4 iterations of float32 reordering, O(1) parameters (module docstring)
