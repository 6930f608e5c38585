"""PCGrad: hand-worked cases, agreement with the sequential reference algorithm, diagnostics, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mtjax import transforms as mt


def _run(agg, grads, key=0, **extra):
    state = agg.init(jax.tree.map(lambda g: g[0], grads))
    return agg.update(grads, state, key=jax.random.key(key), **extra)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_case_two_tasks(seed):
    # g1 = (1, 0), g2 = (-1, 1): <g1, g2> = -1 < 0 (they conflict).
    # g1' = g1 - <g1,g2>/|g2|^2 g2 = (1,0) + 1/2 (-1,1) = (0.5, 0.5)
    # g2' = g2 - <g2,g1>/|g1|^2 g1 = (-1,1) + 1 (1,0) = (0, 1)
    # Self-projections never fire (<g1', g1> = 0.5 > 0, <g2', g2> = 1 > 0), so every order gives
    # mean = ((0.5 + 0)/2, (0.5 + 1)/2) = (0.25, 0.75); sum = (0.5, 1.5).
    g = {"w": jnp.array([[1.0, 0.0], [-1.0, 1.0]])}
    upd, state = _run(mt.pcgrad(), g, key=seed)
    np.testing.assert_allclose(upd["w"], [0.25, 0.75], atol=1e-6)
    upd, _ = _run(mt.pcgrad(reduction="sum"), g, key=seed)
    np.testing.assert_allclose(upd["w"], [0.5, 1.5], atol=1e-6)
    # One conflicting pair; cosine = -1/(1*sqrt(2)).
    assert int(optax.tree.get(state, "num_conflicts")) == 1
    np.testing.assert_allclose(optax.tree.get(state, "min_cosine"), -1 / np.sqrt(2), atol=1e-6)


def test_non_conflicting_is_mean():
    # All pairwise dots >= 0: (1,0).(1,1) = 1, (1,0).(0,2) = 0, (1,1).(0,2) = 2 -> no projection happens.
    g = {"w": jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])}
    upd, state = _run(mt.pcgrad(num_tasks=3), g)
    np.testing.assert_allclose(upd["w"], [2 / 3, 1.0], atol=1e-6)
    assert int(state.num_conflicts) == 0
    np.testing.assert_allclose(state.task_weights, [1 / 3] * 3, atol=1e-6)


def _reference(gs, perms):
    """The official/MTBench loop on flat vectors, with given visiting orders."""
    out = []
    for i in range(len(gs)):
        gi = gs[i].copy()
        for j in perms[i]:
            d = gi @ gs[j]
            if d < 0:
                gi = gi - d / (gs[j] @ gs[j]) * gs[j]
        out.append(gi)
    return np.mean(out, axis=0)


@pytest.mark.parametrize("seed", range(4))
def test_matches_sequential_reference(seed):
    rng = np.random.default_rng(seed)
    t = 5
    base = rng.normal(size=(1, 7))
    gs = rng.normal(size=(t, 7)) - rng.uniform(0.5, 1.5, size=(t, 1)) * base * rng.choice([-1, 1], (t, 1))
    key = jax.random.key(seed)
    perms = np.asarray(jax.vmap(lambda k: jax.random.permutation(k, t))(jax.random.split(key, t)))
    grads = {"a": jnp.asarray(gs[:, :3], jnp.float32), "b": jnp.asarray(gs[:, 3:].reshape(t, 2, 2), jnp.float32)}
    upd, _ = mt.pcgrad().update(grads, mt.pcgrad().init(None), key=key)
    flat = np.concatenate([np.asarray(upd["a"]), np.asarray(upd["b"]).ravel()])
    np.testing.assert_allclose(flat, _reference(gs.astype(np.float64), perms), rtol=1e-4, atol=1e-5)


def test_different_keys_can_differ_and_same_key_is_bitwise_equal():
    rng = np.random.default_rng(0)
    g = {"w": jnp.asarray(rng.normal(size=(6, 4)), jnp.float32)}
    outs = [np.asarray(_run(mt.pcgrad(), g, key=k)[0]["w"]) for k in range(6)]
    assert np.array_equal(outs[0], np.asarray(_run(mt.pcgrad(), g, key=0)[0]["w"]))
    assert any(not np.allclose(outs[0], o) for o in outs[1:])  # order matters for T >= 3 with conflicts


def test_errors():
    g = {"w": jnp.ones((2, 3))}
    with pytest.raises(ValueError, match="key"):
        mt.pcgrad().update(g, mt.pcgrad().init(None))
    with pytest.raises(ValueError, match="reduction"):
        mt.pcgrad(reduction="max")
    with pytest.raises(ValueError, match="num_tasks"):
        mt.pcgrad(num_tasks=0)
    with pytest.raises(ValueError, match="num_tasks=3"):
        _run(mt.pcgrad(num_tasks=3), g)
