"""MT50 tools-family scenes (``scenes_mt50_tools.py``: assembly, disassemble, hammer, stick-push, stick-pull):
compile, refs and pairs, reset observation against the real env's recorded ``reset_obs``, joint ranges, the
surfaces that stop objects and the hand, task joints that move when pushed the right way. C MuJoCo only."""

from __future__ import annotations

import functools

import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from envs_bridge.metaworld import scene_defs, scenes, scenes_mt50, scenes_mt50_tools
from envs_bridge.metaworld.cpu_sim import CpuRollout

FIXTURES = "tests/fixtures/metaworld"
TOOLS = ("assembly", "disassemble", "hammer", "stick-push", "stick-pull")


def _fixture(task):
    z = np.load(f"{FIXTURES}/{task}.npz")
    return z["ep0/const/rand_vec"], z["ep0/const/reset_obs"]


@functools.cache
def _rollout(task: str) -> CpuRollout:
    """One episode of ``task`` in C MuJoCo, one per task for the module (its reset restores the model's body_pos)."""
    return CpuRollout(task, 1)


def _reset(task: str, rv=None):
    """The env's reset of one task in C MuJoCo (``CpuRollout``, episode 0's rand_vec by default); model, data and
    the SceneDef's placements."""
    if rv is None:
        rv = _fixture(task)[0]
    r = _rollout(task)
    r.reset(np.asarray(rv)[None])
    p = {k: np.asarray(v) for k, v in scenes_mt50.place(task, jnp.asarray(rv, jnp.float32)).items()}
    return r.models[0], r.datas[0], p


def _refs(task, m):
    return scene_defs.resolve_refs(scenes_mt50.SCENES[task], m)


def _q(m, d, joint):
    return float(d.qpos[m.jnt_qposadr[m.joint(joint).id]])


def _hand_at(m, d, pos):
    off, quat = scenes.settled_hand()
    d.qpos[0:3], d.qpos[3:7], d.qvel[0:6] = np.asarray(pos) + off, quat, 0.0
    d.mocap_pos[m.body("mocap").mocapid[0]] = pos
    mujoco.mj_forward(m, d)


def _drive(m, d, target, steps=60, grip=-1.0):
    """Moves the hand's mocap towards ``target`` (<= 1 cm per 12.5 ms step, as the env) and steps the physics."""
    mid = m.body("mocap").mocapid[0]
    for _ in range(steps):
        d.mocap_pos[mid] += np.clip(np.asarray(target) - d.mocap_pos[mid], -0.01, 0.01)
        d.ctrl[:] = (grip, -grip)
        mujoco.mj_step(m, d)


def _hand(m, d):
    return d.xpos[m.body("hand").id].copy()


def test_tools_family_is_complete():
    assert set(scenes_mt50_tools.SCENES) == set(TOOLS)
    assert all(t in scenes.ALL_TASKS for t in TOOLS)


@pytest.mark.parametrize("task", TOOLS)
def test_compiles_refs_and_pairs(task):
    m = scenes.build_model(task)
    sd = scenes_mt50.SCENES[task]
    _refs(task, m)
    assert not m.geom_contype.any() and not m.geom_conaffinity.any()  # only the listed pairs collide
    assert m.npair == len(sd.pairs) == len({(a, b) for a, b, _ in sd.pairs})
    for j in (*sd.free, *sd.joints):
        assert m.joint(j).id >= 0


# Reset observation obs[4:18] vs the real env's from the same rand_vec (episode 0: Meta-World's nut and hammer
# orientations are then the fresh env's; later episodes keep whatever the previous episode left, which we do not
# model). Positions are Meta-World's placements; the orientations its recorded ones: 1e-5 is float32 rounding.
@pytest.mark.parametrize("task", TOOLS)
def test_reset_observation_matches_real_env(task):
    rv, reset_obs = _fixture(task)
    obs = _rollout(task).reset(rv[None])[0]
    np.testing.assert_allclose(obs[4:18], reset_obs[4:18], atol=1e-5)
    np.testing.assert_allclose(obs[36:39], reset_obs[36:39], atol=1e-5)


def test_joint_ranges_and_masses():
    m = scenes.build_model("hammer")
    j = m.joint("NailSlideJoint")
    np.testing.assert_allclose(m.jnt_range[j.id], (0.0, 0.1))
    assert m.body("hammer").mass[0] == pytest.approx(1.1)
    for task, y0 in (("stick-push", 0.0), ("stick-pull", 0.09)):
        m = scenes.build_model(task)
        np.testing.assert_allclose(m.jnt_range[m.joint("obj_slidex").id], (-0.2, 0.2))
        # stick-pull's reset puts Meta-World's y slide at 0.09, our zero: the range stays -0.2..0.2 in its terms
        np.testing.assert_allclose(m.jnt_range[m.joint("obj_slidey").id] + y0, (-0.2, 0.2), atol=1e-12)
        assert m.body("stick").mass[0] == pytest.approx(0.02)
    m = scenes.build_model("assembly")
    assert m.body("RoundNut").mass[0] == pytest.approx(0.22)


def test_stick_pull_thermos_starts_at_meta_worlds_offset():
    m, d, _ = _reset("stick-pull")
    np.testing.assert_allclose(d.xpos[m.body("thermos").id], (0.2, 0.69, 0.0), atol=1e-9)
    np.testing.assert_allclose(d.site_xpos[m.site("insertion").id], (0.2, 0.6, 0.132), atol=1e-9)


def test_objects_settle_where_meta_world_leaves_them():
    """After 40 idle steps the nut lies on the table (assembly) or around the peg (disassemble), the hammer on its
    head and handle end, tilted as Meta-World's (obs z 0.0278-0.0284 and quat y -0.0297 in the real episodes)."""
    m, d, _ = _reset("assembly")
    mujoco.mj_step(m, d, 40)
    assert d.site_xpos[m.site("RoundNut").id][2] == pytest.approx(0.019, abs=1.5e-3)
    m, d, p = _reset("disassemble")
    mujoco.mj_step(m, d, 40)
    centre = d.site_xpos[m.site("RoundNut").id]
    assert np.linalg.norm(centre[:2] - p["obj_init"][:2]) < 0.01 and centre[2] == pytest.approx(0.019, abs=1.5e-3)
    m, d, _ = _reset("hammer")
    mujoco.mj_step(m, d, 40)
    h = m.body("hammer").id
    assert d.xpos[h][2] == pytest.approx(0.0281, abs=2e-3)
    assert d.xquat[h][2] == pytest.approx(-0.0297, abs=5e-3)


def test_ring_cannot_leave_the_peg_sideways():
    """disassemble: a 20 N sideways push on the nut around the peg moves its centre at most the ring's clearance
    (inner radius 0.029 - peg 0.02) plus contact give; without the ring x peg pairs it would slide off."""
    m, d, p = _reset("disassemble")
    mujoco.mj_step(m, d, 20)
    nut = m.body("RoundNut").id
    for direction in ((1.0, 0.0), (0.0, -1.0)):
        d.xfrc_applied[nut, :2] = 20.0 * np.asarray(direction)
        mujoco.mj_step(m, d, 40)
        off = d.site_xpos[m.site("RoundNut").id][:2] - p["obj_init"][:2]
        assert np.linalg.norm(off) < 0.014, off
        d.xfrc_applied[nut] = 0.0


def test_hand_stops_on_the_table_beside_the_peg():
    """assembly: the real policy pushes the hand down beside the peg, where the fingers meet the table; driven
    10 cm below it (the weld pulling), the left pad stops the hand (it would follow the mocap to z -0.05)."""
    m, d, _ = _reset("assembly")
    _hand_at(m, d, (-0.15, 0.6, 0.15))
    _drive(m, d, (-0.15, 0.6, -0.05), 40)
    lo = m.geom("leftpad")
    bottom = d.geom_xpos[lo.id][2] - m.geom_size[lo.id][2]
    assert bottom > -0.015 and _hand(m, d)[2] > 0.03


def test_grip_lifts_wrench_and_hammer():
    """Pads closed around the wrench handle / hammer handle (hand lowered slowly, so no timing race) lift them."""
    for task, body, site in (("assembly", "RoundNut", "RoundNut-8"), ("hammer", "hammer", None)):
        m, d, _ = _reset(task)
        mujoco.mj_step(m, d, 30)
        b = m.body(body).id
        if site:  # the policy's grasp point: the handle end site - 2 cm in x
            grasp = d.site_xpos[m.site(site).id] + (-0.02, 0.0, 0.0)
        else:  # 4 cm along the handle from the hammer's origin
            grasp = d.xpos[b] + (-0.04, 0.0, 0.0)
        z0 = d.xpos[b][2]
        _hand_at(m, d, grasp + (0.0, 0.0, 0.12))
        _drive(m, d, grasp + (0.0, 0.0, 0.035), 40)
        _drive(m, d, grasp + (0.0, 0.0, 0.035), 20, grip=0.8)
        _drive(m, d, grasp + (0.0, 0.0, 0.135), 30, grip=0.8)
        assert d.xpos[b][2] > z0 + 0.07, task


def test_hammer_drives_the_nail_and_the_block_stops_it():
    """A hammer thrown head-first at the nail (+y) drives it towards its stop at 0.1 (success at > 0.09); the
    limit holds and the block stops the head at its face (y 0.75)."""
    m, d, _ = _reset("hammer")
    a = m.jnt_qposadr[m.joint("hammer_free").id]
    # head centre (origin + 0.16 x) at the nail head's height and x, its +y end 1 cm before the nail head's face
    d.qpos[a:a + 7] = (0.24 - 0.16, 0.631 - 0.072 - 0.01, 0.11, 1.0, 0.0, 0.0, 0.0)
    d.qvel[m.jnt_dofadr[m.joint("hammer_free").id]:][:6] = (0.0, 1.5, 0.0, 0.0, 0.0, 0.0)
    nail_max = 0.0
    for _ in range(40):
        mujoco.mj_step(m, d)
        nail_max = max(nail_max, _q(m, d, "NailSlideJoint"))
    assert 0.05 < nail_max <= 0.103
    g = m.geom("HammerHead").id
    head_front = d.geom_xpos[g][1] + 0.034 * abs(d.geom_xmat[g][5]) + 0.038  # capsule axis = geom z
    assert head_front < 0.75 + 0.006


def _push_stick(m, d, pos, force, steps):
    """The stick at ``pos`` (no gravity, its orientation held as the hand's grip holds it), pushed by a constant
    force (a free stick pushed at its centre against the 2 cm bar yaws and slips past it)."""
    s = m.jnt_qposadr[m.joint("stick_free").id]
    dof = m.jnt_dofadr[m.joint("stick_free").id]
    d.qpos[s:s + 7] = (*pos, 1.0, 0.0, 0.0, 0.0)
    gravity = m.opt.gravity.copy()
    m.opt.gravity[:] = 0.0
    d.xfrc_applied[m.body("stick").id, :3] = force
    for _ in range(steps):
        d.qpos[s + 3:s + 7], d.qvel[dof + 3:dof + 6] = (1.0, 0.0, 0.0, 0.0), 0.0
        mujoco.mj_step(m, d)
    m.opt.gravity[:] = gravity  # the model is the module's one per task (_rollout): the next reset needs gravity


def test_stick_pushes_thermos_and_wrist_is_blocked():
    """stick-push: the stick pushed into the thermos body along +x moves its x slide; the hand (wrist) driven into
    the thermos body above the stick height moves it too rather than passing through."""
    m, d, _ = _reset("stick-push")
    _push_stick(m, d, (0.06, 0.6, 0.1), (10.0, 0.0, 0.0), 30)  # end 3 cm before the body at z 0.1
    assert _q(m, d, "obj_slidex") > 0.05
    assert d.xpos[m.body("stick").id][0] + 0.05 < d.xpos[m.body("thermos").id][0] - 0.055  # not through it
    m, d, _ = _reset("stick-push")
    _hand_at(m, d, (0.0, 0.6, 0.15))
    _drive(m, d, (0.3, 0.6, 0.15), 40)
    assert _q(m, d, "obj_slidex") > 0.05  # the wrist box (hand z 0.15 + 0.039..0.093) meets the body


def test_stick_in_handle_pulls_thermos():
    """stick-pull: the stick's end inside the handle loop (end past the handle's x, as success needs), pushed
    along -y, drags the thermos along -y by the loop's bar."""
    m, d, _ = _reset("stick-pull")
    s = m.jnt_qposadr[m.joint("stick_free").id]
    d.qpos[s:s + 7] = (0.2, 0.579, 0.132, 1.0, 0.0, 0.0, 0.0)  # end at x 0.25 in the loop, on the bar
    mujoco.mj_forward(m, d)
    end = _rollout("stick-pull").quantities()["stick_end_pos"][0]
    assert end[0] >= d.site_xpos[m.site("insertion").id][0]
    _push_stick(m, d, (0.2, 0.579, 0.132), (0.0, -3.0, 0.0), 40)
    assert _q(m, d, "obj_slidey") < -0.03
    assert d.xpos[m.body("stick").id][1] > d.geom_xpos[m.geom("handle_bar").id][1]  # still on the bar's +y side


def test_touching_object_needs_both_pads_on_the_stick():
    m, d, _ = _reset("stick-push")
    stick = d.xpos[m.body("stick").id].copy()
    _hand_at(m, d, stick + (0.0, 0.0, 0.12))
    _drive(m, d, stick + (0.0, 0.0, 0.035), 30)
    assert not bool(_rollout("stick-push").quantities()["touching_object"][0])
    _drive(m, d, stick + (0.0, 0.0, 0.035), 20, grip=0.7)
    assert bool(_rollout("stick-push").quantities()["touching_object"][0])
