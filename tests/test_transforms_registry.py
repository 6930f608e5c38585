"""make_mtrl: parameter-subset routing, loss routing, errors; diagnostics() over nested optax states."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mtjax import transforms as mt

T = 3
PARAMS = {"params": {"actor": {"Dense_0": {"kernel": jnp.zeros((4, 2)), "bias": jnp.zeros(2)}},
                     "critic": {"Dense_0": {"kernel": jnp.zeros((4, 1)), "bias": jnp.zeros(1)}},
                     "log_std": jnp.zeros(2)}}


def _grads(seed=0):
    leaves, treedef = jax.tree.flatten(PARAMS)
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    g = [jax.random.normal(k, (T,) + x.shape) for k, x in zip(keys, leaves)]
    g = [x.at[1:].add(-1.5 * x[:1]) for x in g]  # conflicts everywhere
    return jax.tree.unflatten(treedef, g)


def _sub(tree, name):
    return tree["params"][name]


EXTRA = {"key": jax.random.key(7), "task_losses": jnp.array([1.0, 2.0, 3.0]),
             "critic_task_losses": jnp.array([0.5, 1.0, 4.0]), "actor_task_losses": jnp.array([2.0, 0.1, 1.0])}


@pytest.mark.parametrize("target", ["critic", "actor"])
def test_method_on_target_subset_mean_elsewhere(target):
    g = _grads()
    agg = mt.make_mtrl("pcgrad", target, num_tasks=T)
    upd, state = agg.update(g, agg.init(PARAMS), PARAMS, **EXTRA)
    chex.assert_trees_all_equal_shapes(upd, PARAMS)
    if target == "critic":
        surgery = {"params": {"critic": _sub(g, "critic")}}
        rest = {"actor": _sub(g, "actor"), "log_std": g["params"]["log_std"]}
    else:
        surgery = {"params": {"actor": _sub(g, "actor"), "log_std": g["params"]["log_std"]}}
        rest = {"critic": _sub(g, "critic")}
    ref, _ = mt.pcgrad().update(surgery, mt.pcgrad().init(None), key=EXTRA["key"])
    for name, value in ref["params"].items():
        chex.assert_trees_all_close(upd["params"][name], value, rtol=1e-5, atol=1e-6)
    for name, value in rest.items():
        chex.assert_trees_all_close(upd["params"][name], jax.tree.map(lambda x: x.mean(0), value), rtol=1e-5, atol=1e-6)
    mean_target = jax.tree.map(lambda x: x.mean(0), surgery)
    assert not all(np.allclose(a, b) for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(mean_target)))
    flat = np.concatenate([np.asarray(x).reshape(T, -1) for x in jax.tree.leaves(surgery)], axis=1)
    gram = flat @ flat.T
    assert int(optax.tree.get(state, "num_conflicts")) == sum(gram[i, j] < 0 for i in range(T) for j in range(i))


@pytest.mark.parametrize("target,source", [("critic", "critic_task_losses"), ("actor", "actor_task_losses"),
                                           ("both", "task_losses")])
def test_famo_gets_the_target_losses(target, source):
    g = _grads(1)
    agg = mt.make_mtrl("famo", target, num_tasks=T)
    _, state = agg.update(g, agg.init(PARAMS), PARAMS, **EXTRA)
    inv = 1.0 / (np.asarray(EXTRA[source]) + 1e-8)  # first paper-variant step: w ∝ z / l with z uniform
    np.testing.assert_allclose(optax.tree.get(state, "task_weights"), inv / inv.sum(), rtol=1e-5)
    missing = {k: v for k, v in EXTRA.items() if k != source}
    with pytest.raises(ValueError, match=source):
        agg.update(g, agg.init(PARAMS), PARAMS, **missing)


def test_both_and_scales():
    g = _grads(2)
    agg = mt.make_mtrl("cagrad", "both", num_tasks=T, c=0.3, output_scale=0.5)
    upd, _ = agg.update(g, agg.init(PARAMS), PARAMS, **EXTRA)
    ref, _ = mt.cagrad(c=0.3).update(g, mt.cagrad(c=0.3).init(None))
    chex.assert_trees_all_close(upd, jax.tree.map(lambda x: 0.5 * x, ref), rtol=1e-5, atol=1e-7)
    agg = mt.make_mtrl("famo", "critic", num_tasks=T, loss_scale=2.0)
    _, state = agg.update(g, agg.init(PARAMS), PARAMS, **EXTRA)
    np.testing.assert_allclose(optax.tree.get(state, "prev_losses"), 2.0 * EXTRA["critic_task_losses"])


def test_mean_method_is_plain_mean_and_errors():
    g = _grads(3)
    agg = mt.make_mtrl("mean", "critic", num_tasks=T)
    upd, _ = agg.update(g, agg.init(PARAMS), PARAMS)
    chex.assert_trees_all_close(upd, jax.tree.map(lambda x: x.mean(0), g), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="pcgrad"):  # the message lists the valid names
        mt.make_mtrl("gradnorm", "critic", num_tasks=T)
    with pytest.raises(ValueError, match="critic, actor, both"):
        mt.make_mtrl("pcgrad", "trunk", num_tasks=T)
    with pytest.raises(ValueError, match="num_tasks"):
        mt.make_mtrl("pcgrad", "critic", num_tasks=0)
    with pytest.raises(ValueError, match="bad options"):
        mt.make_mtrl("pcgrad", "critic", num_tasks=T, c=0.4)
    with pytest.raises(ValueError, match="no parameter belongs"):
        mt.make_mtrl("pcgrad", "critic", num_tasks=T).init({"params": {"actor": jnp.zeros(2)}})


def test_diagnostics_in_chain_under_jit():
    tx = optax.chain(mt.make_mtrl("cagrad", "critic", num_tasks=T), optax.clip_by_global_norm(1.0),
                     optax.adam(1e-3))
    state = tx.init(PARAMS)

    @jax.jit
    def step(state):
        _, state = tx.update(_grads(4), state, PARAMS, **EXTRA)
        return mt.diagnostics(state)

    d = step(state)
    assert set(d) == {"cagrad/num_conflicts", "cagrad/min_cosine", "cagrad/mean_cosine", "cagrad/objective",
                      *(f"cagrad/task_weights/{i}" for i in range(T))}
    assert all(v.shape == () for v in d.values())
    assert int(d["cagrad/num_conflicts"]) >= 1 and float(d["cagrad/min_cosine"]) < 0
    # Two methods in one state: stable, suffixed names.
    two = optax.partition({"a": mt.pcgrad(), "b": mt.pcgrad()}, {"x": "a", "y": "b"})
    st = two.init({"x": jnp.zeros(2), "y": jnp.zeros(2)})
    assert {"pcgrad/num_conflicts", "pcgrad_1/num_conflicts"} <= set(mt.diagnostics(st))
    assert mt.diagnostics(optax.adam(1.0).init(PARAMS)) == {}
