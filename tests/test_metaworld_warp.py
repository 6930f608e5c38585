"""``physics_impl="warp"``: the MT10 scenes stepped by MuJoCo Warp through MJX (``envs_bridge/physics_impl.py``).

Warp runs its kernels on the CPU too (compiled by its bundled LLVM), so these run in CI with ``warp-lang`` from the
test extra; without it the warp tests skip and say why. The option's GPU speed is in ``benchmarks/README.md``; here:
the errors, agreement with MJX-JAX step by step, reproducibility, and the parity targets with Meta-World's scripted
policies (all 40 cells met on the GPU, as MJX-JAX and C MuJoCo; on the CPU three tasks' 12 cells, Warp's CPU kernels
being one core's work; peg's last-step on its edge: ``docs/metaworld_mjx.md``, "MuJoCo Warp").
"""

import copy

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest
from compile_options import OPTIMISED
from mujoco import mjx
from test_metaworld_trajectory_parity import FIXTURE, TARGET_KEYS, TASKS, check_target

from envs_bridge import physics_impl
from envs_bridge.metaworld import ARM_PHYSICS, MetaWorldEnv
from envs_bridge.metaworld import trajectory_parity as tp
from envs_bridge.metaworld.cpu_sim import CpuRollout
from mtjax import envs

needs_warp = pytest.mark.skipif(not physics_impl.warp_installed(),
                                reason=f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")


def test_unknown_physics_impl_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: jax, warp"):
        MetaWorldEnv(envs.TaskSet(("reach",), (2,)), physics_impl="cuda")


@needs_warp
def test_warp_takes_shared_physics_graphs():
    """``physics_graphs`` on Warp: each group of one skeleton is one Warp call (``warp_groups.py``, tested in
    ``test_metaworld_warp_groups.py``); door-open has a skeleton of its own: two groups, push and pick-place one."""
    env = MetaWorldEnv(envs.TaskSet(("door-open", "push", "pick-place"), (2, 2, 2)), physics_impl="warp",
                       physics_graphs=1)
    assert env.physics_graphs == 2 and [wg.group.names for wg in env._groups.warp.values()] == [("push", "pick-place")]


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
def test_warp_fixture_geoms_follow_their_placement():
    """Warp poses geoms of world-welded bodies once, from the template; the env poses them per episode
    (``physics_impl.place_static_geoms``). The window frame and the peg block must sit where C MuJoCo's kinematics puts
    them for each env's own placement (its ``TaskBlock.body_pos``), after the reset, after a step and after an
    auto-reset (3-step episodes, 4 steps). C MuJoCo, not MJX-JAX, is the reference: the same kinematics without
    MJX-JAX's CPU compile of the arm's step (~95 s of this test's former 110 s); Warp against MJX-JAX step by step is
    ``test_warp_steps_the_same_scenes_as_mjx_jax``."""
    env = MetaWorldEnv(envs.TaskSet(("window-close", "peg-insert-side"), (3, 3)), episode_length=3, **ARM_PHYSICS,
                       physics_impl="warp")
    step = jax.jit(env.step)
    fixtures = [(0, env.task("window-close").mj, "frame_upright_p"), (1, env.task("peg-insert-side").mj, "block_upper")]
    st, seen = env.reset(jax.random.key(3)), []
    for i in range(4):
        st = step(st, jnp.zeros((6, 4)))
        poses = []
        for block, mj, name in fixtures:
            g, blk = mj.geom(name).id, st.sim[block]
            got, body_pos, qpos = (np.asarray(x) for x in (blk.data.geom_xpos[:, g], blk.body_pos, blk.data.qpos))
            template, d = mj.body_pos.copy(), mujoco.MjData(mj)
            try:
                for e in range(len(got)):
                    mj.body_pos[:] = body_pos[e]
                    d.qpos[:] = qpos[e]
                    mujoco.mj_kinematics(mj, d)
                    np.testing.assert_allclose(got[e], d.geom_xpos[g], atol=1e-5, err_msg=f"{name}, step {i + 1}")
            finally:
                mj.body_pos[:] = template
            assert np.ptp(got[:, :2], axis=0).max() > 1e-3  # the placements differ between episodes
            poses.append(got)
        seen.append(poses)
    assert not np.allclose(seen[0][0], seen[3][0])  # the auto-reset placed new episodes


@needs_warp
def test_warp_runs_are_reproducible():
    _, (obs_a, _) = _rollout("warp", ("push",), 6)
    _, (obs_b, _) = _rollout("warp", ("push",), 6)
    np.testing.assert_array_equal(obs_a, obs_b)


def _c_state(task: str, steps: int):
    """``(model, data)`` of episode 2 of ``task``'s recorded fixture after ``steps`` of its actions in C MuJoCo (the
    arm physics), forwarded: a recorded state to step C MuJoCo and Warp from."""
    fx = tp.load_fixture(FIXTURE, [task], 3, steps + 1)[task]
    cr = CpuRollout(task, 3, **ARM_PHYSICS)
    cr.reset(np.asarray(fx["rand_vec"]))
    for t in range(steps):
        cr.step(np.asarray(fx["action"][:, t]))
    m, dc = cr.models[2], copy.copy(cr.datas[2])
    mujoco.mj_forward(m, dc)
    return m, dc


@needs_warp
def test_warp_box_pairs_collide_as_c_mujoco():
    """Why the env's Warp model sets ``mjDSBL_NATIVECCD`` (``physics_impl.box_box_as_c``): by default Warp collides
    box pairs with GJK/EPA and ``multicontact``, which can take two nearly parallel faces for an edge on a face.
    door-open, episode 2, step 99 (recorded actions, C MuJoCo): the leaf's end face on the safe's side wall, 0.67 and
    0.02 mm deep at its two edges; C MuJoCo's ``mjc_BoxBox`` gives 4 contacts, default Warp 2 (the deeper edge's),
    Warp with the flag C's 4. (Measured before session 33's wrist x handle bar pair moved the path, at step 100: the
    hinge's velocity one substep later C -0.895 rad/s, Warp -1.152 without the flag, -0.895 with; at step 100 of
    today's path the shallow edge is 0.16 mm deep and default Warp finds all 4.)"""
    m, dc = _c_state("door-open", 99)
    pair = {m.geom("door_panel").id, m.geom("frame_side_n").id}
    c_dist = np.sort([c.dist for c in dc.contact[:dc.ncon] if {c.geom1, c.geom2} == pair])
    assert len(c_dist) == 4 and c_dist[0] < -6e-4 and c_dist[-1] > -2e-4, c_dist

    def warp_dists(model):
        d = mjx.make_data(model, impl="warp", naconmax=64, njmax=200)
        d = d.replace(**{k: jnp.asarray(getattr(dc, k), jnp.float32).reshape(getattr(d, k).shape)
                         for k in ("qpos", "qvel", "mocap_pos", "mocap_quat", "ctrl", "act", "geom_xpos", "geom_xmat")})
        im = jax.jit(mjx.forward)(mjx.put_model(model, impl="warp"), d)._impl
        n = int(np.asarray(im.nacon).reshape(-1)[0])
        geom, dist = np.asarray(im.contact__geom)[:n], np.asarray(im.contact__dist)[:n]
        return np.sort([x for g, x in zip(geom, dist) if set(g.tolist()) == pair])

    assert len(warp_dists(m)) == 2  # warp-lang 1.18.0's default box-box path
    np.testing.assert_allclose(warp_dists(physics_impl.box_box_as_c(m)), c_dist, atol=2e-6)
    assert not m.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_NATIVECCD  # a copy: C MuJoCo's model untouched


# No known miss (CPU, all 20 episodes, warp-lang 1.18.0, the suite's XLA flags). peg-insert-side's last-step sits
# on its target: 0.55 here, 0.60 from the CLI at XLA's default flags (one episode, whose peg ends at 0.0700 of the
# 0.07 success threshold, flips with the compile flags; docs/metaworld_mjx.md, "MuJoCo Warp").
KNOWN_MISSES: dict = {}
# Warp runs its CPU kernels on one core, ~2 ms per env step on the 2-core VM: the ten tasks' table (400 envs x 500
# steps) took 9.3-10 min of one worker in session 28, half of the suite's 20-minute budget. The CPU run therefore
# checks the three tasks whose contacts go through Warp's own paths most (the pads' grasp of the puck's rims, the
# wrist x block box pair of Warp's box-box test, the window's frame posed per episode: ``place_static_geoms``); the
# GPU run (``-m gpu``, ``scripts/gpu_run.sh gpu_tests``) checks all ten.
CPU_TASKS = ("pick-place", "peg-insert-side", "window-close")
# First GPU run of the ten-task table (session 29, one H100, jax 0.11.2, mujoco 3.17.0, warp-lang 1.18.0, the
# session-29 MT10 physics): 39 of 40 cells met; peg-insert-side's closed-loop success cell missed (any-step 0.85 / 0.85,
# TCP 2.24 mm; the last-step share or the success steps off: the log cut the row) where Warp's CPU kernels meet it.
GPU_MISSES = {("peg-insert-side", "ok_success"): "GPU Warp, session 29: closed-loop success cell off (CPU Warp meets it)"}


# On the CPU the table replays the first 10 of the 20 recorded episodes per task, in one env run at XLA's default level
# (``OPTIMISED``: its 500-step Python loop is what costs, not the compile): 81 s alone on the 2-core VM against 197 s of
# setup in the suite at 20 episodes and level 0 (session 35); every cell met at 10 episodes as at 20 (success steps
# ours / real pick-place 448.0 / 448.7, peg-insert-side 318.1 / 320.8, window-close 422.0 / 422.0).
CPU_EPISODES = 10


def _warp_table(tasks, episodes=None):
    if not physics_impl.warp_installed():
        pytest.skip(f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")
    fixture = tp.load_fixture(FIXTURE, list(tasks), episodes)
    ours = tp.run(fixture, jax.random.key(0), compiler_options=OPTIMISED, **ARM_PHYSICS, physics_impl="warp")
    return tp.metrics(ours, fixture)


@pytest.fixture(scope="module")
def warp_table(request):
    if jax.default_backend() == "gpu":  # the ten tasks' table holds the three: one Warp env and compile, not two
        return request.getfixturevalue("warp_table_all")
    return _warp_table(CPU_TASKS, CPU_EPISODES)


@pytest.fixture(scope="module")
def warp_table_all():
    return _warp_table(TASKS)


@pytest.mark.slow
@pytest.mark.parametrize("task", CPU_TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_warp_trajectory_parity_target(warp_table, task, target, request):
    """The trajectory-parity harness (recorded Meta-World 3.1.1 episodes x 500 steps per task, open loop and
    Meta-World's scripted policies closed loop) on the MT10 configs' physics stepped by Warp, ``CPU_TASKS`` at
    ``CPU_EPISODES`` episodes (~1.5 min of one CPU core); ``benchmarks/results/metaworld_trajectory_parity_arm_fs4_warp_cpu.json`` has all ten. Misses
    are strict xfails."""
    check_target(warp_table, task, target, KNOWN_MISSES, request)


@pytest.mark.gpu
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_warp_trajectory_parity_target_all_tasks_on_the_gpu(warp_table_all, task, target, request):
    """The same table on all ten tasks, Warp's kernels on the GPU (the whole ``-m gpu`` job: 280 s on an H100).
    ``GPU_MISSES`` are non-strict xfails: Warp's GPU contact pools may order contacts differently from run to run."""
    if (task, target) in GPU_MISSES:
        request.applymarker(pytest.mark.xfail(strict=False, reason=GPU_MISSES[(task, target)]))
    check_target(warp_table_all, task, target, KNOWN_MISSES, request)


@needs_warp
def test_warp_weld_needs_the_previous_body_velocities():
    """Why the env carries ``cvel`` and ``cdof_dot`` on Warp (``shared_physics.SimState``): C MuJoCo subtracts the
    mocap weld's ``Jdot v`` from the weld rows' reference acceleration; Warp builds its rows before its velocity stage
    and takes ``Jdot v`` from the body velocities the data already holds. One ``forward`` from a recorded state
    (window-close, step 40, the arm swinging at 4 rad/s): with the state's velocities Warp's weld rows equal C's; with
    them zeroed (a data rebuilt from the template) they miss exactly C's ``Jdot v`` (measured 1.634 on row 0)."""
    m, dc = _c_state("window-close", 40)
    weld = np.flatnonzero(dc.efc_type[:dc.nefc] == mujoco.mjtConstraint.mjCNSTR_EQUALITY)
    assert len(weld) == 6
    mx, fwd = mjx.put_model(m, impl="warp"), jax.jit(mjx.forward)

    def warp_rows(fields):
        d = mjx.make_data(m, impl="warp", naconmax=64, njmax=200)
        d = d.replace(**{k: jnp.asarray(getattr(dc, k), jnp.float32) for k in fields})
        im = fwd(mx, d)._impl
        return np.asarray(im.efc__aref).reshape(-1)[weld], np.asarray(im.efc__J)[weld, :m.nv]

    state = ("qpos", "qvel", "mocap_pos", "mocap_quat", "ctrl", "act", "qacc_warmstart")
    aref, jac = warp_rows(state + ("cvel", "cdof_dot"))
    np.testing.assert_allclose(jac, dc.efc_J.reshape(-1, m.nv)[weld], atol=1e-4)
    np.testing.assert_allclose(aref, dc.efc_aref[weld], rtol=1e-3, atol=1e-2)
    stale, _ = warp_rows(state)
    jdot = np.zeros((3, m.nv)), np.zeros((3, m.nv))
    b_mocap, b_hand = m.eq_obj1id[0], m.eq_obj2id[0]
    mujoco.mj_jacDot(m, dc, *jdot, dc.xpos[b_mocap], b_mocap)
    jdv_mocap = jdot[0] @ dc.qvel
    mujoco.mj_jacDot(m, dc, *jdot, dc.xpos[b_hand], b_hand)
    jdv = jdv_mocap - jdot[0] @ dc.qvel
    assert abs(jdv[0]) > 1.0
    np.testing.assert_allclose(stale[:3] - dc.efc_aref[weld[:3]], jdv, atol=2e-2)


def test_warp_graph_mode_is_checked():
    with pytest.raises(ValueError, match="valid: default, warp, jax, none"):
        MetaWorldEnv(envs.TaskSet(("reach",), (2,)), physics_impl="warp", warp_graph_mode="cuda")
    with pytest.raises(ValueError, match="with physics_impl='warp' only"):
        MetaWorldEnv(envs.TaskSet(("reach",), (2,)), warp_graph_mode="none")


@needs_warp
def test_warp_graph_mode_none_steps_as_the_default():
    """Without graph capture (``warp_graph_mode="none"``, what MT50 may need on the GPU) Warp computes the same steps
    as with MJX's default capture mode (on the CPU: JAX's)."""
    acts = jax.random.uniform(jax.random.key(3), (4, 2, 4), minval=-1.0, maxval=1.0)

    def observations(mode):
        env = MetaWorldEnv(envs.TaskSet(("push",), (2,)), **ARM_PHYSICS, physics_impl="warp", warp_graph_mode=mode)
        step = lambda s, a: (env.step(s, a),) * 2
        return jax.jit(lambda s: jax.lax.scan(step, s, acts)[1].obs)(env.reset(jax.random.key(0)))

    obs = {mode: observations(mode) for mode in ("default", "none")}
    assert float(np.abs(np.diff(obs["default"][:, 0, :3], axis=0)).max()) > 1e-4  # the hand moved
    np.testing.assert_array_equal(obs["none"], obs["default"])
