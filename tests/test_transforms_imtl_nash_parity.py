"""IMTL-G and Nash-MTL against their reference algorithms (issue 11, items 4 and 5).

IMTL-G: the closed form of Liu et al. (ICLR 2021) as the reference codes compute it (the Nash-MTL authors'
``methods/weight_methods.py::IMTLG``, LibMTL ``weighting/IMTL.py``:
``alpha_{2:T} = g_1 U^T (D U^T)^{-1}``), and the rank-deficient case (10 tasks in a rank-3 space) for both
``rank_deficient`` modes, worked by hand.

Nash-MTL: numbers recorded from the official ``NashMTL.solve_optimization`` (github.com/AvivNavon/nash-mtl,
``methods/weight_methods.py`` at commit cce1840, run unchanged with cvxpy 1.5.4 + ECOS 2.0.14, torch stubbed
out since the solve is numpy-only): ``GTG = G G^T``, ``F = |GTG|_F``, ``solve_optimization(GTG / F)`` with
``normalization_factor = F``, default ``optim_niter=20``, start ``alpha = 1``. Its cvxpy loop reached
``max_i |(GTG alpha)_i alpha_i - 1| < 5e-8`` on both matrices. The same numbers are re-derived in the test as
the float64 root of ``GTG a = 1/a`` (scipy), and the clip is torch's ``clip_grad_norm_(max_norm=1)``:
``coef = min(1, 1 / (|d| + 1e-6))``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import transforms as mt
from mtjax.transforms.imtl_g import imtl_g_weights

scipy_optimize = pytest.importorskip("scipy.optimize")

EPS32 = float(np.finfo(np.float32).eps)


def _update(agg, gs):
    upd, state = agg.update({"w": jnp.asarray(gs, jnp.float32)}, agg.init(None))
    return np.asarray(upd["w"], np.float64), state


# ------------------------------------------------------------------------------------------------ IMTL-G

def _closed_form(gs):
    """Reference rule at float64: alpha_{2:T} = g_1 U^T (D U^T)^{-1}, alpha_1 = 1 - sum; and cond(D U^T)."""
    u = gs / np.linalg.norm(gs, axis=1, keepdims=True)
    d, ud = gs[0] - gs[1:], u[0] - u[1:]
    m = d @ ud.T
    rest = (gs[0] @ ud.T) @ np.linalg.inv(m)
    return np.concatenate([[1.0 - rest.sum()], rest]), np.linalg.cond(m)


def test_imtl_g_orthogonal_hand_case():
    # g1 = (1,0,0), g2 = (0,2,0), g3 = (0,0,3): g = (a1, 2 a2, 3 a3) projects a1, 2 a2, 3 a3 onto u1, u2, u3.
    # Equal projections -> alpha ~ (1, 1/2, 1/3); sum one -> alpha = (6, 3, 2)/11, g = (6/11)(1, 1, 1).
    gs = np.diag([1.0, 2.0, 3.0])
    for mode in ("reference", "least_squares"):
        upd, state = _update(mt.imtl_g(num_tasks=3, rank_deficient=mode), gs)
        np.testing.assert_allclose(upd, np.full(3, 6 / 11), rtol=1e-6)
        np.testing.assert_allclose(state.task_weights, np.array([6, 3, 2]) / 11, rtol=1e-6)
        assert int(state.fallback) == 0


@pytest.mark.parametrize("seed,t", [(0, 3), (1, 5), (2, 8)])
def test_imtl_g_full_rank_matches_closed_form(seed, t):
    rng = np.random.default_rng(seed)
    gs = rng.normal(size=(t, t + 4)) * rng.uniform(0.2, 5.0, size=(t, 1))
    gs[1:] -= 0.7 * gs[:1]  # conflicts with task 1
    ref, cond = _closed_form(gs)
    # A backward-stable solve of the (T-1)-system in float32 is accurate to ~ T eps cond(D U^T) relative; the
    # Gram matrix adds ~ eps per entry. Factor 10 for the constants.
    tol = 10 * t * EPS32 * cond * max(1.0, np.abs(ref).max())
    for mode in ("reference", "least_squares"):  # the fix equals the closed form at full rank
        upd, state = _update(mt.imtl_g(num_tasks=t, rank_deficient=mode), gs)
        np.testing.assert_allclose(state.task_weights, ref, atol=tol)
        np.testing.assert_allclose(upd, ref @ gs, atol=tol * np.abs(gs).sum(0).max())
        assert int(state.fallback) == 0


# Ten task gradients in a rank-3 subspace of R^5 (two zero coordinates): the unit directions are the three
# axes, the three (1,1,0)/sqrt2 permutations, (1,1,1)/sqrt3 and the three (2,1,1)/sqrt6 permutations -- a set
# invariant under permuting the axes -- with norms n_i below.
_DIRS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 1, 1],
                  [1, 2, 1], [1, 1, 2]], np.float64)
_NORMS = np.array([1.0, 2.0, 0.5, 1.0, 4.0, 2.0, 1.0, 0.5, 2.0, 1.0])


def _rank3_problem():
    u = _DIRS / np.linalg.norm(_DIRS, axis=1, keepdims=True)
    return np.pad(_NORMS[:, None] * u, ((0, 0), (0, 2))), u


def test_imtl_g_rank3_reference_gives_zero_update():
    # Equal projections g.u_1 = g.u_i for i = 2..10 means g is orthogonal to every u_1 - u_i. e1, e2, e3 and
    # (1,1,1)/sqrt3 are not on one affine plane (x+y+z is 1, 1, 1, sqrt3), so those differences span the
    # whole rank-3 space, and g (in that space) is 0: the exact IMTL-G update, with weights summing to one
    # that form an affine dependency of the ten gradients (sum_i alpha_i g_i = 0).
    gs, _ = _rank3_problem()
    upd, state = _update(mt.imtl_g(num_tasks=10), gs)
    alpha = np.asarray(state.task_weights, np.float64)
    # float32: the pseudo-inverse keeps the three non-zero singular values of D U^T (relative 1, 0.32, 0.10;
    # the float32 noise ones, ~1e-7, are cut at rcond=1e-5); alpha errs by ~ T eps cond_kept |alpha| and |g|
    # by that times max n_i = 4: 10 * 1.2e-7 * 10 * 1 * 4 ~ 5e-5, doubled -> 1e-4.
    np.testing.assert_allclose(upd, np.zeros(5), atol=1e-4)
    np.testing.assert_allclose(alpha.sum(), 1.0, atol=1e-5)
    assert np.abs(alpha).max() < 10.0  # a bounded (minimum-norm) solution, not the inverse's rounding noise
    assert int(state.rank) == 3 and int(state.fallback) == 0


def test_imtl_g_rank3_least_squares_hand_numbers():
    # rank_deficient="least_squares": alpha ~ beta = diag(1/n) C^+ 1 with C = U U^T the cosine matrix.
    # With s_i = sum of the components of u_i and W = U^T U (3x3):
    #   W has diagonal 1 + 1 + 1/3 + 1 = 10/3 and off-diagonal 1/2 + 1/3 + 5/6 = 5/3, so
    #   W (1,1,1) = (20/3)(1,1,1);
    #   C^+ 1 = U W^-2 U^T 1 and U^T 1 = sigma (1,1,1) (sigma = sum_i s_i / 3), so
    #   gamma_i = (3/20)^2 sigma s_i;
    #   beta_i = gamma_i / n_i, the unscaled update U^T gamma = (3 sigma / 20)(1,1,1), and dividing by
    #   sum beta:
    #   alpha_i = (s_i/n_i) / S and update = (20/3) / S * (1,1,1), S = sum_i s_i / n_i.
    # s = (1, 1, 1, sqrt2, sqrt2, sqrt2, sqrt3, 4/sqrt6, 4/sqrt6, 4/sqrt6);
    # S = 3.5 + 1.75 sqrt2 + sqrt3 + 3.5 * 4/sqrt6 = 13.422401..., update = (0.4966821, 0.4966821, 0.4966821).
    gs, u = _rank3_problem()
    s = np.array([1, 1, 1] + [np.sqrt(2)] * 3 + [np.sqrt(3)] + [4 / np.sqrt(6)] * 3)
    big_s = 3.5 + 1.75 * np.sqrt(2) + np.sqrt(3) + 3.5 * 4 / np.sqrt(6)
    np.testing.assert_allclose(big_s, np.sum(s / _NORMS), rtol=1e-12)
    upd, state = _update(mt.imtl_g(num_tasks=10, rank_deficient="least_squares"), gs)
    # float32 eigh of the cosine matrix, whose non-zero eigenvalues are W's: 20/3, 5/3, 5/3 (condition 4):
    # ~ T eps cond = 10 * 1.2e-7 * 4 ~ 5e-6 relative -> rtol 2e-5.
    np.testing.assert_allclose(upd, [20 / 3 / big_s] * 3 + [0.0, 0.0], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(upd[:3], 0.4966821, rtol=1e-6)
    np.testing.assert_allclose(state.task_weights, (s / _NORMS) / big_s, rtol=2e-5)
    assert int(state.rank) == 3 and int(state.fallback) == 0
    # The update is a common descent direction: positive projection on every unit task gradient.
    assert np.all(u @ upd[:3] > 0.49)


def test_imtl_g_zero_gradient_falls_back_and_jit_agrees():
    gs = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # a zero task gradient: u_2 is undefined
    for mode in ("reference", "least_squares"):
        upd, state = _update(mt.imtl_g(rank_deficient=mode), gs)
        np.testing.assert_allclose(upd, gs.mean(0), rtol=1e-6)
        assert int(state.fallback) == 1
    gs, _ = _rank3_problem()
    agg = mt.imtl_g(num_tasks=10, rank_deficient="least_squares")
    eager = agg.update({"w": jnp.asarray(gs, jnp.float32)}, agg.init(None))[0]["w"]
    jitted = jax.jit(agg.update)({"w": jnp.asarray(gs, jnp.float32)}, agg.init(None))[0]["w"]
    np.testing.assert_allclose(jitted, eager, rtol=1e-5, atol=1e-6)


def test_imtl_g_weights_parallel_gradients():
    # All unit gradients equal: every g has equal projections; the reference's minimum-norm solution of
    # x (D U^T) = g_1 U^T (both zero) is x = 0, i.e. alpha = (1, 0, 0) and g = g_1 (as the reference's
    # 1e-8 ridge fallback gives). The least-squares fix gives alpha_i ~ 1/n_i: (1, 1/2, 1/3) / (11/6).
    gram = jnp.asarray(np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), jnp.float32)
    alpha, fallback, rank = imtl_g_weights(gram)
    np.testing.assert_allclose(alpha, [1.0, 0.0, 0.0], atol=1e-6)
    assert int(rank) == 0 and int(fallback) == 0
    alpha, _, rank = imtl_g_weights(gram, "least_squares")
    np.testing.assert_allclose(alpha, np.array([6, 3, 2]) / 11, rtol=1e-5)
    assert int(rank) == 1


# ---------------------------------------------------------------------------------------------- Nash-MTL

# (G, alpha recorded from the official solver). Case 2 has T = 4 tasks in R^3 (a singular Gram matrix) and
# gradients of size ~1e-2 (F = 1.7e-3): the official alpha is ~1/sqrt(F) larger than the normalised solution.
_NASH_CASES = [
    ([[3.0, 0.0, 1.0, 0.0], [-1.0, 2.0, 0.0, 1.0], [0.5, -1.0, 2.0, 0.0]],
     [0.32681880355150184, 0.6282625946898596, 0.47897121065279535]),
    ([[0.02, 0.0, 0.01], [-0.01, 0.03, 0.0], [0.0, -0.02, 0.015], [0.01, 0.01, 0.01]],
     [36.64053983214516, 61.51431624732099, 74.44715392764817, 33.692311252470944]),
]

# Tolerance: the official loop stops when alpha moves < 1e-6 (here its residual is < 5e-8, so it is exact to
# ~1e-8). Ours: the ridge reg = 1e-6 on A/F (diagonal <= 1) moves b by <= reg * cond(H) relative and float32
# Newton leaves ~10 eps cond(H), H = A/F + diag(1/b^2) the Hessian at the solution, cond(H) = 3.3 and 4.7
# here: 4.7e-6 + 5.6e-6 + 1e-8 ~ 1.1e-5 -> rtol 2e-5.
_RTOL = 2e-5


def _root(a):
    """float64 root of a x = 1/x (x > 0) by scipy, from x = 1."""
    sol = scipy_optimize.root(lambda x: a @ x - 1.0 / x, np.ones(len(a)), jac=lambda x: a + np.diag(1 / x**2),
                              method="hybr", tol=1e-13)
    assert np.max(np.abs((a @ sol.x) * sol.x - 1.0)) < 1e-10 and np.all(sol.x > 0)  # converged (hybr's own
    return sol.x                                                                  # flag is strict near eps)


@pytest.mark.parametrize("case", range(len(_NASH_CASES)))
def test_nash_mtl_matches_official_solution_scale_and_clip(case):
    gs, official = (np.asarray(x, np.float64) for x in _NASH_CASES[case])
    t = len(gs)
    gram = gs @ gs.T
    fro = np.linalg.norm(gram)
    np.testing.assert_allclose(_root(gram), official, rtol=1e-7)  # the official alpha solves GTG a = 1/a ...
    b = _root(gram / fro)
    np.testing.assert_allclose(b / np.sqrt(fro), official, rtol=1e-7)  # ... = the normalised root / sqrt(F)
    d = official @ gs
    np.testing.assert_allclose(np.linalg.norm(d), np.sqrt(t), rtol=1e-7)  # |d|^2 = a^T GTG a = sum 1 = T

    upd, state = _update(mt.nash_mtl(num_tasks=t), gs)
    np.testing.assert_allclose(state.task_weights, official, rtol=_RTOL)
    np.testing.assert_allclose(float(state.update_norm), np.sqrt(t), rtol=_RTOL)
    np.testing.assert_allclose(upd, d / (np.sqrt(t) + 1e-6), rtol=_RTOL, atol=1e-7)  # clip_grad_norm_(1.0)
    assert float(state.residual) < 1e-5

    upd_raw, _ = _update(mt.nash_mtl(num_tasks=t, max_norm=0.0), gs)  # max_norm <= 0: no clip, as official
    np.testing.assert_allclose(upd_raw, d, rtol=_RTOL, atol=1e-7)
    upd_half, _ = _update(mt.nash_mtl(max_norm=0.5), gs)
    np.testing.assert_allclose(upd_half, d * 0.5 / (np.sqrt(t) + 1e-6), rtol=_RTOL, atol=1e-7)
    upd_mean, _ = _update(mt.nash_mtl(reduction="mean"), gs)  # |d|/T = 1/sqrt(T) < 1: not clipped
    np.testing.assert_allclose(upd_mean, d / t, rtol=_RTOL, atol=1e-7)


def test_nash_mtl_update_is_gradient_scale_invariant():
    # alpha(k G) solves k^2 GTG a = 1/a, so alpha scales by 1/k and sum_i alpha_i (k g_i) does not change
    # (the previous normalised-alpha code scaled it by k).
    gs = np.asarray(_NASH_CASES[0][0])
    base_upd, _ = _update(mt.nash_mtl(max_norm=0.0), gs)
    for k in (1e-3, 1e3):
        upd, state = _update(mt.nash_mtl(num_tasks=3, max_norm=0.0), k * gs)
        np.testing.assert_allclose(upd, base_upd, rtol=_RTOL, atol=1e-6)
        np.testing.assert_allclose(state.task_weights, np.asarray(_NASH_CASES[0][1]) / k, rtol=_RTOL)


def test_nash_mtl_diagonal_hand_case():
    # g1 = (2, 0), g2 = (0, 1): GTG = diag(4, 1), so 4 a1 = 1/a1, a2 = 1/a2 -> alpha = (1/2, 1), d = (1, 1),
    # |d| = sqrt2 -> clipped to (1, 1) / (sqrt2 + 1e-6).
    upd, state = _update(mt.nash_mtl(num_tasks=2), [[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(state.task_weights, [0.5, 1.0], rtol=1e-5)
    np.testing.assert_allclose(upd, np.ones(2) / (np.sqrt(2) + 1e-6), rtol=1e-5)


def test_new_option_errors():
    for fn, kwargs, match in ((mt.imtl_g, {"rank_deficient": "pinv"}, "rank_deficient"),
                              (mt.imtl_g, {"rcond": 1.5}, "rcond"), (mt.imtl_g, {"rcond": -1.0}, "rcond"),
                              (mt.nash_mtl, {"max_norm": float("nan")}, "max_norm"),
                              (mt.nash_mtl, {"max_norm": "1"}, "max_norm")):
        with pytest.raises(ValueError, match=match):
            fn(**kwargs)
