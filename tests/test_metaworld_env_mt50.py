"""The MJX env's ``SceneDef`` path (the MT50 tasks outside MT10), and the C MuJoCo stand-in the scene tests use.

The scene tests (``test_metaworld_scenes_mt50_*.py``) and the MT50 parity test run in ``cpu_sim.CpuRollout`` (C
MuJoCo physics, the env's own reset/observation/reward code) because an MJX program per task costs 30-60 s of
compile on CI's two cores. This module compiles **one** small MJX env of bin-picking (a free object, a moved bin, a
quantity latched at the first reward call) and checks the ``SceneDef`` path against the recorded Meta-World reset,
``CpuRollout``, the latch and the auto-reset; the reset placement code both share (``TaskModel.reset_placed``)
is checked on plate-slide-back (two task joints set from a vector placement) through ``CpuRollout``.
"""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from envs_bridge import registry
from envs_bridge.metaworld import MetaWorldEnv, policies_mt50, scenes, scenes_mt50
from envs_bridge.metaworld.cpu_sim import CpuRollout
from envs_bridge.metaworld.jitted import JittedEnv
from mtjax import envs

TASKS = ("bin-picking",)
E = 3  # episodes per task: the recorded fixture episodes 0-2
FIX = "tests/fixtures/metaworld/{}.npz"


def _fixture(task):
    f = np.load(FIX.format(task))
    return (np.stack([f[f"ep{i}/const/rand_vec"] for i in range(E)]).astype(np.float32),
            np.stack([f[f"ep{i}/const/reset_obs"] for i in range(E)]))


@pytest.fixture(scope="module")
def jenv():
    missing = [t for t in TASKS if t not in scenes.ALL_TASKS]
    assert not missing, f"scenes missing: {missing}"
    return JittedEnv(MetaWorldEnv(envs.TaskSet(TASKS, (E,)), episode_length=30))


@pytest.fixture(scope="module")
def start(jenv):
    return jenv.reset_from(jax.random.key(0), tuple(jnp.asarray(_fixture(t)[0]) for t in TASKS))


def test_reset_matches_metaworlds_recorded_reset(jenv, start):
    for t in TASKS:
        rows = jenv.rows(t)
        _, reset_obs = _fixture(t)
        # obs[0:18] (hand, gripper, objects) and the goal: our settled hand sits within 1 mm of the real arm's
        np.testing.assert_allclose(np.asarray(start.obs[rows, :18]), reset_obs[:, :18], atol=1.5e-3)
        np.testing.assert_allclose(np.asarray(start.obs[rows, 36:39]), reset_obs[:, 36:39], atol=1e-5)


def test_plate_slide_back_sets_both_task_joints():
    cpu = CpuRollout("plate-slide-back", E)
    obs = cpu.reset(_fixture("plate-slide-back")[0])
    np.testing.assert_allclose(obs[:, :18], _fixture("plate-slide-back")[1][:, :18], atol=1.5e-3)
    k = cpu.task
    q = np.stack([d.qpos[list(k.joint_adrs)] for d in cpu.datas])
    np.testing.assert_allclose(q, np.tile([0.0, 0.15], (E, 1)), atol=1e-7)  # specs_mt50: the puck starts at y 0.15
    assert k.ids.jnt_qpos == k.joint_adrs[0]  # the env's task joint: the first of SceneDef.joints
    # observe() reads the current C state: the reset's, then the puck slid 5 cm further along y by hand
    np.testing.assert_array_equal(cpu.observe(), obs[:, :18])
    m, d = cpu.models[0], cpu.datas[0]
    d.qpos[k.joint_adrs[1]] += 0.05
    mujoco.mj_kinematics(m, d)
    np.testing.assert_allclose(cpu.observe()[0, 4:7] - obs[0, 4:7], [0.0, 0.05, 0.0], atol=1e-6)


def test_the_mjx_env_and_cpu_rollout_agree_on_reset_and_a_scripted_start(jenv, start):
    st = start
    for t in TASKS:
        rv, _ = _fixture(t)
        cpu = CpuRollout(t, E)
        obs_c = cpu.reset(rv)
        rows = jenv.rows(t)
        np.testing.assert_allclose(obs_c, np.asarray(start.obs[rows, :39]), atol=1e-5)
    # 20 scripted steps in both: the hand follows the same path (C MuJoCo vs MJX integration: a few mm)
    cpus = {t: CpuRollout(t, E) for t in TASKS}
    obs_c = {t: cpus[t].reset(_fixture(t)[0]) for t in TASKS}
    for _ in range(20):
        a = np.zeros((jenv.num_envs, 4), np.float32)
        for t in TASKS:
            act = jax.vmap(policies_mt50.POLICIES_MT50[t])
            rows = jenv.rows(t)
            a[rows] = np.asarray(act(jnp.asarray(np.asarray(st.obs[rows, :39]))))
            obs_c[t] = cpus[t].step(np.asarray(act(jnp.asarray(obs_c[t]))))[0]
        st = jenv.step(st, jnp.asarray(a))
    for t in TASKS:
        tcp_m = np.asarray(jenv.env.inspect(st)["tcp"][jenv.rows(t)])
        assert np.abs(cpus[t].inspect()["tcp"] - tcp_m).max() < 0.005, t


def test_bin_picking_latches_its_margin_at_the_first_reward_call(jenv, start):
    # Meta-World caches ||obj - target|| at the first compute_reward (after step 1), not at reset: the env stores it
    # on the first step and keeps it while the object moves.
    i = TASKS.index("bin-picking")
    assert float(np.abs(np.asarray(start.sim[i].consts["target_to_obj_init"])).max()) == 0.0
    a = jnp.zeros((jenv.num_envs, 4))
    s1 = jenv.step(start, a)
    blk = s1.sim[i]
    obj, goal = np.asarray(blk.prev[:, 4:7]), np.asarray(blk.goal)
    latched = np.asarray(blk.consts["target_to_obj_init"])
    np.testing.assert_allclose(latched, np.linalg.norm(obj - goal, axis=-1), rtol=1e-6)
    s2 = jenv.step(s1, a.at[:, 2].set(-1.0))  # the hand moves down; the margin stays what step 1 saw
    np.testing.assert_array_equal(np.asarray(s2.sim[i].consts["target_to_obj_init"]), latched)


def test_auto_reset_restores_placements_and_clears_the_latch(jenv, start):
    i = TASKS.index("bin-picking")
    blk = start.sim[i].replace(t=start.sim[i].t + jenv.env.episode_length - 1)
    st = jenv.step(start.replace(sim=tuple(blk if j == i else b for j, b in enumerate(start.sim))),
                   jnp.zeros((jenv.num_envs, 4)))
    rows = jenv.rows("bin-picking")
    assert np.asarray(st.done[rows]).all() and (np.asarray(st.sim[i].t) == 0).all()
    assert float(np.abs(np.asarray(st.sim[i].consts["target_to_obj_init"])).max()) == 0.0
    spec = scenes_mt50.spec("bin-picking")  # the fresh object lies in Meta-World's reset range
    obj = np.asarray(st.obs[rows, 4:6])
    assert ((obj >= np.asarray(spec.rand_low[:2]) - 1e-6) & (obj <= np.asarray(spec.rand_high[:2]) + 1e-6)).all()


def test_mt50_registry_names_every_task_and_unknown_tasks_are_clear_errors():
    assert set(scenes_mt50.MT50_TASKS) | {"mt10", "mt50"} <= set(registry.env_names())
    with pytest.raises(ValueError, match="valid tasks: .*plate-slide-back"):
        MetaWorldEnv(envs.TaskSet(("plate-slide-sideways",), (1,)))
