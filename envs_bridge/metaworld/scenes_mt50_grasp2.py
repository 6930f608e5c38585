"""MT50 scenes, grasp family part 2 (see ``scenes_mt50_grasp.py`` for the method): basketball, bin-picking,
box-close, pick-out-of-hole, shelf-place, peg-unplug-side.

Numbers are Meta-World 3.1.1's (XML assets, ``reset_model``, the compiled model's masses and inertias); contact
pairs follow the real env's contact census (Meta-World's scripted policy, 3 episodes of 500 steps per task).
"""

from __future__ import annotations

import math

from envs_bridge.metaworld import scene_parts
from envs_bridge.metaworld.reward_utils import norm
from envs_bridge.metaworld.scene_defs import OBJ, PAD, WRIST, SceneDef, pairs, pose, scipy_quat
from envs_bridge.metaworld.scenes_mt50_grasp import pad_touch, touch_refs

__all__ = ["SCENES"]

_PADS = ("leftpad", "rightpad")



def _body_observe(refs, d):
    """``get_body_com(body)`` (gymnasium: the body's origin ``xpos``) and its ``xquat`` (w, x, y, z)."""
    return pose(d.xpos[refs["obj"]], d.xquat[refs["obj"]])


# ---------------------------------------------------------------- basketball
# Ball: sphere r 0.03, 0.1 kg, inertia 3.6e-5 (body ``bsktball``). Hoop (body ``basket_goal``, moved to the goal -
# (0, -0.083, 0.25): the goal is the hoop's ``goal`` site, hooplink at (0, -0.083, 0.25)): backboard box (0.1, 0.01,
# 0.07) at z 0.29; the rim, eight capsules r 0.01 half-length 0.016 tangent to a circle of radius 0.0445 around the
# hooplink (Meta-World's ring); pole and foot and the rim's bracket to the backboard are never met (census) and
# dropped. The real left pad and claw press the backboard while the ball is dunked (up to 414 N), the wrist met it
# too; the ball meets the rim and the backboard.
def _ring(radius=0.0445, half=0.016, n=8) -> str:
    out = ""
    for k in range(n):
        phi = 2.0 * math.pi * k / n
        cx, cy = radius * math.cos(phi), radius * math.sin(phi)
        tx, ty = -math.sin(phi) * half, math.cos(phi) * half
        out += (f'\n        <geom name="rim{k}" type="capsule" size="0.01" fromto="{cx - tx:.5f} {cy - ty:.5f} -0.001 '
                f'{cx + tx:.5f} {cy + ty:.5f} -0.001"/>')
    return out


_BASKETBALL = """
    <body name="bsktball" pos="0 0.6 0.03">
      <freejoint name="balljoint"/>
      <inertial pos="0 0 0" mass="0.1" diaginertia="3.6e-5 3.6e-5 3.6e-5"/>
      <geom name="objGeom" type="sphere" size="0.03"/>
    </body>
    <body name="basket_goal" pos="0 0.9 0">
      <geom name="backboard" type="box" pos="0 0 0.29" size="0.1 0.01 0.07"/>
      <geom name="pole" type="capsule" pos="0 0 0.118" size="0.007 0.108"/>
      <body name="hooplink" pos="0 -0.083 0.25">""" + _ring() + """
        <site name="goal" pos="0 0 0"/>
      </body>
    </body>"""
_RIM = tuple(f"rim{k}" for k in range(8))
# Pads x ball: impedance raised from PAD's (0.97, 0.99) to (0.99, 0.995) (a pad margin would do nothing in MJX). At our 12.5 ms step MuJoCo stretches the
# contact time constant to 0.025 s (Meta-World's is 0.01 s, at 2.5 ms), so the fingers' 240 N squeeze sinks them
# into a 0.1 kg object ~6x deeper than in Meta-World; on the sphere (one point per pad) the crushed ball was squeezed
# out of the grip after the dunk (C MuJoCo, 10 episodes: last-step success 0.0, real 1.0; with this 0.7).
_PAD_BALL = PAD.replace('solimp="0.97 0.99 0.01"', 'solimp="0.99 0.995 0.01"')
assert _PAD_BALL != PAD


# ---------------------------------------------------------------- bin-picking
# Cube: box 0.02, 0.1 kg, inertia 2.7e-5 (body ``obj``, origin at its centre, placed on the start bin's floor at
# z 0.03). Bins ``binA`` (-0.12, 0.7, 0) and ``binB`` (0.12, 0.7, 0), static: floor (0.1, 0.1, 0.005) at z 0.005 and
# four walls 0.06 high (half-sizes (0.1, 0.005, 0.03) at y +-0.095, (0.005, 0.09, 0.03) at x +-0.095). The cube meets
# both floors and every wall (and the table when dropped outside); the real hand (mocap z >= 0.07) never met a bin
# in the census, but its pads reach 2.5 cm above the floors, below the walls' tops: the two walls the hand crosses
# between the bins (binA's +x, binB's -x) pair with the pads; the outer walls, 0.19 m apart, do not (simplification).
def _bin(name: str, x: float) -> str:
    return f"""
    <body name="{name}" pos="{x} 0.7 0">
      <geom name="{name}_floor" type="box" pos="0 0 0.005" size="0.1 0.1 0.005"/>
      <geom name="{name}_yn" type="box" pos="0 -0.095 0.03" size="0.1 0.005 0.03"/>
      <geom name="{name}_yp" type="box" pos="0 0.095 0.03" size="0.1 0.005 0.03"/>
      <geom name="{name}_xn" type="box" pos="-0.095 0 0.03" size="0.005 0.09 0.03"/>
      <geom name="{name}_xp" type="box" pos="0.095 0 0.03" size="0.005 0.09 0.03"/>
    </body>"""


_BIN_PICKING = """
    <body name="obj" pos="-0.12 0.7 0.03">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0" mass="0.1" diaginertia="2.66667e-5 2.66667e-5 2.66667e-5"/>
      <geom name="objGeom" type="box" size="0.02 0.02 0.02"/>
    </body>""" + _bin("binA", -0.12) + _bin("binB", 0.12)
_BIN_GEOMS = tuple(f"{b}_{p}" for b in ("binA", "binB") for p in ("floor", "yn", "yp", "xn", "xp"))


# ---------------------------------------------------------------- box-close
# Lid (``boxbodytop``, free, turned 90 degrees about z; ``top_link`` 0.075 above it: 0.25 kg, centre of mass 0.0313
# above its origin, principal inertia (1.80, 1.39, 1.09) e-3): plate (Meta-World's convex mesh, 0.23 x 0.23 x 0.023
# m, centred 4 mm below the link) and the four 0.016 m skirt boxes at +-0.11 as one plate box and four skirts; the
# handle: Meta-World's own primitives, a bar capsule along y (r 0.008, half-length 0.05, z 0.082) and two posts
# (r 0.008, half-length 0.035 at y +-0.05, z 0.043; the handle mesh that duplicates them is dropped), each 1 mm
# thicker (r 0.009): the closed fingers leave an 18.2 mm gap (the left finger's range stops at -0.03) and the real
# pads hold the 16 mm bar only through their 1 mm contact margins (census: both pads at +0.7-1.0 mm, 10-95 N); MJX
# has no margin for box-capsule, so the bar carries it (C MuJoCo, 10 episodes: without it one pad alone touched the
# bar, the lid was never lifted, any-step success 0.1 vs the real 0.9). Box
# (``boxbody``, static, moved to the goal's x, y): floor and four walls as the bins (0.06 high). The pads meet only
# the handle (census); the lid meets the table (plate) and the walls (plate on their tops, skirts on their sides).
# Meta-World never re-orients the lid: it keeps the tilt it settled into during the reset, which depends on the goal
# (Meta-World steps the physics once more after moving the box; quaternion x, y components within +-0.0021 over
# MT50(seed=0)'s variations 0, 3, 7). The lid starts untilted, turned 90 degrees about z (``free_quat``).
_LID_QUAT = (0.70710678, 0.0, 0.0, 0.70710678)
_BOX_CLOSE = """
    <body name="boxbody" pos="0 0.8 0">
      <geom name="box_floor" type="box" pos="0 0 0.005" size="0.1 0.1 0.005"/>
      <geom name="box_yn" type="box" pos="0 -0.095 0.03" size="0.1 0.005 0.03"/>
      <geom name="box_yp" type="box" pos="0 0.095 0.03" size="0.1 0.005 0.03"/>
      <geom name="box_xn" type="box" pos="-0.095 0 0.03" size="0.005 0.09 0.03"/>
      <geom name="box_xp" type="box" pos="0.095 0 0.03" size="0.005 0.09 0.03"/>
    </body>
    <body name="boxbodytop" pos="0 0.8 0" quat="1 0 0 1">
      <freejoint name="lidjoint"/>
      <body name="top_link" pos="0 0 0.075">
        <inertial pos="0 0 0.03128" mass="0.25" diaginertia="0.001803 0.001391 0.00109"/>
        <geom name="lid_plate" type="box" pos="0 0 -0.004" size="0.115 0.115 0.0117"/>
        <geom name="skirt_xp" type="box" pos="0.11 0 -0.008" size="0.005 0.115 0.008"/>
        <geom name="skirt_xn" type="box" pos="-0.11 0 -0.008" size="0.005 0.115 0.008"/>
        <geom name="skirt_yn" type="box" pos="0 -0.11 -0.008" size="0.115 0.005 0.008"/>
        <geom name="skirt_yp" type="box" pos="0 0.11 -0.008" size="0.115 0.005 0.008"/>
        <geom name="BoxHandleGeom" type="capsule" fromto="0 -0.05 0.082 0 0.05 0.082" size="0.009"/>
        <geom name="handle_post_n" type="capsule" fromto="0 -0.05 0.008 0 -0.05 0.078" size="0.009"/>
        <geom name="handle_post_p" type="capsule" fromto="0 0.05 0.008 0 0.05 0.078" size="0.009"/>
      </body>
    </body>"""
_WALLS = ("box_yn", "box_yp", "box_xn", "box_xp")
# skirts sit outside the walls; the lid frame is turned 90 degrees, so its x skirts face the box's y walls
_SKIRT_WALL = (("skirt_xp", "box_yp"), ("skirt_xn", "box_yn"), ("skirt_yn", "box_xp"), ("skirt_yp", "box_xn"))
_BOX_CLOSE_PAIRS = (pairs(_PADS, ("BoxHandleGeom", "handle_post_n", "handle_post_p"), PAD)
                    + (("lid_plate", "table", OBJ),) + pairs(("lid_plate",), _WALLS, OBJ)
                    + tuple((s, w, OBJ) for s, w in _SKIRT_WALL))


# ---------------------------------------------------------------- pick-out-of-hole
# Meta-World's ``table_with_hole`` variant of this task: a 0.054 m thick top with a hole x +-0.15, y 0.65-0.95 whose
# floor is z 0 (our ``table``); the peg (cylinder r 0.02, half-height 0.02, 0.01 kg, rotation frozen by a 1e5 inertia)
# stands in it at (0, 0.75). The real hand goes down into the hole (mocap z >= -0.05): pads on the floor and on the
# hole's front edge (block y 0.2-0.65) as the peg is lifted out towards the goal in front; the peg meets the floor
# and the front block. The side and back blocks, 0.13-0.2 m from the peg's fixed x, y, are never met (census): no
# pairs. The cylinder is a 0.04 m cube (MJX has no box-cylinder test).
_PICK_OUT_OF_HOLE = scene_parts.cube("0 0.75 0.02") + """
    <body name="holetable" pos="0 0.6 0">
      <geom name="top_front" type="box" pos="0 -0.175 0.027" size="0.7 0.225 0.027"/>
      <geom name="top_back" type="box" pos="0 0.375 0.027" size="0.15 0.025 0.027"/>
      <geom name="top_left" type="box" pos="-0.425 0.225 0.027" size="0.275 0.175 0.027"/>
      <geom name="top_right" type="box" pos="0.425 0.225 0.027" size="0.275 0.175 0.027"/>
    </body>"""


# ---------------------------------------------------------------- shelf-place
# Cube: box 0.02, 0.01 kg, rotation frozen (1e5 inertia), friction 2. Shelf (static, moved to goal - (0, 0, 0.3)):
# its shelf plates (0.1, 0.095, 0.01) at z 0.05 and 0.24 (y -0.015), back wall (0.1, 0.01, 0.32) at y +0.09, side
# walls (0.01, 0.1, 0.32) at x +-0.11, top and base. The cube lands on the upper plate and can slide to the back wall;
# the real wrist hits the back wall (up to 920 N) and the pads brushed the plate (census); side walls, top, base and
# the lower plate were never met and are kept without pairs.
_SHELF_PLACE = scene_parts.cube("0 0.6 0.02") + """
    <body name="shelf" pos="0 0.8 0">
      <geom name="shelf_side_n" type="box" pos="-0.11 0 0.32" size="0.01 0.1 0.32"/>
      <geom name="shelf_side_p" type="box" pos="0.11 0 0.32" size="0.01 0.1 0.32"/>
      <geom name="shelf_top" type="box" pos="0 0 0.65" size="0.12 0.1 0.01"/>
      <geom name="shelf_plate" type="box" pos="0 -0.015 0.24" size="0.1 0.095 0.01"/>
      <geom name="shelf_plate_low" type="box" pos="0 -0.015 0.05" size="0.1 0.095 0.01"/>
      <geom name="shelf_back" type="box" pos="0 0.09 0.32" size="0.1 0.01 0.32"/>
      <geom name="shelf_base" type="box" pos="0 -0.008 0.021" size="0.1 0.088 0.021"/>
    </body>"""


def _obj_geom_observe(refs, d):
    """``get_body_com("obj")`` and the ``objGeom`` orientation as a scipy quaternion."""
    return pose(d.xpos[refs["obj"]], scipy_quat(d.geom_xmat[refs["objGeom"]]))


# ---------------------------------------------------------------- peg-unplug-side
# Plug (``plug1``, free; 0.08 kg, centre of mass 0.0129 behind its origin (-x), principal inertia (1.3, 1.3, 0.44)
# e-4): head sphere r 0.03 at -0.035 (inside the wall's hole), flange disc r 0.045 x 0.014 at -0.013 (as a box of
# the same extent), grip block (0.035, 0.038, 0.038) at +0.025 and knob sphere r 0.04 at +0.06; sites pegHead/pegEnd
# at -+0.04. Wall (``box``, static, moved to the vector; ``plug_wall`` 0.099 above it): the hole is y +-0.022,
# z 0.01-0.054 in a 0.05 m thick wall (side pieces (0.025, 0.039, 0.022) at y +-0.061, top (0.025, 0.1, 0.023),
# bottom (0.025, 0.1, 0.055)). The head (r 0.03) is wider than the hole: it starts wedged (real contact forces
# 670-920 N) and must be pulled out against that friction; it pairs with the four pieces around the hole. The
# flange pairs with them too: it starts 1 mm into the wall face, which pushes the plug 1 mm out in the reset's first
# steps, and when the descending hand presses the grip block down the plug pivots about the wedged head, its flange's
# lower edge pressing into the face: that contact holds the tilt. Without it (C MuJoCo, 5 episodes x 200 steps,
# open-loop replays of the real actions) the plug's end sank 40-60 mm below the real one's by step 50 (object within
# 10 mm at step 50: arm 0.2, floating hand 0.0; with it 1.0 and 1.0; arm any-step success 0.2 -> 1.0, real 1.0).
# Pads grip block, knob and flange; the wrist met flange and block (census).
_PEG_UNPLUG = """
    <body name="plug1" pos="-0.256 0.6 0.131">
      <freejoint name="plugjoint"/>
      <inertial pos="-0.012875 0 0" mass="0.08" diaginertia="1.3e-4 1.3e-4 4.4e-5"/>
      <geom name="plug_head" type="sphere" pos="-0.035 0 0" size="0.03"/>
      <geom name="plug_flange" type="box" pos="-0.013 0 0" size="0.007 0.045 0.045"/>
      <geom name="plug_block" type="box" pos="0.025 0 0" size="0.035 0.038 0.038"/>
      <geom name="plug_knob" type="sphere" pos="0.06 0 0" size="0.04"/>
      <site name="pegHead" pos="-0.04 0 0"/>
      <site name="pegEnd" pos="0.04 0 0"/>
    </body>
    <body name="box" pos="-0.3 0.6 0">
      <geom name="wall_side_p" type="box" pos="0 0.061 0.131" size="0.025 0.039 0.022"/>
      <geom name="wall_side_n" type="box" pos="0 -0.061 0.131" size="0.025 0.039 0.022"/>
      <geom name="wall_top" type="box" pos="0 0 0.176" size="0.025 0.1 0.023"/>
      <geom name="wall_bottom" type="box" pos="0 0 0.054" size="0.025 0.1 0.055"/>
    </body>"""


def _plug_observe(refs, d):
    """Meta-World: the ``pegEnd`` site and the ``plug1`` body's ``xquat`` (w, x, y, z)."""
    return pose(d.site_xpos[refs["pegEnd"]], d.xquat[refs["obj"]])


SCENES: dict[str, SceneDef] = {
    "basketball": SceneDef(
        body=_BASKETBALL,
        pairs=(pairs(_PADS, ("objGeom",), _PAD_BALL) + (("objGeom", "table", OBJ),)
               + pairs(("objGeom",), ("backboard",) + _RIM, OBJ) + pairs(_PADS, ("backboard",), PAD)
               + (("wrist", "backboard", WRIST),)),
        refs={"obj": ("body", "bsktball")}, observe=_body_observe,
        moved={"basket_goal": ("goal", (0.0, 0.083, -0.25))}, free={"balljoint": "body"}),
    "bin-picking": SceneDef(
        body=_BIN_PICKING,
        pairs=(pairs(_PADS, ("objGeom",), PAD) + pairs(("objGeom",), _BIN_GEOMS + ("table",), OBJ)
               + pairs(_PADS, ("binA_xp", "binB_xn"), PAD)),
        refs={"obj": ("body", "obj")}, observe=_body_observe, free={"objjoint": "body"},
        latch={"target_to_obj_init": lambda q: norm(q["obj_pos"] - q["target_pos"])}),
    "box-close": SceneDef(
        body=_BOX_CLOSE, pairs=_BOX_CLOSE_PAIRS, refs={"obj": ("body", "top_link")}, observe=_body_observe,
        moved={"boxbody": ("goal", (0.0, 0.0, -0.133))}, free={"lidjoint": "body"},
        free_quat={"lidjoint": _LID_QUAT}),
    "pick-out-of-hole": SceneDef(
        body=_PICK_OUT_OF_HOLE,
        pairs=(pairs(_PADS, ("objGeom",), PAD) + pairs(("objGeom",), ("table", "top_front"), OBJ)
               + pairs(_PADS, ("table", "top_front"), PAD)),
        refs={"obj": ("body", "obj")}, observe=_body_observe, free={"objjoint": "body"}),
    "shelf-place": SceneDef(
        body=_SHELF_PLACE,
        pairs=(pairs(_PADS, ("objGeom",), PAD) + pairs(("objGeom",), ("table", "shelf_plate", "shelf_back"), OBJ)
               + pairs(_PADS, ("shelf_plate",), PAD) + (("wrist", "shelf_back", WRIST),)),
        refs={"obj": ("body", "obj"), "objGeom": ("geom", "objGeom"), **touch_refs("objGeom")},
        observe=_obj_geom_observe, moved={"shelf": ("goal", (0.0, 0.0, -0.3))}, free={"objjoint": "body"},
        quantities=pad_touch),
    "peg-unplug-side": SceneDef(
        body=_PEG_UNPLUG,
        pairs=(pairs(_PADS, ("plug_block", "plug_knob", "plug_flange"), PAD)
               + pairs(("wrist",), ("plug_flange", "plug_block"), WRIST)
               + pairs(("plug_head", "plug_flange"), ("wall_side_p", "wall_side_n", "wall_top", "wall_bottom"), OBJ)),
        refs={"obj": ("body", "plug1"), "pegEnd": ("site", "pegEnd")}, observe=_plug_observe,
        moved={"box": ("goal", (-0.194, 0.0, -0.131))}, free={"plugjoint": "body"}),
}
