"""mtjax/transforms/base.py: the ``gram_method`` skeleton, and the ``solver_unroll`` argument of the methods
whose inner solvers loop (an explicit argument, not an environment variable)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import transforms as mt
from mtjax.transforms import base

UNROLLED = {"pcgrad": {}, "cagrad": {"num_iters": 20}, "upgrad": {"num_iters": 20}, "nash_mtl": {"num_iters": 20}}


class _FirstState(NamedTuple):
    num_conflicts: jax.Array
    min_cosine: jax.Array
    mean_cosine: jax.Array
    task_weights: jax.Array
    trace: jax.Array


def _first_task(num_tasks=None):
    """A toy method built on the skeleton: all weight on task 0, and the Gram trace as its own diagnostic."""

    def weigh(gram, state, **extra):
        del state, extra
        return jnp.zeros(gram.shape[0]).at[0].set(1.0), (jnp.trace(gram),)

    return base.gram_method("first", _FirstState, num_tasks=num_tasks, reduction="mean", weigh=weigh,
                            init_fields=lambda: (jnp.zeros(()),))


def test_gram_method_combines_with_weigh_and_records_diagnostics():
    # g0 = (1, 0), g1 = (-1, 1): one conflicting pair, cosine -1/sqrt(2); trace = |g0|^2 + |g1|^2 = 1 + 2 = 3.
    g = {"w": jnp.array([[1.0, 0.0], [-1.0, 1.0]])}
    agg = _first_task(num_tasks=2)
    state = agg.init({"w": jnp.zeros(2)})
    assert state.task_weights.shape == (2,) and float(state.trace) == 0.0
    upd, state = jax.jit(agg.update)(g, state)
    np.testing.assert_array_equal(upd["w"], [1.0, 0.0])
    assert int(state.num_conflicts) == 1
    np.testing.assert_allclose(state.min_cosine, -2 ** -0.5, rtol=1e-6)
    np.testing.assert_array_equal(state.task_weights, [1.0, 0.0])
    assert float(state.trace) == 3.0


def test_gram_method_validates_eagerly_and_checks_the_task_axis():
    with pytest.raises(ValueError, match="first: reduction"):
        base.gram_method("first", _FirstState, num_tasks=2, reduction="max", weigh=None)
    with pytest.raises(ValueError, match="num_tasks"):
        _first_task(num_tasks=0)
    agg = _first_task(num_tasks=3)
    with pytest.raises(ValueError, match="num_tasks=3"):
        agg.update({"w": jnp.ones((2, 4))}, agg.init({"w": jnp.zeros(4)}))


@pytest.mark.parametrize("method", sorted(UNROLLED))
def test_solver_unroll_changes_the_loop_not_the_result(method):
    key = jax.random.key(0)
    grads = {"a": jax.random.normal(key, (4, 7)), "b": jax.random.normal(jax.random.fold_in(key, 1), (4, 3, 2))}
    params = jax.tree.map(lambda g: g[0], grads)
    outs = []
    for unroll in (1, 8):
        agg = mt.make_method(method, num_tasks=4, solver_unroll=unroll, **UNROLLED[method])
        outs.append(jax.jit(agg.update)(grads, agg.init(params), params, key=key)[0])
    # Same arithmetic in the same order; only the loop structure differs, so at most XLA's re-fusion of the
    # unrolled body changes float32 rounding: a few ulps (6e-8) per iteration over <= 20 iterations.
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), *outs)


@pytest.mark.parametrize("method", sorted(UNROLLED))
@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_solver_unroll_raises(method, bad):
    with pytest.raises(ValueError, match="solver_unroll"):
        mt.make_method(method, num_tasks=4, solver_unroll=bad)


def test_make_mtrl_passes_solver_unroll():
    agg = mt.make_mtrl("pcgrad", "both", num_tasks=2, solver_unroll=2)
    g = {"w": jnp.array([[1.0, 0.0], [-1.0, 1.0]])}
    upd, _ = agg.update(g, agg.init({"w": jnp.zeros(2)}), key=jax.random.key(0))
    np.testing.assert_allclose(upd["w"], [0.25, 0.75], rtol=1e-6)  # the house-style PCGrad hand case
