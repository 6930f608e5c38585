"""Contract tests shared by every multi-task transform: jit/no-jit, no retracing, vmap, pytrees, composition."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from absl.testing import parameterized

from mtjax import transforms as mt

T = 3
METHODS = ["mean", "sum", "pcgrad", "cagrad", "famo", "imtl_g", "aligned_mtl", "upgrad", "nash_mtl"]
_PARAMS = {"w": jnp.zeros((3, 4)), "b": jnp.zeros((4,)), "s": jnp.zeros(()), "deep": {"k": jnp.zeros((2, 1, 3))}}


def _make(method):
    kw = {} if method in ("mean", "sum") else {"num_tasks": T}
    if method in ("cagrad", "upgrad", "nash_mtl"):
        kw["num_iters"] = 20  # keep the CPU compile/run small; accuracy is tested in the per-method files
    return mt.make_method(method, **kw)


def _problem(seed, t=T):
    """Mixed-shape task-stacked grads with conflicts, task losses and a key."""
    keys = jax.random.split(jax.random.key(seed), 5)
    leaves, treedef = jax.tree.flatten(_PARAMS)
    grads = [jax.random.normal(k, (t,) + x.shape) for k, x in zip(keys, leaves)]
    grads = jax.tree.unflatten(treedef, grads)
    grads = jax.tree.map(lambda g: g.at[1:].add(-1.5 * g[:1]), grads)
    losses = jax.random.uniform(keys[-1], (t,), minval=0.5, maxval=2.0)
    return grads, losses, jax.random.fold_in(keys[-1], 1)


class ContractTest(chex.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(*METHODS)
    def test_jit_and_eager_agree_on_mixed_pytree(self, method):
        agg = _make(method)
        grads, losses, key = _problem(0)
        state = agg.init(_PARAMS)
        ref, _ref_state = agg.update(grads, state, _PARAMS, key=key, task_losses=losses)
        out, new_state = self.variant(lambda g, s, k, l: agg.update(g, s, _PARAMS, key=k, task_losses=l))(
            grads, state, key, losses)
        chex.assert_trees_all_equal_shapes_and_dtypes(out, _PARAMS)
        chex.assert_tree_all_finite(out)
        chex.assert_trees_all_close(out, ref, rtol=1e-5, atol=1e-6)
        chex.assert_trees_all_equal_shapes_and_dtypes(new_state, state)  # lax.scan-compatible carry
        chex.assert_tree_all_finite(new_state)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "sum"])
def test_chain_no_retrace_vmap_and_determinism(method):
    chex.clear_trace_counter()  # the counter is global across parametrised cases
    agg = _make(method)
    tx = optax.chain(agg, optax.clip_by_global_norm(1.0), optax.adam(1e-2))

    def raw_step(params, opt_state, seed):
        grads, losses, key = _problem(seed)
        upd, opt_state = tx.update(grads, opt_state, params, key=key, task_losses=losses)
        return optax.apply_updates(params, upd), opt_state

    jstep = jax.jit(chex.assert_max_traces(raw_step, n=1))
    params, opt_state = _PARAMS, tx.init(_PARAMS)
    for seed in range(3):  # same shapes every step: a single trace
        params, opt_state = jstep(params, opt_state, seed)
    chex.assert_tree_all_finite(params)
    assert not all(bool(jnp.all(p == 0)) for p in jax.tree.leaves(params))

    # The same inputs (same key) give bitwise-equal outputs.
    first, _ = jstep(_PARAMS, tx.init(_PARAMS), 0)
    again, _ = jstep(_PARAMS, tx.init(_PARAMS), 0)
    chex.assert_trees_all_equal(again, first)

    # vmap over a batch of problems equals a loop over them (the state is a fixed-shape scan/vmap carry).
    batched = jax.jit(jax.vmap(raw_step, in_axes=(None, None, 0)))(_PARAMS, tx.init(_PARAMS), jnp.arange(2))
    for i in range(2):
        chex.assert_trees_all_close(jax.tree.map(lambda x: x[i], batched), jstep(_PARAMS, tx.init(_PARAMS), i),
                                    rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_inconsistent_task_axis_raises(method):
    agg = _make(method)
    grads, losses, key = _problem(0)
    bad = dict(grads, b=jnp.zeros((T + 1, 4)))
    with pytest.raises(ValueError, match="task axis|T="):
        agg.update(bad, agg.init(_PARAMS), _PARAMS, key=key, task_losses=losses)


def test_partition_and_process_compose():
    # pcgrad on the "shared" params only; per-task preprocessing through aggregating.process.
    grads, _losses, key = _problem(1)
    labels = {"w": "shared", "b": "task", "s": "task", "deep": {"k": "shared"}}
    tx = optax.partition({"shared": mt.pcgrad(), "task": mt.mean()}, labels)
    upd, _ = tx.update(grads, tx.init(_PARAMS), _PARAMS, key=key)
    np.testing.assert_allclose(upd["b"], grads["b"].mean(0), rtol=1e-6)
    shared = {"w": grads["w"], "deep": grads["deep"]}
    ref, _ = mt.pcgrad().update(shared, mt.pcgrad().init(None), key=key)
    chex.assert_trees_all_close({"w": upd["w"], "deep": upd["deep"]}, ref, rtol=1e-6)

    unit = optax.stateless(lambda g, _: jax.tree.map(lambda x: x / jnp.linalg.norm(x.reshape(T, -1), axis=1)
                                                     .reshape((T,) + (1,) * (x.ndim - 1)), g))
    proc = mt.process(unit, mt.mean(), optax.scale(2.0))
    upd, _ = proc.update(grads, proc.init(_PARAMS), _PARAMS)
    ref = jax.tree.map(lambda x: 2 * jnp.mean(x / jnp.linalg.norm(x.reshape(T, -1), axis=1)
                                              .reshape((T,) + (1,) * (x.ndim - 1)), 0), grads)
    # atol: one float32 ulp at unit scale for entries near zero (two summation orders of the same norms)
    chex.assert_trees_all_close(upd, ref, rtol=1e-5, atol=1e-7)
