"""CAGrad: c = 0 gives the mean; the on-device solver matches scipy SLSQP; rescale/reduction conventions."""

import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import transforms as mt
from mtjax.transforms.cagrad import cagrad_solve

scipy_optimize = pytest.importorskip("scipy.optimize")


def _slsqp_update(gs, c, rescale=1):
    """The official CAGrad / MTBench step with scipy SLSQP (float64), mean reduction."""
    t = gs.shape[0]
    a = gs @ gs.T
    x0 = np.ones(t) / t
    ce = c * np.sqrt(a.mean() + 1e-8) + 1e-8

    def obj(x):
        return x @ a @ x0 + ce * np.sqrt(x @ a @ x + 1e-8)

    res = scipy_optimize.minimize(obj, x0, bounds=[(0, 1)] * t, method="SLSQP",
                                  constraints={"type": "eq", "fun": lambda x: 1 - x.sum()},
                                  options={"ftol": 1e-14, "maxiter": 1000})
    gw = res.x @ gs
    g = gs.mean(0) + ce / (np.linalg.norm(gw) + 1e-8) * gw
    return g / {0: 1.0, 1: 1 + c * c, 2: 1 + c}[rescale]


def _update(agg, gs):
    upd, state = agg.update({"w": jnp.asarray(gs, jnp.float32)}, agg.init(None))
    return np.asarray(upd["w"], np.float64), state


def test_c_zero_is_mean():
    rng = np.random.default_rng(0)
    gs = rng.normal(size=(4, 9))
    # c = 0: c' = 1e-8, so g = g0 + 1e-8 * g_w/|g_w| and the rescale factor 1 + 0^2 = 1 -> the mean.
    upd, _ = _update(mt.cagrad(c=0.0), gs)
    np.testing.assert_allclose(upd, gs.mean(0), atol=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_matches_scipy_slsqp(seed):
    rng = np.random.default_rng(100 + seed)
    t = int(rng.integers(2, 6))
    gs = rng.normal(size=(t, 12)) * rng.uniform(0.2, 3.0, size=(t, 1))
    if seed % 2:  # make some gradients conflict with the first
        gs[1:] -= rng.uniform(0.5, 1.5) * gs[:1]
    c = [0.4, 0.1, 1.0, 0.4][seed % 4]
    ref = _slsqp_update(gs, c)
    upd, _ = _update(mt.cagrad(c=c), gs)  # default num_iters
    np.testing.assert_allclose(upd, ref, atol=1e-4 * max(1.0, np.abs(ref).max()))


def test_rescale_and_reduction_conventions():
    rng = np.random.default_rng(3)
    gs = rng.normal(size=(3, 6))
    gs[1] -= gs[0]
    base_upd, _ = _update(mt.cagrad(c=0.4, rescale=0), gs)
    for rescale, div in ((1, 1 + 0.4**2), (2, 1.4)):
        upd, _ = _update(mt.cagrad(c=0.4, rescale=rescale), gs)
        np.testing.assert_allclose(upd * div, base_upd, rtol=1e-5, atol=1e-6)
    # MTBench: rescale 1, then times T ("match the sum loss").
    mtb, _ = _update(mt.cagrad(c=0.4, rescale=1, reduction="sum"), gs)
    np.testing.assert_allclose(mtb, 3 * _slsqp_update(gs, 0.4, rescale=1), rtol=1e-3, atol=1e-4)


def test_update_conflicts_less_than_mean():
    # The CAGrad direction maximises the worst task's improvement within the ball: min_i <g_i, d> is larger
    # than for the plain mean direction (both scaled the same way, rescale 0).
    rng = np.random.default_rng(5)
    gs = rng.normal(size=(4, 10))
    gs[1:] -= 1.2 * gs[:1]
    upd, state = _update(mt.cagrad(c=0.5, rescale=0, num_tasks=4), gs)
    assert (gs @ upd).min() > (gs @ gs.mean(0)).min()
    assert int(state.num_conflicts) >= 3
    np.testing.assert_allclose(np.asarray(state.task_weights).sum(), 1 + 0.0, atol=0.6)  # 1 + lambda*1 scale


def test_solver_returns_simplex_point():
    rng = np.random.default_rng(1)
    gs = rng.normal(size=(5, 8)).astype(np.float32)
    w, _ = cagrad_solve(jnp.asarray(gs @ gs.T), 0.4, 50)
    assert np.all(np.asarray(w) >= -1e-7)
    np.testing.assert_allclose(np.asarray(w).sum(), 1.0, atol=1e-5)


def test_errors():
    for kwargs, match in (({"c": -0.1}, "c must"), ({"num_iters": 0}, "num_iters"), ({"rescale": 3}, "rescale"),
                          ({"reduction": "avg"}, "reduction")):
        with pytest.raises(ValueError, match=match):
            mt.cagrad(**kwargs)
    agg = mt.cagrad(num_tasks=2)
    with pytest.raises(ValueError, match="T=3"):
        agg.update({"w": jnp.ones((3, 2))}, agg.init(None))
    with pytest.raises(ValueError, match="leading task axis"):
        agg.update({"w": jnp.ones((2, 2)), "b": jnp.ones((3,))}, agg.init(None))


def test_warm_start_carries_the_solution_across_steps():
    rng = np.random.default_rng(11)
    gs = rng.normal(size=(5, 12))
    gs[1:] -= 1.1 * gs[:1]
    ref = _slsqp_update(gs, 0.4)
    agg = mt.cagrad(num_iters=2, num_tasks=5)  # far too few iterations for one cold solve
    state = agg.init(None)
    errs = []
    for _ in range(30):  # the same Gram matrix every step: warm starts keep improving the solution
        upd, state = agg.update({"w": jnp.asarray(gs, jnp.float32)}, state)
        errs.append(np.abs(np.asarray(upd["w"]) - ref).max())
    assert errs[-1] < 1e-4 * max(1.0, np.abs(ref).max()) < errs[0]
    cold = mt.cagrad(num_iters=2, num_tasks=5, warm_start=False)
    upd, _ = cold.update({"w": jnp.asarray(gs, jnp.float32)}, cold.update(
        {"w": jnp.asarray(gs, jnp.float32)}, cold.init(None))[1])
    np.testing.assert_allclose(np.abs(np.asarray(upd["w"]) - ref).max(), errs[0], rtol=1e-5)


def test_pairwise_projection_matches_optax():
    import optax

    from mtjax.transforms._gram import projection_simplex_pairwise

    rng = np.random.default_rng(2)
    for t in (1, 2, 5, 50):
        for scale in (0.1, 1.0, 10.0):
            v = jnp.asarray(rng.normal(size=t) * scale, jnp.float32)
            v = v.at[0].set(v[-1])  # a tie
            np.testing.assert_allclose(projection_simplex_pairwise(v), optax.projections.projection_simplex(v),
                                       atol=1e-6)
    gs = rng.normal(size=(4, 9))
    gs[1:] -= gs[:1]
    a, _ = _update(mt.cagrad(), gs)
    b, _ = _update(mt.cagrad(projection="pairwise"), gs)
    np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="projection"):
        mt.cagrad(projection="sort")
