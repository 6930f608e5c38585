"""The fixtures family on the arm (``scenes_mt50_fixtures.arm_body``, ``ARM_JOINTS``; ``_BTN_JOINT``'s stop):
C MuJoCo checks of the arm's scenes, no MJX compile.

``arm_body`` gives the arm's scenes Meta-World's own task joints (range with MuJoCo's default soft limit, damping,
armature); the button's stop has a 0.01 s time constant, which MuJoCo raises to 0.025 s at the floating hand's
12.5 ms step (the floating scenes unchanged) and keeps at the arm's 3.125 ms.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from envs_bridge.metaworld import scenes
from envs_bridge.metaworld.scenes_mt50_fixtures import ARM_JOINTS, arm_body

_ARM = {"frame_skip": 4, "iterations": 4, "ls_iterations": 4, "hand": "arm"}  # the MT10 configs' arm physics


def _arm_model(task: str) -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(scenes.scene_xml(task, **_ARM))  # scenes_arm.arm_body applies arm_body


@pytest.mark.parametrize("task", sorted(ARM_JOINTS))
def test_arm_scene_has_metaworlds_task_joint(task):
    m = _arm_model(task)
    j = m.joint(ARM_JOINTS[task][0])
    damping = {"handle_joint": 30.0, "LeverAxis": 2.0, "knob_Joint_1": 2.0}[j.name]  # Meta-World's XML
    assert m.dof_damping[j.dofadr[0]] == damping and m.dof_armature[j.dofadr[0]] == 0.001
    assert j.limited[0] and j.range[0] in (-0.1, 0.0, -1.57)
    # MuJoCo's default limit softness, which the arm pushes through where the real arm does
    np.testing.assert_allclose(j.solref, (0.02, 1.0))
    np.testing.assert_allclose(j.solimp[:3], (0.9, 0.95, 0.001))


def test_arm_body_leaves_other_tasks_and_rejects_a_missing_joint():
    assert arm_body("dial-turn", "<body/>") == "<body/>"
    with pytest.raises(ValueError, match="ARM_BODY is out of date"):
        arm_body("lever-pull", "<body/>")


def test_lever_soft_limit_on_the_arm_resists_as_the_real_one():
    # Meta-World 3.1.1 (measured, scenes_mt50_fixtures' lever comment): 2 N m holds the lever at -0.038 rad, its
    # violated soft limit a ~53 N m/rad spring. The limit's time constant (0.02 s) is above two of the arm's
    # 3.125 ms steps, so the same spring here; 5 % covers the ball's gravity torque (0.004 kg x 0.07 m x 9.81).
    m = _arm_model("lever-pull")
    d = mujoco.MjData(m)
    dof = m.joint("LeverAxis").dofadr[0]
    d.qfrc_applied[dof] = -2.0
    for _ in range(int(1.0 / m.opt.timestep)):
        mujoco.mj_step(m, d)
    assert d.qpos[m.joint("LeverAxis").qposadr[0]] == pytest.approx(-0.038, rel=0.05)


@pytest.mark.parametrize("hand,tc", [("floating", 0.025), ("arm", 0.01)])
def test_button_stop_time_constant_by_hand(hand, tc):
    # MuJoCo raises a limit's time constant to two timesteps: 2 x 12.5 ms for the floating hand (as with the
    # default 0.02, so its scene is unchanged); at the arm's 3.125 ms the 0.01 s stop stands.
    kw = _ARM if hand == "arm" else {"frame_skip": 1}
    m = mujoco.MjModel.from_xml_string(scenes.scene_xml("button-press", **kw))
    j = m.joint("btnbox_joint")
    assert max(j.solref[0], 2.0 * m.opt.timestep) == pytest.approx(tc)
