"""MT50 scenes, fixtures family (``envs_bridge/metaworld/scenes_mt50_fixtures.py``): C MuJoCo checks, no MJX compile.

Each scene: it compiles with the floating hand and its refs resolve; its reset observation (obs[4:18], computed by
the scene's own ``observe`` after placing the fixture and joint as ``specs_mt50.place`` says) matches Meta-World's
recorded reset observation (``tests/fixtures/metaworld/<task>.npz``); its task joint has the range the module
documents; and the hand, driven through its mocap as the env drives it, is blocked by the fixture's surfaces and
moves the task joint the way it should (past Meta-World's nominal limit where the real joint yields).
"""

from __future__ import annotations

import functools
import os

import mujoco
import numpy as np
import pytest

from envs_bridge.metaworld import scenes, scenes_mt50, specs_mt50
from envs_bridge.metaworld.cpu_sim import CpuRollout
from envs_bridge.metaworld.scenes_mt50_fixtures import SCENES

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "metaworld")
TASKS = ("button-press-topdown-wall", "button-press", "button-press-wall", "coffee-button", "handle-press-side",
         "handle-press", "handle-pull-side", "handle-pull", "dial-turn", "lever-pull", "faucet-open", "faucet-close")


def test_family_covers_its_tasks():
    assert set(SCENES) == set(TASKS)
    assert all(t in scenes.ALL_TASKS and scenes_mt50.SCENES[t] is SCENES[t] for t in TASKS)


@functools.cache
def _rollout(task: str) -> CpuRollout:
    """One episode of ``task`` in C MuJoCo, one per task for the module (its reset restores the model's body_pos)."""
    return CpuRollout(task, 1)


def _placed(task: str, rv):
    """Model and data after the env's reset from ``rv`` (``CpuRollout``: fixture moved, joint set, hand settled)."""
    r = _rollout(task)
    r.reset(np.asarray(rv)[None])
    return r.models[0], r.datas[0]


# Tolerance of the reset observation: 1e-5 (float32 placements) except where Meta-World's joint has moved during
# its 50-step hand settle and we start the joint at its placement value: the top-down button sits 0.46 mm up on
# its spring (soft limit), the lever has sagged 0.0009 rad (0.18 mm at the ball).
_RESET_TOL = {"button-press-topdown-wall": 6e-4, "lever-pull": 4e-4}


@pytest.mark.parametrize("task", TASKS)
def test_reset_observation_matches_metaworld(task):
    rec = np.load(os.path.join(FIXTURES, f"{task}.npz"))
    rv, want = rec["ep0/const/rand_vec"], rec["ep0/const/reset_obs"][4:18]
    got = _rollout(task).reset(rv[None])[0, 4:18]
    np.testing.assert_allclose(got, want, atol=_RESET_TOL.get(task, 1e-5))


_RANGES = {  # (joint, range): Meta-World's, or where the real joint goes under the scripted policy (module notes)
    "button-press": ("btnbox_joint", (-0.085, 0.0)), "button-press-wall": ("btnbox_joint", (-0.085, 0.0)),
    "button-press-topdown-wall": ("btnbox_joint", (-0.085, 0.0)), "coffee-button": ("goal_slidey", (0.0, 0.062)),
    "handle-press": ("handle_joint", (-0.172, 0.0)), "handle-press-side": ("handle_joint", (-0.172, 0.0)),
    "handle-pull": ("handle_joint", (-0.1, 0.019)), "handle-pull-side": ("handle_joint", (-0.1, 0.081)),
    "dial-turn": ("knob_Joint_1", (-3.14, 3.14)), "faucet-open": ("knob_Joint_1", (-1.57, 1.57)),
    "faucet-close": ("knob_Joint_1", (-1.57, 1.57)),
}


@pytest.mark.parametrize("task", TASKS)
def test_joint_range_and_stiff_limit(task):
    m = scenes.build_model(task)
    if task == "lever-pull":  # the real lever swings through its nominal [0, 1.57] against a return spring
        j = m.joint("LeverAxis").id
        assert not m.jnt_limited[j] and m.jnt_stiffness[j] == 10.0 and m.qpos_spring[m.jnt_qposadr[j]] == 0.0
        return
    name, rng = _RANGES[task]
    j = m.joint(name).id
    assert m.jnt_limited[j]
    np.testing.assert_allclose(m.jnt_range[j], rng, atol=1e-9)
    np.testing.assert_allclose(m.jnt_solimp[j, :3], (0.99, 0.999, 0.001))
    # explicit damping is stable at the env's 12.5 ms step: 2 (I + armature) / damping >= 0.02 s
    dof = m.jnt_dofadr[j]
    assert 2.0 * m.dof_M0[dof] / m.dof_damping[dof] >= 0.02  # dof_M0: the dof's inertia at qpos0 + armature


def _drive(task, start, end, steps=120, hold=40, grip=-1.0, rv=None):
    """The hand from ``start`` with its mocap moved in a straight line to ``end`` (``steps`` control steps, then
    ``hold``), fingers at ``grip``; the env's physics (12.5 ms steps). Returns model, data and the joint history."""
    if rv is None:
        rv = specs_mt50.SPECS[task].rand_low
    m, d = _placed(task, rv)
    offset, quat = scenes.settled_hand()
    start, end = np.asarray(start, float), np.asarray(end, float)
    d.qpos[0:3], d.qpos[3:7] = start + offset, quat
    d.mocap_pos[0] = start
    d.ctrl[:] = (grip, -grip)
    mujoco.mj_forward(m, d)
    sd = SCENES[task]
    adr = m.jnt_qposadr[m.joint(sd.joints[0]).id]
    qs = []
    for t in range(steps + hold):
        d.mocap_pos[0] = start + (end - start) * min(1.0, (t + 1) / steps)
        mujoco.mj_step(m, d)
        qs.append(d.qpos[adr])
    return m, d, np.array(qs)


def _front(m, d, geom, axis, sign=1):
    """The extreme coordinate of an axis-aligned box geom along ``axis`` (its face on the ``sign`` side)."""
    g = m.geom(geom).id
    return d.geom_xpos[g][axis] + sign * np.abs(d.geom_xmat[g].reshape(3, 3) @ m.geom_size[g])[axis]


def _box(task):  # the moved fixture's position at the lower corner of the task's range
    return np.asarray(specs_mt50.SPECS[task].rand_low[:3], float)


def test_button_press_pressed_to_the_box_and_blocked_by_it():
    b = _box("button-press")
    m, d, q = _drive("button-press", b + (0, -0.35, 0.0), b + (0, 0.1, 0.0))
    assert q.min() < -0.08 and q.min() > -0.1  # past Meta-World's -0.06 (success needs -0.0735), held near -0.085
    assert q[-1] < -0.08
    assert _front(m, d, "wrist", 1) < _front(m, d, "box_front", 1, -1) + 0.005  # the wrist stops at the box front


@pytest.mark.parametrize("task", ["button-press-wall", "button-press-topdown-wall"])
def test_wall_blocks_the_hand(task):
    wall_y = 0.6 if task == "button-press-wall" else 0.7
    m, d, _ = _drive(task, (0.1, wall_y - 0.15, 0.1), (0.1, wall_y + 0.15, 0.1))
    assert _front(m, d, "leftpad", 1) < wall_y - 0.01 + 0.005
    assert _front(m, d, "wrist", 1) < wall_y - 0.01 + 0.005


def test_button_topdown_pressed_by_a_claw_and_box_top_stops_the_other():
    b = _box("button-press-topdown-wall")
    m, d, q = _drive("button-press-topdown-wall", b + (0, -0.05, 0.45), b + (0, -0.05, 0.1))
    assert -0.1 < q.min() < -0.08 and q[-1] < -0.075
    assert _front(m, d, "rightpad", 2, -1) > _front(m, d, "box_top", 2) - 0.005


def test_coffee_button_pushed_to_the_machine_and_frame_stops_the_claw():
    b = _box("coffee-button")
    m, d, q = _drive("coffee-button", b + (0, -0.4, 0.25), b + (0, 0.0, 0.25))
    assert 0.05 < q[-1] < 0.07  # to where the button meets the machine (real 0.062), past the 0.03 limit
    # the left claw stops on the frame's bottom box (the mocap runs 18 cm on; the soft pad contact gives ~1.6 cm)
    assert _front(m, d, "leftpad", 1) < _front(m, d, "frame_low", 1, -1) + 0.02


@pytest.mark.parametrize("task", ["handle-press", "handle-press-side"])
def test_handle_pressed_down_past_metaworld_limit(task):
    m, d = _placed(task, specs_mt50.SPECS[task].rand_low)
    grip = d.site_xpos[m.site("handleStart").id].copy()
    # handle-press: the left claw over the lever (the scripted hand is 2 cm in front of the grip); -side: both
    # claws straddle the grip's length
    start = grip + ((0, -0.02, 0.12) if task == "handle-press" else (0, 0, 0.12))
    m, d, q = _drive(task, start, (start[0], start[1], 0.05), grip=1.0 if task == "handle-press-side" else -1.0)
    assert q[0] > -0.01 and q[-1] < -0.15 and q.min() > -0.175  # real: -0.160 / -0.170


def test_handle_pull_side_lifted_to_its_stop():
    task = "handle-pull-side"
    m, d = _placed(task, specs_mt50.SPECS[task].rand_low)
    p = d.site_xpos[m.site("handleCenter").id].copy()  # the lever between the open claws
    m, d, q = _drive(task, p + (0, 0, 0.1), p, steps=60, hold=0, grip=-1.0)
    adr = m.jnt_qposadr[m.joint("handle_joint").id]
    for t in range(160):  # close on it, then lift
        d.ctrl[:] = (1.0, -1.0)
        d.mocap_pos[0] = p + (0, 0, min(0.2, 0.002 * max(0, t - 40)))
        mujoco.mj_step(m, d)
        q = np.append(q, d.qpos[adr])
    assert q[0] < -0.09 and q.max() > -0.05  # lifted from the bottom (-0.1) ...
    assert q.max() < 0.081 + 0.01  # ... and held by the upper stop (the real maximum)


def test_handle_pull_lifted_from_below_to_its_stop():
    task = "handle-pull"
    m, d = _placed(task, specs_mt50.SPECS[task].rand_low)
    grip = d.site_xpos[m.site("handleStart").id] - (0, 0, 0.022)  # the grip's axis
    below = grip + (0, -0.05, -0.045 - 0.022 - 0.012)  # the left claw's top under the grip
    _, _, q = _drive(task, below, below + (0, 0, 0.2), steps=100, hold=20)
    assert q[0] < -0.09 and q[-1] > 0.0  # pushed up from the bottom, past Meta-World's 0 limit as the real one
    assert q.max() < 0.019 + 0.01


def test_dial_turns_when_its_bar_is_pushed():
    m, d = _placed("dial-turn", specs_mt50.SPECS["dial-turn"].rand_low)
    c = d.xpos[m.body("dial").id].copy()
    _, _, q = _drive("dial-turn", c + (0.06, -0.03, 0.09), c + (-0.1, -0.03, 0.09), steps=100, hold=20, grip=1.0)
    assert q[-1] < -0.3


def test_lever_lifted_past_its_nominal_limit():
    m, d = _placed("lever-pull", specs_mt50.SPECS["lever-pull"].rand_low)
    ball = d.site_xpos[m.site("leverStart").id].copy()
    _, d, q = _drive("lever-pull", ball + (0, -0.055, -0.12), ball + (0, 0.1, 0.15), steps=120, hold=10, grip=1.0)
    assert q.min() < -0.5  # up (Meta-World's angle -q > 0.5 rad): its [0, 1.57] limit does not hold, as in real


def test_lever_springs_back_when_released():
    m, d = _placed("lever-pull", specs_mt50.SPECS["lever-pull"].rand_low)
    adr = m.jnt_qposadr[m.joint("LeverAxis").id]
    d.qpos[0:3] = d.mocap_pos[0] = (0.4, 0.4, 0.3)  # the hand out of the lever's way
    d.qpos[adr] = -np.pi / 2  # held up at the goal by nothing: the real one is back at 0 within 20 steps, ours
    qs = []  # (a fifth of the real spring, the same damping) within 80
    for _ in range(80):
        mujoco.mj_step(m, d)
        qs.append(d.qpos[adr])
    assert abs(qs[-1]) < 0.1 and min(qs) > -np.pi / 2 - 0.01


def test_lever_claws_rest_on_the_table():
    b = _box("lever-pull")
    m, d, _ = _drive("lever-pull", b + (0.0, -0.25, 0.1), b + (0.0, -0.25, -0.15), grip=1.0)
    assert _front(m, d, "leftpad", 2, -1) > -0.01  # the mocap goes to -0.15; the table holds the claws


@pytest.mark.parametrize("task", ["faucet-open", "faucet-close"])
def test_faucet_turns_when_its_handle_is_pushed(task):
    m, d = _placed(task, specs_mt50.SPECS[task].rand_low)
    base = d.xpos[m.body("faucetBase").id].copy()
    sign = 1.0 if task == "faucet-open" else -1.0
    start = base + (-sign * 0.06, -0.16, 0.17)
    _, _, q = _drive(task, start, start + (sign * 0.2, 0, 0), steps=100, hold=20, grip=1.0)
    assert sign * q[-1] > 0.5
