"""Go1 parkour on MJX (envs_bridge/parkour, docs/parkour.md): terrain, goals, progress, curriculum, robot, standing.

One 13-env "hard" env (one env per implemented terrain) is built and its ``reset``/``step`` jitted once per module;
every env-level test reuses that compiled step (same shapes), so the module costs one ~45 s compile on 2 cores.
"""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from envs_bridge import registry
from envs_bridge.parkour import TASKS, dynamics, robot, scan, scene, terrain

K = 6  # the env's default active box slots


@pytest.fixture(scope="module")
def compiled():
    env = registry.make_env("parkour_hard", len(TASKS), domain_rand=False, random_init_step=False)
    return env, jax.jit(env.reset), jax.jit(env.step)


@pytest.fixture(scope="module")
def stood(compiled):
    """50 steps (1 s) of zero actions (PD holding the default pose) from reset, on every terrain's level."""
    env, reset, step = compiled
    s = reset(jax.random.key(0))
    zs, dones = [], []
    for _ in range(50):
        s = step(s, jnp.zeros((env.task_set.num_envs, 12)))
        zs.append(np.asarray(s.sim.data.qpos[:, 2]))
        dones.append(np.asarray(s.done))
    return s, np.stack(zs), np.stack(dones)


# ---------------------------------------------------------------------------------------------- terrain
@pytest.mark.parametrize("tid", terrain.IMPLEMENTED)
def test_tile_dimensions(tid):
    for row in (0.0, 1.0):
        tile = terrain.make_tile(tid, row)
        real = tile.boxes[tile.boxes[:, 2] > -40]
        assert tile.boxes.shape == (terrain.MAX_BOXES, 10)
        assert tile.ground in (0.0, -1.0)
        # every box's centre lies inside the 18 x 4 m tile; the four walls are the last real rows
        assert np.all((real[:, 0] >= 0) & (real[:, 0] <= 18) & (real[:, 1] >= 0) & (real[:, 1] <= 4))
        hz = (0.5 - tile.ground) / 2  # walls 0.5 m above ground 0, down to the pit floor where there is one
        np.testing.assert_allclose(real[-4:, 3:6], [[9, .05, hz]] * 2 + [[.05, 1.9, hz]] * 2, atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(tile.boxes[:, 6:10], axis=-1), 1.0, atol=1e-6)
        g = tile.goals
        assert g.shape == (8, 2) and np.all(np.diff(g[:, 0]) > 0) and g[-1, 0] < 18
        assert g[0, 0] == (2.0 if tid == 20 else 1.5)


def test_jump_box_formula():
    # row 1 -> d = 0.8 - 0.2 = 0.6: length 1.2 - 0.25 * 0.6 = 1.05, gap 1.0 - 0.06 = 0.94,
    # heights in [0.1 + 0.33, 0.15 + 0.33] + 0.05 k
    assert terrain.difficulty(0, 1.0) == pytest.approx(0.6)
    b = terrain.make_tile(0, 1.0).boxes[:6]
    np.testing.assert_allclose(2 * b[:, 3], 1.05, atol=1e-6)
    np.testing.assert_allclose(np.diff(b[:, 0] - b[:, 3])[:5], 1.05 + 0.94, atol=1e-5)
    top = b[:, 2] + b[:, 5] - 0.05 * np.arange(6)
    assert np.all((top >= 0.43 - 1e-6) & (top <= 0.48 + 1e-6))


def test_easy_rows_identical():
    easy = terrain.tile_arrays((0, 20), easy=True)
    assert easy["boxes"].shape == (2, 10, terrain.MAX_BOXES, 10)
    np.testing.assert_array_equal(easy["boxes"][:, 0], easy["boxes"][:, 9])
    hard = terrain.tile_arrays((0,), easy=False)
    assert not np.array_equal(hard["boxes"][0, 0], hard["boxes"][0, 9])


def test_box_heights_ramp_and_box():
    # a ramp rising 0.5 m over 1 m from x = 2: height 0.25 at x = 2.5; the 0.3 m box [3, 4] on ground -1
    boxes = jnp.asarray([terrain._ramp(2.0, 1.0, 0.0, 0.5), terrain.box_row(3.0, 4.0, 1.0, 3.0, -1.0, 0.3)])
    h = scan.box_heights(boxes, jnp.float32(-1.0), jnp.asarray([[2.5, 2.0], [3.5, 2.0], [3.5, 3.5], [1.0, 2.0]]))
    np.testing.assert_allclose(h, [0.25, 0.3, -1.0, -1.0], atol=1e-5)


@pytest.mark.parametrize("tid", terrain.IMPLEMENTED)
def test_active_slots_cover_reachable_boxes(tid):
    # along the goal path, at most K boxes lie within 0.6 m of the base (reach 0.45 m + 0.15 m of motion)
    for row in (0.0, 1.0):
        tile = terrain.make_tile(tid, row)
        path = np.concatenate([np.linspace(tile.goals[i], tile.goals[i + 1], 10) for i in range(7)])
        d = jax.vmap(scan.box_distance, in_axes=(None, 0))(jnp.asarray(tile.boxes), jnp.asarray(path))
        assert int((d < 0.6).sum(-1).max()) <= K


# ---------------------------------------------------------------------------------------------- goals, progress
def test_goal_sequence():
    goals = jnp.tile(jnp.asarray([[1.5, 2.0]] + [[3.0 + k, 2.0] for k in range(7)])[None], (3, 1, 1))
    # env 0 at goal 0 (0.1 m away), env 1 0.5 m away, env 2 already had one step at goal 0
    xy = jnp.asarray([[1.6, 2.0], [2.0, 2.0], [1.5, 2.1]])
    idx, timer = dynamics.update_goals(xy, goals, jnp.zeros(3, jnp.int32), jnp.asarray([0, 0, 1]))
    np.testing.assert_array_equal(idx, [0, 0, 1])  # timer 0 + 1 = 1 (not > 1); 0; 1 + 1 = 2 > 1 -> advance
    np.testing.assert_array_equal(timer, [1, 0, 0])
    idx, timer = dynamics.update_goals(xy, goals, idx, timer)
    np.testing.assert_array_equal(idx, [1, 0, 1])  # env 0's second step in range advances


def test_reward_terms_hand_case():
    # goal 2 m straight ahead (+x; unit vector 2 / (2 + 1e-5)), moving at 0.5 m/s with command 0.8:
    # v = 0.5 * 2 / 2.00001, term v / 0.80001; yaw 0 -> exp(0) = 1;
    # tau . qd = 2 * 1 (first joint) and -1 * 3 (second, negative -> 0): energy 2; 2 collisions
    tau, qd = jnp.zeros((1, 12)).at[0, :2].set([2.0, -1.0]), jnp.zeros((1, 12)).at[0, :2].set([1.0, 3.0])
    t = dynamics.reward_terms(jnp.asarray([[1.0, 2.0]]), jnp.asarray([[0.5, 0.0]]), jnp.zeros(1),
                              jnp.asarray([[3.0, 2.0]]), jnp.asarray([0.8]), tau, qd, jnp.asarray([2]))
    v = 0.5 * 2 / 2.00001
    np.testing.assert_allclose([t[k][0] for k in ("tracking_goal_vel", "tracking_yaw", "energy", "collision")],
                               [v / 0.80001, 1.0, 2.0, 2.0], rtol=1e-6)
    # total: (4 * 0.625 + 1 - 0.001 - 20) * 0.02 < 0 -> clipped to 0; without collisions ~0.06998
    assert float(dynamics.total_reward(t)[0]) == 0.0
    t["collision"] = jnp.zeros(1)
    np.testing.assert_allclose(dynamics.total_reward(t), [(4 * v / 0.80001 + 1 - 0.001) * 0.02], rtol=1e-5)


def test_progress_metric_on_last_goal(compiled, stood):
    env, _, step = compiled
    s = stood[0]
    sim = s.sim
    goal7 = env._tile(sim.level)[2][:, 7]
    qpos = sim.data.qpos.at[:, :2].set(goal7)
    sim = sim.replace(data=sim.data.replace(qpos=qpos), goal_idx=jnp.full_like(sim.goal_idx, 7),
                      goal_timer=jnp.ones_like(sim.goal_timer))
    out = step(s.replace(sim=sim), jnp.zeros((env.task_set.num_envs, 12)))
    # timer 1 + 1 > 1: the 8th goal is reached -> progress 8 / 8, success, episode ends as a time-out
    assert bool(out.done.all()) and bool(out.truncated.all()) and bool(out.info["success"].all())
    np.testing.assert_allclose(out.info["episode_progress"], 1.0)
    np.testing.assert_array_equal(out.sim.goal_idx, 0)  # reset inside step
    np.testing.assert_allclose(out.sim.data.qpos[:, :2], [terrain.SPAWN] * env.task_set.num_envs)


def test_curriculum_hand_cases():
    key = jax.random.key(3)
    # level 3: 7 goals -> 4; 3 goals -> 2; 8 goals at level 9 -> 10 = past the top -> uniform in [0, 9];
    # level 0 with 0 goals -> -1 clipped to 0
    lvl = dynamics.curriculum_level(jnp.asarray([3, 3, 9, 0]), jnp.asarray([7, 3, 8, 0]), key)
    np.testing.assert_array_equal(np.asarray(lvl)[[0, 1, 3]], [4, 2, 0])
    assert 0 <= int(lvl[2]) <= 9
    # staying (4-6 goals): kept with probability 0.75, else uniform in [0, level - 1]
    n = 4000
    lvl = dynamics.curriculum_level(jnp.full(n, 5), jnp.full(n, 5), key)
    moved = np.asarray(lvl != 5)
    assert abs(moved.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)  # 4 sigma of a binomial fraction
    assert set(np.unique(np.asarray(lvl)[moved])) <= {0, 1, 2, 3, 4}


def test_initial_levels():
    hard = registry.make_env("parkour_hard", 26, tasks=("flat", "balance_beam"))
    np.testing.assert_array_equal(hard._init_level(jax.random.key(0)), np.tile(np.r_[np.arange(10), 0, 1, 2], 2))
    cl = registry.make_env("parkour_hard_cl", 26, tasks=("flat", "balance_beam"))
    assert set(np.unique(np.asarray(cl._init_level(jax.random.key(0))))) <= {0, 1, 2}


# ---------------------------------------------------------------------------------------------- robot, env
def test_robot_as_built():
    m = scene.build_model(K)
    np.testing.assert_allclose(m.jnt_range[1:], np.stack([robot.Q_LOW, robot.Q_HIGH], -1), atol=1e-6)
    np.testing.assert_allclose(m.jnt_range[1:4], [[-0.803, 0.803], [-1.047, 4.189], [-2.697, -0.916]], atol=1e-6)
    mass = robot.robot_mass(m)
    # 4.8 + 4 * (0.696 + 1.013 + 0.166 + 0.06) = 12.54 kg
    assert mass["trunk"] == pytest.approx(4.8) and mass["total"] == pytest.approx(12.54)
    np.testing.assert_allclose(m.actuator_ctrlrange, [[-33.5, 33.5]] * 12)
    assert m.opt.timestep == 0.005 and m.nu == 12
    # only robot-terrain pairs: robot geoms type 2 / affinity 1, terrain type 1 / affinity 2
    robot_geoms = [g for g in range(m.ngeom) if m.geom_bodyid[g] != 0]
    assert len(robot_geoms) == 13 and all(m.geom_contype[g] == 2 and m.geom_conaffinity[g] == 1
                                          for g in robot_geoms)


def test_pd_torque_clip():
    # Kp 50 * 1 rad = 50 -> clipped to 33.5; 50 * 0.1 - 3 * 1 = 2
    tau = robot.pd_torque(jnp.asarray([1.0, 0.1]), jnp.zeros(2), jnp.asarray([0.0, 1.0]), 1.0, 1.0)
    np.testing.assert_allclose(tau, [33.5, 2.0], rtol=1e-6)


def test_env_shapes_and_slots(compiled, stood):
    env = compiled[0]
    s = stood[0]
    assert env.obs_size == 212 + len(TASKS) and s.obs.shape == (len(TASKS), env.obs_size)
    np.testing.assert_array_equal(s.obs[:, 212:], np.eye(len(TASKS)))
    assert env.contact_slots == (K + 1) * (4 + 9 * 2)  # spheres 1 contact, capsules 2, per terrain geom
    assert bool(jnp.isfinite(s.obs).all())


def test_standing(stood):
    s, zs, dones = stood
    # PD holding the default pose: trunk settles at ~0.31 m (legs 0.30 m + foot radius), upright, nobody falls
    assert not dones.any()
    assert zs[-1].min() > 0.27 and zs[-1].max() < 0.34
    roll, pitch, _ = scan.euler_from_quat(s.sim.data.qpos[:, 3:7])
    assert float(jnp.abs(roll).max()) < 0.1 and float(jnp.abs(pitch).max()) < 0.1
    # feet in contact -> contact obs (filtered) +0.5; height scan on flat ground: z - 0.3 - 0
    np.testing.assert_array_equal(s.obs[:, 44:48], 0.5)
    flat = TASKS.index("flat")
    np.testing.assert_allclose(s.obs[flat, 48:180], zs[-1, flat] - 0.3, atol=0.02)


def test_registry_errors():
    with pytest.raises(ValueError, match="parkour_hard"):
        registry.make_env("parkour_nope", 4)
    with pytest.raises(ValueError, match="unimplemented"):
        registry.make_env("parkour_hard", 4, tasks=("squeeze",))


def test_free_fall_first_step():
    # the scene is plain MJCF (C MuJoCo runs it too): one unactuated 5 ms step from the spawn pose in the air
    m = scene.build_model(K)
    d = mujoco.MjData(m)
    d.qpos[:3], d.qpos[7:] = [1.0, 2.0, 0.42], robot.DEFAULT_Q
    mujoco.mj_step(m, d)
    assert d.qpos[2] < 0.42  # falling under gravity: 0.42 - 9.81 * 0.005^2 (semi-implicit Euler)
    np.testing.assert_allclose(d.qpos[2], 0.42 - 9.81 * 0.005 ** 2, atol=1e-6)
