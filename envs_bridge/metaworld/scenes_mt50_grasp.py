"""MT50 scenes, grasp family (see ``scenes_mt50.py``): our MJCF for Meta-World 3.1.1's tasks, one ``SceneDef`` each.

coffee-pull, coffee-push, sweep, sweep-into and pick-place-wall here; the others in ``scenes_mt50_grasp2.py``.
Numbers are Meta-World 3.1.1's (XML assets and ``reset_model``; masses and inertias as its compiled model reports
them). Contact pairs follow a census of the real env (Meta-World's scripted policy, 3 episodes of 500 steps per
task, every geom pair in contact and its peak normal force): a pair is here if the real hand or object met that
surface, plus the surfaces a learning agent meets where the task is built to block it (the wall of
pick-place-wall). Everything else the real scene has (retaining walls at the table's edge, the coffee machine)
was never touched and carries no pair.
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld import scene_parts
from envs_bridge.metaworld.scene_defs import OBJ, PAD, WRIST, SceneDef, pairs, pose, scipy_quat, touching

__all__ = ["SCENES", "pad_touch", "touch_refs"]

_PADS = ("leftpad", "rightpad")
# Pad contacts: scene_defs.PAD. Meta-World's pad geoms also carry margin 0.001 (a contact acts from 1 mm apart), but
# MJX's box-box, box-capsule and box-sphere tests report no contact for separated geoms (dist 1, checked on mujoco-mjx
# 3.17.0), so a pair margin would act in C MuJoCo only; where the real grasp relies on it (box-close's handle) the
# object carries the millimetre instead.


def touch_refs(geom: str) -> dict[str, tuple[str, str]]:
    """Refs of the pads and the task's main geom (Meta-World's ``_get_id_main_object``) for ``pad_touch``."""
    return {"lpad_g": ("geom", "leftpad"), "rpad_g": ("geom", "rightpad"), "main_g": ("geom", geom)}


def pad_touch(refs, d, q) -> dict:
    """``touching_object``: Meta-World's ``touching_main_object`` (both pads in contact with the main geom)."""
    del q
    return {"touching_object": (touching(d, refs["lpad_g"], refs["main_g"])
                                & touching(d, refs["rpad_g"], refs["main_g"])).astype(jnp.float32)}



# ---------------------------------------------------------------- coffee-pull, coffee-push
# Mug (Meta-World's ``mug``: body ``obj`` with a free joint; collision cylinder r 0.028, half-height 0.033 centred
# 0.035 above the body origin, 0.1 kg, and a handle disc r 0.02 at +x, 0.01 kg; the compiled body: 0.11 kg, centre
# of mass (0.0031, 0, 0.0356), principal inertia (6.9e-5, 5.8e-5, 5.0e-5)). The cylinder is a box of the same width
# and height (MJX has no box-cylinder test); the pads grip it along y, where the box is as wide as the cylinder. The
# handle is dropped from collisions: the pads, at the hand's x +-0.015 and aimed 5 mm behind the mug's centre, met it
# in 46 of ~840 contact steps (coffee-push) at < 50 N.
# Meta-World never resets the mug's orientation: ``_set_obj_xyz`` writes the position only, so the mug keeps the
# tilt it settled into after falling from its XML height during the reset's 50 hand-settling steps (the same
# every episode, recorded reset_obs[7:11] = (x, y, z, w) (0.00471, -0.00261, -0.02984, 0.99954)); ``free_quat`` sets
# that orientation.
# Coffee machine: static, moved to mug + (0, 0.22, 0) (coffee-pull) or goal + (0, 0.22, 0) (coffee-push). In the
# real env's episodes neither hand nor mug touched it (the mug stays >= 9 cm in front of its base), so it carries
# no contact pair; its base box and spout are kept for rendering and inspection.
_MUG_QUAT = (0.99954027, 0.0047076955, -0.0026129012, -0.02983713)
_COFFEE = """
    <body name="obj" pos="0 0.6 0">
      <freejoint name="mugjoint"/>
      <inertial pos="0.00309 0 0.03564" mass="0.11" diaginertia="6.9e-5 5.8e-5 5.0e-5"/>
      <geom name="mug" type="box" pos="0 0 0.035" size="0.028 0.028 0.033"/>
    </body>
    <body name="coffee_machine" pos="0 0.9 0">
      <geom name="cm_base" type="box" pos="0 0 0.115" size="0.1 0.098 0.115"/>
      <geom name="cm_top" type="box" pos="0 0 0.3" size="0.1 0.098 0.07"/>
      <geom name="cm_spout" type="capsule" fromto="0 -0.141 0.126 0 -0.141 0.178" size="0.016"/>
    </body>"""
_COFFEE_PAIRS = pairs(_PADS, ("mug",), PAD) + (("mug", "table", OBJ),)


def _coffee_observe(refs, d):
    """Meta-World: ``get_body_com("obj")`` (the massless outer body's origin, the mug's bottom centre minus 2 mm)
    and the ``mug`` geom's orientation as a scipy quaternion."""
    return pose(d.xpos[refs["obj"]], scipy_quat(d.geom_xmat[refs["mug"]]))


def _coffee(machine_at: str) -> SceneDef:
    return SceneDef(body=_COFFEE, pairs=_COFFEE_PAIRS,
                    refs={"obj": ("body", "obj"), "mug": ("geom", "mug"), **touch_refs("mug")},
                    observe=_coffee_observe, moved={"coffee_machine": (machine_at, (0.0, 0.22, 0.0))},
                    free={"mugjoint": "body"}, free_quat={"mugjoint": _MUG_QUAT}, quantities=pad_touch)


# ---------------------------------------------------------------- sweep
# Block (Meta-World's ``block.xml`` in body ``obj``): box 0.04 m, 0.1 kg, inertia 2.7e-5, its centre 0.02 above the
# body origin. The reset puts the body origin at z 0.02, so the block starts 2 cm above the table and drops (as in
# Meta-World). obs: the body's position and its (w, x, y, z) quaternion, as Meta-World reads ``xquat``.
_SWEEP = """
    <body name="obj" pos="0 0.6 0.02">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0.02" mass="0.1" diaginertia="2.66667e-5 2.66667e-5 2.66667e-5"/>
      <geom name="objGeom" type="box" pos="0 0 0.02" size="0.02 0.02 0.02"/>
    </body>"""


def _sweep_observe(refs, d):
    return pose(d.xpos[refs["obj"]], d.xquat[refs["obj"]])


# ---------------------------------------------------------------- sweep-into
# Meta-World's ``table_with_hole`` (``scene_parts.HOLE_TABLE``) and its small cube (``scene_parts.cube``). The real
# hand rests on the raised top while sweeping (pads on the front, left and back boxes, up to 250 N), so the pads pair
# with all four; the cube meets them and the hole's floor.
# Table x cube and table x pads: Meta-World's ``table_with_hole`` collision boxes (``basic_scene_b``) have MuJoCo's
# default contact parameters (solref 0.02, solimp 0.9 0.95 0.001, friction 1 0.005 0.0001), which MuJoCo mixes (mean
# solref / solimp, the larger friction and condim) with the cube's own (0.01, 0.99 0.99 0.01, friction 1 0.1 0.002,
# condim 4) and the pads' (0.01, 0.95 0.99 0.01, friction 2 0.1 0.002, condim 4): softer than ``OBJ`` / ``PAD``.
# The real pads press the cube 15 mm into the top as they land on it (step 15 of the open-loop replays); with OBJ /
# PAD ours sank 4 mm. C MuJoCo, 5 episodes x 200 steps, open-loop TCP median: arm 4.4 -> 1.9 mm, floating hand
# 39.3 -> 25.3 mm; arm object within 10 mm at step 50 0.2 -> 0.4. Closed loop unchanged in kind (both hands keep the
# cube in the hole, see docs/metaworld_mt50.md).
CUBE_ON_TABLE = 'friction="1 1 0.1 0.002 0.002" solref="0.015 1" solimp="0.945 0.97 0.0055" condim="4"'
PAD_ON_TABLE = 'friction="2 2 0.1 0.002 0.002" solref="0.015 1" solimp="0.925 0.97 0.0055"'
_SWEEP_INTO = scene_parts.HOLE_TABLE + scene_parts.cube("0 0.6 0.07")
_TOP = scene_parts.HOLE_TABLE_TOPS


def _geom_observe(refs, d):
    """The body's position (= ``get_body_com`` / the geom's centre) and the geom's scipy quaternion."""
    return pose(d.xpos[refs["obj"]], scipy_quat(d.geom_xmat[refs["objGeom"]]))


# ---------------------------------------------------------------- pick-place-wall
# Puck as MT10's pick-place (cylinder r 0.02, half-height 0.02, 0.75 kg, as a 0.04 m cube), with the tilt it keeps
# from the reset's settle (Meta-World sets its position only; the same every episode, recorded). Wall: Meta-World's box
# at (0.1, 0.75, 0.06), half-sizes (0.12, 0.01, 0.06). The scripted policy climbs over it and never touches it, but
# it is the task's obstacle: pads, wrist and puck collide with it.
_PUCK_QUAT = (0.999999981, -1.00475844e-04, 1.64304061e-04, -9.37033669e-08)
_PICK_PLACE_WALL = """
    <body name="obj" pos="0 0.6 0.02">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0" mass="0.75" diaginertia="8.80012e-4 8.80012e-4 8.80012e-4"/>
      <geom name="objGeom" type="box" size="0.02 0.02 0.02"/>
    </body>
    <body name="wall" pos="0.1 0.75 0.06">
      <geom name="wall" type="box" size="0.12 0.01 0.06"/>
    </body>"""


def _obj_geom_refs() -> dict[str, tuple[str, str]]:
    return {"obj": ("body", "obj"), "objGeom": ("geom", "objGeom"), **touch_refs("objGeom")}


SCENES: dict[str, SceneDef] = {
    "coffee-pull": _coffee("obj_init"),
    "coffee-push": _coffee("goal"),
    "sweep": SceneDef(body=_SWEEP, pairs=pairs(_PADS, ("objGeom",), PAD) + (("objGeom", "table", OBJ),),
                      refs=_obj_geom_refs(), observe=_sweep_observe, free={"objjoint": "body"},
                      quantities=pad_touch),
    "sweep-into": SceneDef(body=_SWEEP_INTO,
                           pairs=(pairs(_PADS, ("objGeom",), PAD)
                                  + pairs(("objGeom",), _TOP + ("table",), CUBE_ON_TABLE)
                                  + pairs(_PADS, _TOP, PAD_ON_TABLE)),
                           refs=_obj_geom_refs(), observe=_geom_observe, free={"objjoint": "body"},
                           quantities=pad_touch),
    "pick-place-wall": SceneDef(body=_PICK_PLACE_WALL,
                                pairs=(pairs(_PADS, ("objGeom",), PAD) + (("objGeom", "table", OBJ),)
                                       + (("objGeom", "wall", OBJ),) + pairs(_PADS, ("wall",), PAD)
                                       + (("wrist", "wall", WRIST),)),
                                refs=_obj_geom_refs(), observe=_geom_observe, free={"objjoint": "body"},
                                free_quat={"objjoint": _PUCK_QUAT}, quantities=pad_touch),
}
