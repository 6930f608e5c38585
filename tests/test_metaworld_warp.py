"""``physics_impl="warp"``: the MT10 scenes stepped by MuJoCo Warp through MJX (``envs_bridge/metaworld/physics_impl.py``).

Warp runs its kernels on the CPU too (compiled by its bundled LLVM), so these run in CI with ``warp-lang`` from the
test extra; without it the warp tests skip and say why. The option's GPU speed is in ``benchmarks/README.md``; here:
the errors, agreement with MJX-JAX step by step, reproducibility, and the parity targets with Meta-World's scripted
policies (7 of 40 cells missed where MJX-JAX misses none: ``docs/metaworld_mjx.md``, "MuJoCo Warp").
"""

import jax
import numpy as np
import pytest
from test_metaworld_trajectory_parity import FIXTURE, TARGET_KEYS, TASKS, check_target

from envs_bridge.metaworld import ARM_PHYSICS, MetaWorldEnv, physics_impl
from envs_bridge.metaworld import trajectory_parity as tp
from mtjax import envs

needs_warp = pytest.mark.skipif(not physics_impl.warp_installed(),
                                reason=f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")


def test_unknown_physics_impl_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: jax, warp"):
        MetaWorldEnv(envs.TaskSet(("reach",), (2,)), physics_impl="cuda")


def test_warp_refuses_what_it_cannot_run():
    # The MT50 scenes' rewards read per-env contact slots, which Warp's pooled contacts do not give.
    with pytest.raises(ValueError, match="MT10 tasks only; basketball"):
        MetaWorldEnv(envs.TaskSet(("reach", "basketball"), (2, 2)), physics_impl="warp")
    with pytest.raises(ValueError, match="physics_graphs=None"):
        MetaWorldEnv(envs.TaskSet(("reach", "push"), (2, 2)), physics_impl="warp", physics_graphs=1)


def _rollout(impl: str, tasks, steps: int, n: int = 3):
    env = MetaWorldEnv(envs.TaskSet(tasks, (n,) * len(tasks)), **ARM_PHYSICS, physics_impl=impl)
    acts = jax.random.uniform(jax.random.key(1), (steps, env.task_set.num_envs, 4), minval=-1.0, maxval=1.0)

    @jax.jit
    def roll(state):
        def body(s, a):
            s = env.step(s, a)
            return s, (s.obs, s.sim[-1].data.qpos)
        return jax.lax.scan(body, state, acts)[1]

    return env, jax.tree.map(np.asarray, roll(env.reset(jax.random.key(0))))


@needs_warp
def test_warp_steps_the_same_scenes_as_mjx_jax():
    """Same model, same solver settings, another implementation: random actions on reach, push and drawer-open agree
    with MJX-JAX to float rounding at first (measured 2.4e-7 after one step on reach and push) and stay within
    millimetres over 12 steps (contacts amplify the rounding: on the ten tasks after 30 steps the hands within 0.35 mm,
    an object up to 32 mm)."""
    tasks = ("reach", "push", "drawer-open")
    env_w, (obs_w, q_w) = _rollout("warp", tasks, 12)
    _, (obs_j, q_j) = _rollout("jax", tasks, 12)
    assert env_w.task("push").mx.impl.value == "warp" and env_w.level_barriers is False
    assert np.isfinite(obs_w).all()
    diff = np.abs(obs_w - obs_j).max(axis=(1, 2))
    assert diff[0] < 1e-4, diff
    assert diff.max() < 5e-3, diff
    assert np.abs(q_w[-1] - q_w[0]).max() > 1e-2  # the arm moved: a frozen sim would also agree
    np.testing.assert_allclose(q_w, q_j, atol=5e-3)


@needs_warp
def test_warp_runs_are_reproducible():
    _, (obs_a, _) = _rollout("warp", ("push",), 6)
    _, (obs_b, _) = _rollout("warp", ("push",), 6)
    np.testing.assert_array_equal(obs_a, obs_b)


# Measured (CPU, all 20 episodes, warp-lang 1.18.0, session 20): ours vs real. MJX-JAX meets all of them; C MuJoCo
# misses window-open's two the same way Warp does (test_metaworld_trajectory_parity_arm.py).
KNOWN_MISSES = {
    ("door-open", "ok_tcp"): "TCP median 10.4 mm vs 5 (MJX-JAX 4.8)",
    ("peg-insert-side", "ok_success"): "last-step 0.20 vs 0.45, success steps 82 vs 292, any-step 0.55 vs 0.85",
    ("window-open", "ok_success"): "last-step 0.65 vs 1.00, success steps 297 vs 415 (as C MuJoCo: 0.65, 291)",
    ("window-open", "ok_joint"): "0.020 m beyond the range vs the real 0.003 + 0.01 (as C MuJoCo)",
    ("window-close", "ok_tcp"): "TCP median 16.0 mm vs 5",
    ("window-close", "ok_success"): "any/last-step 0.65 vs 1.00, success steps 265 vs 421",
    ("window-close", "ok_joint"): "0.025 m beyond the range vs the real 0.004 + 0.01",
}


@pytest.fixture(scope="module")
def warp_table():
    if not physics_impl.warp_installed():
        pytest.skip(f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")
    fixture = tp.load_fixture(FIXTURE, TASKS)
    return tp.metrics(tp.run(fixture, jax.random.key(0), **ARM_PHYSICS, physics_impl="warp"), fixture)


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_warp_trajectory_parity_target(warp_table, task, target, request):
    """The trajectory-parity harness (20 recorded Meta-World 3.1.1 episodes x 500 steps per task, open loop and
    Meta-World's scripted policies closed loop) on the MT10 configs' physics stepped by Warp (~6 min on two CPU
    cores); ``benchmarks/results/metaworld_trajectory_parity_arm_fs4_warp_cpu.json``. Misses are strict xfails."""
    check_target(warp_table, task, target, KNOWN_MISSES, request)


@needs_warp
@pytest.mark.xfail(strict=True, reason="MuJoCo Warp through mujoco-mjx 3.17.0 builds the mocap weld's reference "
                   "acceleration without the weld's Jdot*v, which C MuJoCo 3.17 subtracts: at this state (window-close, "
                   "a recorded episode, step 40, the arm swinging at 4 rad/s) aref -5.64 vs C's -7.27 on the first row "
                   "(C's Jdot*v there: 1.634), -262.1 vs -254.9 on the last, with equal J, pos, vel, K, B and impedance")
def test_warp_weld_reference_acceleration_matches_c_mujoco():
    """Where Warp's arm parts from C MuJoCo (docs/metaworld_mjx.md, "MuJoCo Warp"): the same state, one
    ``forward``; the weld rows' Jacobian and position agree to float32, their reference acceleration does not. A pass
    means Warp changed: re-measure the parity table above."""
    import copy

    import jax.numpy as jnp
    import mujoco
    from mujoco import mjx

    from envs_bridge.metaworld.cpu_sim import CpuRollout

    fx = tp.load_fixture(FIXTURE, ["window-close"], 3, 41)["window-close"]
    cr = CpuRollout("window-close", 3, **ARM_PHYSICS)
    cr.reset(np.asarray(fx["rand_vec"]))
    for t in range(40):
        cr.step(np.asarray(fx["action"][:, t]))
    m, d = cr.models[2], cr.datas[2]
    dc = copy.copy(d)
    mujoco.mj_forward(m, dc)
    fields = ("qpos", "qvel", "mocap_pos", "mocap_quat", "ctrl", "act", "qacc_warmstart")
    dw = mjx.make_data(m, impl="warp", naconmax=64, njmax=200)
    dw = dw.replace(**{k: jnp.asarray(getattr(d, k), jnp.float32) for k in fields})
    im = jax.jit(mjx.forward)(mjx.put_model(m, impl="warp"), dw)._impl
    weld = np.flatnonzero(dc.efc_type[:dc.nefc] == mujoco.mjtConstraint.mjCNSTR_EQUALITY)
    assert len(weld) == 6
    np.testing.assert_allclose(np.asarray(im.efc__J)[weld, :m.nv], dc.efc_J.reshape(-1, m.nv)[weld], atol=1e-4)
    np.testing.assert_allclose(np.asarray(im.efc__pos).reshape(-1)[weld], dc.efc_pos[weld], atol=1e-5)
    np.testing.assert_allclose(np.asarray(im.efc__aref).reshape(-1)[weld], dc.efc_aref[weld], rtol=1e-3, atol=1e-2)
