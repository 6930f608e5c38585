"""IMTL-G, Aligned-MTL, UPGrad and Nash-MTL: hand-worked cases and the defining property of each method."""

import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import transforms as mt
from mtjax.transforms.aligned_mtl import aligned_mtl_weights

scipy_optimize = pytest.importorskip("scipy.optimize")


def _update(agg, gs):
    upd, state = agg.update({"w": jnp.asarray(gs, jnp.float32)}, agg.init(None))
    return np.asarray(upd["w"], np.float64), state


def _conflicting(seed, t=4, p=9):
    rng = np.random.default_rng(seed)
    gs = rng.normal(size=(t, p)) * rng.uniform(0.3, 3.0, size=(t, 1))
    gs[1:] -= rng.uniform(0.5, 1.5) * gs[:1]
    return gs


def test_imtl_g_hand_case():
    # g1 = (1,0), g2 = (-1,1); u1 = (1,0), u2 = (-1,1)/sqrt2.
    # alpha_2 = <g1, u1-u2> / <g1-g2, u1-u2> = (1 + 1/sqrt2) / (2 + 3/sqrt2) = sqrt2 - 1 = 0.41421;
    # alpha_1 = 1 - alpha_2 = 2 - sqrt2 = 0.58579; g = (alpha_1 - alpha_2, alpha_2) = (3 - 2 sqrt2, sqrt2 - 1).
    upd, state = _update(mt.imtl_g(num_tasks=2), [[1.0, 0.0], [-1.0, 1.0]])
    np.testing.assert_allclose(upd, [3 - 2 * np.sqrt(2), np.sqrt(2) - 1], atol=1e-6)
    np.testing.assert_allclose(state.task_weights, [2 - np.sqrt(2), np.sqrt(2) - 1], atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_imtl_g_equal_projections(seed):
    gs = _conflicting(seed)
    upd, state = _update(mt.imtl_g(num_tasks=4), gs)
    proj = (gs / np.linalg.norm(gs, axis=1, keepdims=True)) @ upd
    np.testing.assert_allclose(proj, proj.mean(), rtol=1e-3)
    np.testing.assert_allclose(np.asarray(state.task_weights).sum(), 1.0, atol=1e-5)
    assert int(state.fallback) == 0


def test_imtl_g_singular_and_zero_gradient_cases():
    # Parallel gradients: every unit vector u_i = (1, 0), so <g_1 - g_i, u_1 - u_j> = 0, the system matrix is 0
    # and its pseudo-inverse gives alpha_{2:T} = 0, alpha_1 = 1 (rank 0): the update is g_1 = (1, 0), which
    # already has equal projections (1) on every u_i. No fallback.
    gs = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    upd, state = _update(mt.imtl_g(num_tasks=3), gs)
    np.testing.assert_allclose(upd, [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(state.task_weights, [1.0, 0.0, 0.0], atol=1e-6)
    assert int(state.fallback) == 0 and int(state.rank) == 0
    # A zero task gradient has no direction: the weights fall back to the mean, (1 + 0 - 1, 0 + 0 + 2)/3.
    upd, state = _update(mt.imtl_g(num_tasks=3), [[1.0, 0.0], [0.0, 0.0], [-1.0, 2.0]])
    np.testing.assert_allclose(upd, [0.0, 2 / 3], atol=1e-6)
    assert int(state.fallback) == 1


@pytest.mark.parametrize("seed", range(3))
def test_aligned_mtl_orthogonal_equal_norm(seed):
    gs = _conflicting(seed)
    b, rank, cond = aligned_mtl_weights(jnp.asarray(gs @ gs.T, jnp.float32))
    aligned = np.asarray(b, np.float64) @ gs
    lam = np.linalg.eigvalsh(gs @ gs.T)
    # Aligned gradients: pairwise orthogonal, each with squared norm lambda_min (scale_mode "min").
    np.testing.assert_allclose(aligned @ aligned.T, lam.min() * np.eye(4), atol=2e-3 * lam.max())
    assert int(rank) == 4
    np.testing.assert_allclose(float(cond), lam.max() / lam.min(), rtol=1e-2)
    upd, _ = _update(mt.aligned_mtl(), gs)
    np.testing.assert_allclose(upd, aligned.mean(0), rtol=1e-3, atol=1e-4)
    upd_sum, _ = _update(mt.aligned_mtl(reduction="sum"), gs)
    np.testing.assert_allclose(upd_sum, 4 * upd, rtol=1e-5)


def test_aligned_mtl_rank_deficient_by_hand():
    # Gram [[1, -1, 0], [-1, 1, 0], [0, 0, 1]]: eigenvalues 0, 1 (e_3), 2 ((1, -1, 0)/sqrt2); the null direction
    # is dropped, lambda_min of the rest = 1, so B = (1/2)^(1/2) v v^T + e_3 e_3^T with v = (1, -1, 0)/sqrt2.
    # The mean of the aligned gradients is 1^T B G / 3: 1^T v = 0, so only e_3 remains -> g_3 / 3 = (0, 1/3, 0).
    gs = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    upd, state = _update(mt.aligned_mtl(num_tasks=3), gs)
    np.testing.assert_allclose(upd, [0.0, 1 / 3, 0.0], atol=1e-6)
    np.testing.assert_allclose(state.task_weights, [0.0, 0.0, 1 / 3], atol=1e-6)
    assert int(state.rank) == 2 and float(state.condition) == pytest.approx(2.0)


def test_upgrad_hand_case_and_non_conflicting():
    # Two tasks: projecting g_i onto the dual cone {x: <g1,x> >= 0, <g2,x> >= 0} is PCGrad's projection
    # (see test_transforms_pcgrad): (0.5, 0.5) and (0, 1) -> mean (0.25, 0.75) (reg 1e-4 moves it ~1e-4).
    upd, _ = _update(mt.upgrad(), [[1.0, 0.0], [-1.0, 1.0]])
    np.testing.assert_allclose(upd, [0.25, 0.75], atol=3e-4)
    gs = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])  # no conflicts -> every g_i is already in the cone
    upd, _state = _update(mt.upgrad(num_tasks=3), gs)
    np.testing.assert_allclose(upd, gs.mean(0), atol=1e-6)


def _upgrad_reference(gs):
    a = gs @ gs.T
    a = a / np.mean(np.diag(a)) + 1e-4 * np.eye(len(gs))
    ws = []
    for i in range(len(gs)):
        lo = np.eye(len(gs))[i]
        res = scipy_optimize.minimize(lambda v: v @ a @ v, lo, jac=lambda v: 2 * a @ v, method="L-BFGS-B",
                                      bounds=[(l, None) for l in lo], options={"ftol": 1e-15, "gtol": 1e-12})
        ws.append(res.x)
    return np.mean(ws, axis=0) @ gs


@pytest.mark.parametrize("seed", range(3))
def test_upgrad_matches_qp_reference_and_is_non_conflicting(seed):
    gs = _conflicting(seed)
    upd, _ = _update(mt.upgrad(), gs)
    ref = _upgrad_reference(gs)
    np.testing.assert_allclose(upd, ref, atol=1e-3 * np.abs(ref).max())
    assert np.all(gs @ upd >= -1e-3 * np.linalg.norm(gs, axis=1) * np.linalg.norm(upd))


def test_nash_mtl_hand_case():
    # g1 = (2, 0), g2 = (0, 1): A = diag(4, 1); the official code's alpha solves A alpha = 1/alpha (un-normalised
    # scale) -> alpha = (1/2, 1), g = (1, 1), |g| = sqrt 2 -> clip_grad_norm_(1): (1, 1) / (sqrt 2 + 1e-6).
    upd, state = _update(mt.nash_mtl(num_tasks=2), [[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(upd, np.ones(2) / (np.sqrt(2) + 1e-6), rtol=1e-5)
    np.testing.assert_allclose(state.task_weights, [0.5, 1.0], rtol=1e-5)
    upd_mean, _ = _update(mt.nash_mtl(reduction="mean"), [[2.0, 0.0], [0.0, 1.0]])  # |g| / 2 < 1: no clip
    np.testing.assert_allclose(upd_mean, [0.5, 0.5], rtol=1e-5)


@pytest.mark.parametrize("seed,t", [(0, 4), (1, 10), (2, 30)])
def test_nash_mtl_bargaining_condition(seed, t):
    gs = _conflicting(seed, t=t, p=3 * t + 5)
    upd, state = _update(mt.nash_mtl(num_tasks=t, max_norm=0.0), gs)
    a = gs @ gs.T
    alpha = np.asarray(state.task_weights, np.float64)
    assert np.all(alpha > 0)
    np.testing.assert_allclose((a @ alpha) * alpha, 1.0, atol=5e-3)  # A alpha = 1/alpha (f32, ridge)
    assert float(state.residual) < 5e-3
    np.testing.assert_allclose(upd, alpha @ gs, rtol=1e-4, atol=1e-5)
    clipped, _ = _update(mt.nash_mtl(num_tasks=t), gs)  # official max_norm 1.0
    np.testing.assert_allclose(np.linalg.norm(clipped), 1.0, rtol=1e-4)


def test_errors():
    for fn, kwargs, match in ((mt.upgrad, {"num_iters": 0}, "num_iters"), (mt.upgrad, {"reg": -1.0}, "reg"),
                              (mt.aligned_mtl, {"scale_mode": "max"}, "scale_mode"),
                              (mt.imtl_g, {"reduction": "median"}, "reduction"),
                              (mt.imtl_g, {"num_tasks": -2}, "num_tasks"),
                              (mt.nash_mtl, {"num_iters": 0}, "num_iters"), (mt.nash_mtl, {"reg": -1.0}, "reg")):
        with pytest.raises(ValueError, match=match):
            fn(**kwargs)
