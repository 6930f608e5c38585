"""Our scenes' movable objects carry Meta-World's mass properties, as MuJoCo sees them.

MuJoCo softens a contact by the two bodies' ``body_invweight0`` (regulariser ``R = (1 - d) / d * (w1 + w2)``) and a
joint limit by ``dof_invweight0``; both follow from the body's mass *and* its inertial frame (a slide-joint body
whose centre of mass sits at its origin gets three times the estimate of one whose centre is offset). So an object
with Meta-World's mass but a made-up inertia presses into the hand's pads deeper than the real one (drawer-close:
3.4 mm against the real 1.5 mm under the same ~1 kN) and, on a hinge, swings with another inertia.

The reference is ``tests/fixtures/metaworld/mass_properties.json``, recorded from Meta-World 3.1.1 by
``scripts/record_metaworld_mass.py`` (every massive body welded to a jointed body outside the Sawyer, every hinge
and slide joint). Each real body must have a body of the same mass in our arm scene (1 %) with the same
``body_invweight0`` (5 %, translational and rotational), each named joint the same ``dof_invweight0`` (5 %).
The MT10 scenes that predate this check and miss it are strict xfails (``docs/metaworld_mjx.md``, "Mass properties
against Meta-World's"): setting their real inertials moved their tuned behaviour away from the real env.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from envs_bridge.metaworld import ARM_PHYSICS, scenes

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "metaworld", "mass_properties.json")
with open(FIXTURE) as _f:
    _REF = json.load(_f)["tasks"]
_SAWYER = ("hand", "mocap", "head")  # with the arm's right_* links and the fingers' *claw* / *pad* bodies

# Real movable bodies our scenes leave out or fix, each by its scene's notes (the real env's episodes never move them):
# reach-wall's puck (scenes_mt50_sliding), coffee-button's mug (scenes_mt50_fixtures) and the coffee machine's
# button in coffee-pull / coffee-push (a static machine there, scenes_mt50_grasp).
_SCENERY = {("reach-wall", 0.75), ("coffee-button", 0.11), ("coffee-pull", 0.1), ("coffee-push", 0.1)}

# Measured misses (ours / real), kept: see the module docstring.
_KNOWN = {
    "button-press-topdown": "button body_invweight0 100 / 30.3, dof 100 / 90.9 (centre of mass at the origin)",
    "drawer-open": "drawer_link body_invweight0 2.63 / 0.875 (centre of mass at the origin)",
    "drawer-close": "drawer_link body_invweight0 2.63 / 0.875 (centre of mass at the origin)",
    "door-open": "door_link dof_invweight0 11.2 / 6.63: the leaf's inertia about the hinge 0.089 / 0.151 kg m^2",
    "door-close": "door_link dof_invweight0 11.2 / 6.63 (the same leaf as door-open)",
}


def _ours(model) -> tuple[list, dict]:
    """(name, mass, invweight0) of every massive non-hand body welded to a jointed body; {joint: dof_invweight0}."""
    import mujoco

    name = lambda b: mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or f"body{b}"
    bodies = [(name(b), float(model.body_mass[b]), model.body_invweight0[b].copy()) for b in range(1, model.nbody)
              if model.body_weldid[b] != 0 and model.body_mass[b] >= 1e-3
              and not name(b).startswith("right_") and name(b) not in _SAWYER
              and "claw" not in name(b) and "pad" not in name(b)]
    joints = {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j): float(model.dof_invweight0[model.jnt_dofadr[j]])
              for j in range(model.njnt)}
    return bodies, joints


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * abs(b) + 1e-6


def _misses(task: str) -> list[str]:
    model = scenes.build_model(task, frame_skip=ARM_PHYSICS["frame_skip"], hand="arm")
    bodies, joints = _ours(model)
    out = []
    for ref in _REF[task]["bodies"]:
        same_mass = [b for b in bodies if _close(b[1], ref["mass"], 0.01)]
        if not same_mass:
            if (task, round(ref["mass"], 4)) not in _SCENERY:
                out.append(f"{ref['body']}: no body of {ref['mass']:.4g} kg")
            continue
        iw = np.asarray(ref["invweight0"])
        if not any(_close(b[2][0], iw[0], 0.05) and _close(b[2][1], iw[1], 0.05) for b in same_mass):
            out.append(f"{ref['body']}: invweight0 ours {[np.round(b[2], 4).tolist() for b in same_mass]} "
                       f"real {np.round(iw, 4).tolist()}")
    for ref in _REF[task]["joints"]:
        if ref["joint"] in joints and not _close(joints[ref["joint"]], ref["dof_invweight0"], 0.05):
            out.append(f"{ref['joint']}: dof_invweight0 ours {joints[ref['joint']]:.4g} real {ref['dof_invweight0']:.4g}")
    return out


@pytest.mark.parametrize("task", [pytest.param(t, marks=pytest.mark.xfail(reason=_KNOWN[t], strict=True))
                                  if t in _KNOWN else t for t in sorted(_REF)])
def test_movable_objects_have_meta_worlds_mass_properties(task):
    misses = _misses(task)
    assert not misses, misses


def test_the_check_catches_an_origin_centred_slide_body():
    # The mechanism, on a one-body toy: the same 0.38 kg slide body with its centre of mass at its origin and 6 cm
    # off it. MuJoCo 3.17's estimate is 1 / 0.38 = 2.63 for the first and a third of it, 0.875, for the second
    # (Meta-World's drawer_link: 0.8749); the check's 5 % band separates them.
    import mujoco

    def invweight(ipos: str) -> float:
        xml = (f'<mujoco><worldbody><body><joint type="slide" axis="0 1 0" armature="0.001"/>'
               f'<inertial pos="{ipos}" mass="0.38" diaginertia="0.003 0.002 0.001"/></body></worldbody></mujoco>')
        return float(mujoco.MjModel.from_xml_string(xml).body_invweight0[1][0])

    at_origin, offset = invweight("0 0 0"), invweight("0 -0.0616 -0.0021")
    assert abs(at_origin - 1 / 0.38) < 0.01 and abs(offset - 1 / 0.381 / 3) < 0.01
    assert not _close(at_origin, _REF["drawer-close"]["bodies"][0]["invweight0"][0], 0.05)
    assert _close(offset, _REF["drawer-close"]["bodies"][0]["invweight0"][0], 0.05)
