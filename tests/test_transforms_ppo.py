"""The transforms inside MT-PPO on the toy env: end-to-end runs log diagnostics; PCGrad PPO learns."""

import time

import jax
import numpy as np
import pytest

from envs_bridge import registry
from mtjax import nets
from mtjax.algos import on_policy, ppo


def _trainer(mtrl, num_envs=64, tasks=4, hidden=(32, 32), mtrl_kwargs=(), **kw):
    env = registry.make_env("toy", num_envs, num_tasks=tasks)
    cfg = ppo.PPOConfig(**{"horizon": 8, "epochs": 2, "minibatch_size": 128, "lr": 1e-3, "entropy_coef": 0.0,
                                  "mtrl": mtrl, "mtrl_kwargs": tuple(mtrl_kwargs), **kw})
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=tasks,
                                               actor_kwargs={"hidden": hidden}, critic_kwargs={"hidden": hidden})
    return on_policy.make_train(cfg, env, init_fn, apply_fn)


@pytest.mark.parametrize("mtrl,kwargs", [("pcgrad", ()), ("cagrad", (("num_iters", 20),)),
                                         ("famo", (("variant", "mtbench"),))])
def test_short_run_logs_diagnostics(mtrl, kwargs):
    tr = _trainer(mtrl, mtrl_kwargs=kwargs)
    state, m = jax.jit(tr.train_chunk, static_argnums=1)(tr.init(jax.random.key(0)), 2)
    assert f"mtrl/{mtrl}/num_conflicts" in m and f"mtrl/{mtrl}/task_weights/3" in m
    assert m[f"mtrl/{mtrl}/min_cosine"].shape == (2,)
    assert not bool(np.asarray(m["nonfinite"]).any())
    assert np.all(np.asarray(m[f"mtrl/{mtrl}/min_cosine"]) >= -1.0 - 1e-5)
    # The method acted on the critic: its weights are a proper distribution over the 4 tasks.
    w = np.stack([np.asarray(m[f"mtrl/{mtrl}/task_weights/{i}"])[-1] for i in range(4)])
    assert np.all(np.isfinite(w)) and w.sum() > 0
    if mtrl == "famo":
        assert not np.allclose(np.asarray(state.learner.opt_state[0].inner_states["critic"].inner_state.logits), 0)


def test_pcgrad_ppo_improves_toy_return_quickly():
    # STYLE 39: the learning itself takes well under 30 s on 2 CPU cores; compile time is excluded from the
    # bound because the shared CI machine's load makes it vary by several x.
    tr = _trainer("pcgrad", num_envs=256, hidden=(64, 64), horizon=16, epochs=4, minibatch_size=1024)
    state = tr.init(jax.random.key(1))
    chunk = jax.jit(tr.train_chunk, static_argnums=1).lower(state, 10).compile()
    start = time.perf_counter()
    state, m0 = chunk(state)
    for _ in range(3):
        state, m = chunk(state)
    elapsed = time.perf_counter() - start
    first, last = float(np.mean(np.asarray(m0["reward"])[:3])), float(np.mean(np.asarray(m["reward"])[-3:]))
    assert last > first + 0.2 * abs(first) + 1e-3, (first, last)
    assert float(np.nanmean(np.asarray(m["success"])[-3:])) > float(np.nanmean(np.asarray(m0["success"])))
    assert elapsed < 30.0, elapsed
