"""envs_bridge/metaworld/tasks.py: the "fixed" mode's variation file is an explicit argument (``rand_vecs_path``
of ``MetaWorldEnv``, reachable through the run's env kwargs), the task constants have one home, and each articulated
task's object point follows its joint and variation vector as in the recorded real env."""

import json
import os

import mujoco
import numpy as np

from envs_bridge import registry
from envs_bridge.metaworld import probes, rewards, scenes, scenes_arm, scenes_mt50_arm, tasks
from envs_bridge.metaworld.cpu_sim import CpuRollout


def _write_rand_vecs(path, reach):
    with open(path, "w") as f:
        json.dump({"MT10_seed0": {"reach-v3": reach}}, f)


def test_load_rand_vecs_reads_the_given_file_and_defaults_to_the_packaged_one(tmp_path):
    path = tmp_path / "rv.json"
    reach = [[0.01, 0.65, 0.02, 0.0, 0.85, 0.1], [-0.02, 0.62, 0.02, 0.05, 0.88, 0.2]]
    _write_rand_vecs(path, reach)
    np.testing.assert_array_equal(tasks.load_rand_vecs("reach", str(path)), np.asarray(reach, np.float32))
    default = tasks.load_rand_vecs("reach")
    assert default.shape == (50, 6) and tasks.RAND_VECS_PATH.endswith("rand_vecs_mt10_seed0.json")


def test_make_env_forwards_rand_vecs_path(tmp_path):
    path = tmp_path / "rv.json"
    reach = [[0.01, 0.65, 0.02, 0.0, 0.85, 0.1]] * 3
    _write_rand_vecs(path, reach)
    env = registry.make_env("reach", 2, mode="fixed", rand_vecs_path=str(path))  # builds the model, no stepping
    np.testing.assert_array_equal(np.asarray(env._tasks[0].rand_vecs), np.asarray(reach, np.float32))


def test_task_constants_have_one_home():
    assert scenes.TASKS is tasks.TASKS and rewards.TASK_NAMES is tasks.TASKS and tuple(tasks.SPECS) == tasks.TASKS
    for name, spec in tasks.SPECS.items():
        assert rewards.RANGES[name] == (spec.rand_low, spec.rand_high)
        assert spec.joint == probes.JOINTS.get(name)


def test_object_point_follows_the_task_joint_as_in_the_real_env():
    """Each articulated task's object point (obs[4:7], what its success radius is measured from) as a function of the
    task joint and the variation vector: the env's own placement and observation (``CpuRollout``) on our scene's
    kinematics against the recorded real env (Meta-World 3.1.1, ``trajectories.npz``: 20 scripted episodes per task,
    the joint and object point at the same samples, e.g. the door swung to -2.02 rad, the drawer pulled to -0.203 m).
    Largest error measured 7.5e-5 m (button), the others <= 4e-6 m; a hinge or handle placed 1 mm off would exceed
    the 2e-4 m bound."""
    fx = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "metaworld", "trajectories.npz"))
    for name in ("door-open", "drawer-open", "drawer-close", "window-open", "window-close", "button-press-topdown"):
        q, obj, rv = fx[f"{name}/joint_q"], fx[f"{name}/obj"], fx[f"{name}/rand_vec"]
        cpu = CpuRollout(name, len(rv))
        cpu.reset(rv)
        adr = cpu.models[0].jnt_qposadr[cpu.models[0].joint(tasks.SPECS[name].joint).id]
        err = 0.0
        for k in range(0, q.shape[1], 3):
            for e, (m, d) in enumerate(zip(cpu.models, cpu.datas)):
                d.qpos[adr] = q[e, k]
                mujoco.mj_kinematics(m, d)
            err = max(err, float(np.abs(cpu.observe()[:, 4:7] - obj[:, k]).max()))
        assert err < 2e-4, (name, err)
        assert np.ptp(q) > 0.09, name  # the recorded joint really moved (door 2 rad, drawers/windows/button >= 9 cm)


def test_every_pad_contact_has_meta_worlds_torsional_friction():
    """Meta-World's pad geoms have condim 4 and torsional friction 0.1: in every scene, with both hands, each pair
    with a pad is condim 4 with that torsion (without it a held cube pivoted out of the floating hand's grip in MJX:
    pick-place last-step success 0.55 vs the real 1.00), and every other pair stays condim 3 but the stick and
    sweep-into's cube on the table (their Meta-World classes are condim 4 and MuJoCo's mix takes the larger:
    ``scenes_mt50_tools._STICK_ON_TABLE``, ``scenes_mt50_grasp.CUBE_ON_TABLE``), which the arm's hand-insert cube
    takes too (``scenes_mt50_arm.PAIR_PARAMS``: the same cube on the same hole table); the arm's soccer claw stand-ins
    carry the claw x ball mix (torsion 0.005), and the arm's faucet claws (``scenes_arm.FINGER_PARTS``: Meta-World's
    claw geoms, condim 4) the claw x handle mix (torsion 0.005)."""
    # The arm's claw stand-ins (soccer: the pad geom paired a second time with the ball at Meta-World's claw x ball
    # mix, torsion 0.005; ``scenes_mt50_arm.EXTRA_PAIRS``): our finger has no claw geom of its own.
    claws = {(t, g1 + g2): p for t, ps in scenes_mt50_arm.EXTRA_PAIRS.items() for g1, g2, p in ps if "pad" in g1 + g2}
    assert all('friction="1 1 0.005 ' in p for p in claws.values()) and claws
    checked, condim4, claws_seen = 0, set(), set()
    for task in scenes.ALL_TASKS:
        for hand, fs in (("floating", 1), ("arm", 2)):
            m = scenes.build_model(task, frame_skip=fs, hand=hand)
            for k in range(m.npair):
                names = m.geom(m.pair_geom1[k]).name + m.geom(m.pair_geom2[k]).name
                if "pad" in names:
                    assert m.pair_dim[k] == 4, (task, hand, names)
                    if hand == "arm" and (task, names) in claws and m.pair_friction[k][2] == 0.005:
                        claws_seen.add((task, names))  # the claw pair (its pad pair, same geoms, is checked below)
                        continue
                    # some MT50 scenes' pads x table pairs carry the table's friction (torsion 0.005)
                    assert "table" in names or m.pair_friction[k][2] == 0.1, (task, hand, names)
                    checked += 1
                elif m.pair_dim[k] == 4:
                    condim4.add((task, names))
                    assert "claw_it" not in names or m.pair_friction[k][2] == 0.005, (task, hand, names)
                else:
                    assert m.pair_dim[k] == 3, (task, hand, names)
    assert checked > 400  # pad pairs in the 100 scenes
    assert claws_seen == set(claws)  # each claw stand-in is in its scene
    sweep = {(t, f"{g}objGeom") for t in ("sweep-into", "hand-insert")
             for g in ("table", "top_back", "top_front", "top_left", "top_right")}
    faucet_claws = {(t, f"{s}claw_it{g}") for t, g in scenes_arm.FINGER_PARTS.items() for s in ("left", "right")}
    assert condim4 == {("stick-push", "tableobjGeom"), ("stick-pull", "tableobjGeom")} | sweep | faucet_claws, condim4
