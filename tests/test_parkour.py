"""Go1 parkour on MJX (envs_bridge/parkour, docs/parkour.md): terrain, goals, progress, curriculum, robot, standing.

One 21-env "hard" env (one env per terrain type) is built and its ``reset``/``step`` jitted once per module;
every env-level test reuses that compiled step (same shapes), so the module costs one ~40 s compile on 2 cores
(plus ~30 s for the benchmark's ``--quick`` smoke run, its own compile).
"""

import json

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from envs_bridge import registry
from envs_bridge.parkour import TASKS, dynamics, robot, scan, scene, shapes, terrain
from experiments import benchmark_parkour

K, S = 6, 3  # the env's default active box and sphere slots
NEW = (1, 2, 5, 8, 9, 11, 16, 17)  # the types added second (curved / composite shapes)


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
        assert tile.spheres.shape == (terrain.MAX_SPHERES, 5)
        g = tile.goals
        assert g.shape == (8, 2) and g[-1, 0] < 18 and np.all((g[:, 1] > 0.1) & (g[:, 1] < 3.9))
        if tid != 16:  # the spiral's goals go round its disc
            assert np.all(np.diff(g[:, 0]) > 0)
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
    # along the goal path of every level, at most K boxes and S spheres lie within 0.6 m of the base
    # (reach 0.45 m + 0.15 m of motion)
    for level in range(terrain.NUM_LEVELS):
        tile = terrain.make_tile(tid, level / 9)
        path = jnp.asarray(np.concatenate([np.linspace(tile.goals[i], tile.goals[i + 1], 10) for i in range(7)]))
        d = jax.vmap(scan.box_distance, in_axes=(None, 0))(jnp.asarray(tile.boxes), path)
        assert int((d < 0.6).sum(-1).max()) <= K
        ds = jax.vmap(scan.sphere_distance, in_axes=(None, 0))(jnp.asarray(tile.spheres), path)
        assert int((ds < 0.6).sum(-1).max()) <= S


def test_all_21_types_and_shapes_per_type():
    assert terrain.IMPLEMENTED == tuple(range(21)) and len(TASKS) == 21
    counts = {t: (int((terrain.make_tile(t, 1.0).boxes[:, 2] > -40).sum()) - 4,
                  int((terrain.make_tile(t, 1.0).spheres[:, 2] > -40).sum())) for t in NEW}
    # (obstacle boxes without the 4 walls, spheres): ramps 6 lips + 6 planks; bumps 6 spheres; discs 6 + 2 pit
    # ends; domes 6 spheres + 2 pit ends; 12 stones + 2 ends; spiral sectors 1-13; squeeze 6 x 2 blocks
    assert counts == {1: (12, 0), 2: (0, 6), 5: (0, 6), 8: (8, 0), 9: (2, 6), 11: (14, 0), 16: (13, 0), 17: (12, 0)}


def test_new_type_formulas():
    # forward_ramp_lips, row 1 -> d = 1.0 - 0.2 = 0.8: lip tops in [0.1 + 0.16, 0.15 + 0.16]
    b = terrain.make_tile(1, 1.0).boxes
    lips = b[0:12:2]
    assert np.all((lips[:, 2] + lips[:, 5] >= 0.26 - 1e-6) & (lips[:, 2] + lips[:, 5] <= 0.31 + 1e-6))
    # stepping_stones_cylinder, row 0 -> d = -0.4: radius 0.05 (7 + 1.4) = 0.42 m -> square side 0.42 sqrt(pi)
    b = terrain.make_tile(11, 0.0).boxes
    np.testing.assert_allclose(2 * b[:12, 3], 0.42 * np.sqrt(np.pi), rtol=1e-5)
    # squeeze, row 1 -> d = 0.8: the tunnel between two blocks is U[0.5 - 0.12, 0.6 - 0.12] m wide, 0.7 m high
    b = terrain.make_tile(17, 1.0).boxes
    width = (b[0:12:2, 1] - b[0:12:2, 4]) - (b[1:12:2, 1] + b[1:12:2, 4])
    assert np.all((width > 0.38 - 1e-3) & (width < 0.48 + 1e-6)) and np.allclose(b[:12, 2] + b[:12, 5], 0.7)
    # sphere_bump, row 0 -> d = 0.1: tops U[0.24, 0.29] at the bump centres (= goals 1..6)
    t = terrain.make_tile(5, 0.0)
    top = np.asarray(scan.sphere_heights(jnp.asarray(t.spheres), jnp.asarray(t.goals[1:7])))
    assert np.all((top >= 0.24 - 1e-5) & (top <= 0.29 + 1e-5))
    # staircase_spiral (difficulty = row): sector k's box is k rises high, rises in [0.05 + 0.15, 0.05 + 0.2] at row 1
    tops = terrain.make_tile(16, 1.0).boxes[:13, 2] * 2  # boxes span [0, h]
    assert np.all((np.diff(tops) >= 0.2 - 1e-5) & (np.diff(tops) <= 0.25 + 1e-5))


def test_sphere_and_yawed_box_geometry():
    # cap of height 0.2 and footprint 0.4 at z = 0: r = (0.16 + 0.04) / 0.4 = 0.5, centre z = 0.2 - 0.5 = -0.3
    row = shapes.sphere_cap(1.0, 2.0, 0.2, 0.0, 0.4, 0.0)
    np.testing.assert_allclose(row, [1.0, 2.0, -0.3, 0.5, 0.4], atol=1e-12)
    # heights: centre 0.2; 0.3 m off: -0.3 + sqrt(0.25 - 0.09) = 0.1; 0.45 m off: below z = 0 -> ground 0
    sph = jnp.asarray([row, shapes.PARK_SPHERE])
    no_boxes = jnp.asarray([shapes.PARK])
    h = scan.terrain_heights(no_boxes, sph, jnp.float32(0.0), jnp.asarray([[1.0, 2.0], [1.3, 2.0], [1.0, 2.45]]))
    np.testing.assert_allclose(h, [0.2, 0.1, 0.0], atol=1e-6)
    # a 1 x 0.2 m box yawed by 90 deg at (5, 2): (5, 2.45) is on it (x-extent now along y), (5.15, 2) is 0.05 off
    box = jnp.asarray([shapes.box_row(4.5, 5.5, 1.9, 2.1, 0.0, 0.3, yaw=np.pi / 2)])
    np.testing.assert_allclose(scan.box_heights(box, jnp.float32(0.0), jnp.asarray([[5.0, 2.45], [5.15, 2.0]])),
                               [0.3, 0.0], atol=1e-6)
    np.testing.assert_allclose(scan.box_distance(box, jnp.asarray([5.15, 2.0])), [0.05], atol=1e-6)
    # a cylinder of radius 0.5 becomes a square of equal area: side 0.5 sqrt(pi)
    np.testing.assert_allclose(2 * np.asarray(shapes.cylinder_box(0, 0, 0.5, 0, 1)[3:5]), 0.5 * np.sqrt(np.pi))


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
    # all 21 types: MTBench's 233 floats, the one-hot in terrain-id order
    assert env.obs_size == 233 and s.obs.shape == (21, 233)
    np.testing.assert_array_equal(s.obs[:, 212:], np.eye(21))
    # per box or plane slot: 4 foot spheres x 1 + 9 capsules x 2 contacts; per sphere slot 13 x 1
    assert env.active_spheres == S and env.contact_slots == (K + 1) * (4 + 9 * 2) + S * 13
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
        registry.make_env("parkour_hard", 4, tasks=("lava",))
    with pytest.raises(ValueError, match="num_task_slots"):
        registry.make_env("parkour_easy", 1, tasks=("flat",), num_task_slots=13)


def test_fixed_width_one_hot():
    # MTBench's stage 1 (flat only) and stage 2 (21 types) share the obs width: column = terrain id (flat = 20)
    flat = registry.make_env("parkour_easy", 2, tasks=("flat",), num_task_slots=21)
    assert flat.obs_size == 233 and flat.num_tasks == 1 and flat.active_spheres == 0
    np.testing.assert_array_equal(flat._one_hot, np.eye(21)[[20, 20]])
    sub = registry.make_env("parkour_hard", 3, tasks=("squeeze", "sphere_bump", "flat"), num_task_slots=21)
    np.testing.assert_array_equal(sub._one_hot, np.eye(21)[[17, 5, 20]])
    assert sub.active_spheres == S
    default = registry.make_env("parkour_easy", 2, tasks=("flat", "squeeze"))
    assert default.obs_size == 214 and default.active_spheres == 0  # width = task count, no sphere slots


def _stand_points(env):
    """Per env: a point on its first obstacle for the NEW types (else the spawn), and the terrain height there."""
    pts = []
    for tid in env.terrain_ids:
        t = terrain.make_tile(tid, 0.0)
        if tid in (2, 5):
            p = t.spheres[0, :2]  # a bump's top
        elif tid == 11:
            p = t.boxes[0, :2]  # the first stone (goal 1 lies between stones, as in MTBench)
        elif tid in NEW:
            p = t.goals[1]
        else:
            p = np.asarray(terrain.SPAWN)
        pts.append(p)
    pts = np.asarray(pts, np.float32)
    boxes, ground, _, spheres = env._tile(jnp.zeros(len(pts), jnp.int32))
    h = jax.vmap(lambda b, s, g, p: scan.terrain_heights(b, s, g, p[None])[0])(boxes, spheres, ground,
                                                                                jnp.asarray(pts))
    return pts, np.asarray(h)


def test_standing_on_new_terrains(compiled):
    env, reset, step = compiled
    s = reset(jax.random.key(1))
    pts, h = _stand_points(env)
    data = s.sim.data
    qpos = data.qpos.at[:, :2].set(pts).at[:, 2].set(h + 0.36).at[:, 7:].set(robot.DEFAULT_Q)
    s = s.replace(sim=s.sim.replace(data=data.replace(qpos=qpos)))
    for _ in range(50):  # 1 s of PD holding the default pose
        s = step(s, jnp.zeros((env.task_set.num_envs, 12)))
        assert not bool(s.done.any())
    z = np.asarray(s.sim.data.qpos[:, 2])
    rows = [env.terrain_ids.index(t) for t in NEW]
    # trunk ~0.31 m above the obstacle it stands on (0.30 m legs + foot radius; curved tops: a little lower)
    assert np.all(z[rows] - h[rows] > 0.22) and np.all(z[rows] - h[rows] < 0.36), (z - h)[rows]
    roll, pitch, _ = scan.euler_from_quat(s.sim.data.qpos[:, 3:7])
    assert float(jnp.abs(roll[jnp.asarray(rows)]).max()) < 0.3 and float(jnp.abs(pitch[jnp.asarray(rows)]).max()) < 0.4


def test_benchmark_quick(tmp_path):
    out = benchmark_parkour.main(["--quick", f"--out={tmp_path / 'p.json'}"])
    r = out["results"][0]
    assert r["num_envs"] == 1 and r["active_boxes"] == 1 and r["env_steps_per_s"] > 0 and r["finite"]
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["substeps"] == 4 and saved["results"][0]["contact_slots"] == 2 * 22  # ground + 1 box slot


def test_free_fall_first_step():
    # the scene is plain MJCF (C MuJoCo runs it too): one unactuated 5 ms step from the spawn pose in the air
    m = scene.build_model(K)
    d = mujoco.MjData(m)
    d.qpos[:3], d.qpos[7:] = [1.0, 2.0, 0.42], robot.DEFAULT_Q
    mujoco.mj_step(m, d)
    assert d.qpos[2] < 0.42  # falling under gravity: 0.42 - 9.81 * 0.005^2 (semi-implicit Euler)
    np.testing.assert_allclose(d.qpos[2], 0.42 - 9.81 * 0.005 ** 2, atol=1e-6)


def test_action_clip(compiled, stood):
    # the default clamp is MTBench's task yaml's +-5: actions 3 and 1 move the legs differently; with
    # action_clip=1.0 (rl_games' clip_actions: True reading) action 3 is action 1
    env, _, step = compiled
    s = stood[0]
    n = env.task_set.num_envs
    q3, q1 = (np.asarray(step(s, jnp.full((n, 12), a)).sim.data.qpos[:, 7:]) for a in (3.0, 1.0))
    assert np.abs(q3 - q1).max() > 1e-3
    one = registry.make_env("parkour_hard", 1, tasks=("flat",), domain_rand=False, random_init_step=False,
                            action_clip=1.0)
    s1 = jax.jit(one.reset)(jax.random.key(0))
    step1 = jax.jit(one.step)
    np.testing.assert_array_equal(step1(s1, jnp.full((1, 12), 3.0)).sim.data.qpos,
                                  step1(s1, jnp.full((1, 12), 1.0)).sim.data.qpos)
    assert env.action_clip == 5.0 and one.action_clip == 1.0
    with pytest.raises(ValueError, match="action_clip"):
        registry.make_env("parkour_hard", 1, tasks=("flat",), action_clip=0.0)
