"""MT50 scenes, sliding family (see ``scenes_mt50.py``): our MJCF for Meta-World 3.1.1's tasks, one ``SceneDef`` each.

The four plate slides, reach-wall, push-wall, push-back, soccer and hand-insert here; the doors (door-close,
door-lock, door-unlock) in ``scenes_mt50_sliding2.py``. Numbers are Meta-World 3.1.1's (XML assets, ``reset_model``,
the compiled model's masses, joint and contact parameters). Contact pairs follow a census of the real env
(Meta-World's scripted policy, 10 variations of ``MT50(seed=0)`` x 500 steps per task, every geom pair in contact):
a pair is here if the real hand or object met that surface (or, for the walls, where the task is built to block the
hand); surfaces never touched carry no pair.
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld import scene_parts
from envs_bridge.metaworld.scene_defs import (
    OBJ,
    OBJ_ON_TABLE,
    PAD,
    WRIST,
    SceneDef,
    pairs,
    pose,
    scipy_quat,
    touching,
)

__all__ = ["SCENES", "pad_touch", "pose", "touch_refs"]

_PADS = ("leftpad", "rightpad")



def touch_refs(geom: str) -> dict[str, tuple[str, str]]:
    """Refs of the pads and the task's main geom (Meta-World's ``_get_id_main_object``) for ``pad_touch``."""
    return {"lpad_g": ("geom", "leftpad"), "rpad_g": ("geom", "rightpad"), "main_g": ("geom", geom)}


def pad_touch(refs, d, q) -> dict:
    """``touching_object``: Meta-World's ``touching_main_object`` (both pads in contact with the main geom)."""
    del q
    return {"touching_object": (touching(d, refs["lpad_g"], refs["main_g"])
                                & touching(d, refs["rpad_g"], refs["main_g"])).astype(jnp.float32)}


# ---------------------------------------------------------------- plate slides
# Puck (Meta-World's ``puck.xml``): a 0.1 x 0.1 x 0.03 m box, 0.05 kg, on two slide joints (``goal_slidex`` range
# [-0.2, 0.2], ``goal_slidey`` [0, 0.3], damping 1, armature 0.001) in the static body ``puck_channel`` at
# (0, 0.6, 0.015). Its bottom face lies exactly on the table (distance 0: MuJoCo makes no contact, and the real puck
# has none with the table in any step), so it has no table pair: it slides against its joint damping only.
# Joint limits: Meta-World's are MuJoCo's default soft limits (solref 0.02 1, solimp 0.9 0.95 0.001) on a 0.05 kg
# puck, and the arm pushes the puck straight through them (real env, scripted policy, 10 episodes: goal_slidex
# reaches -0.379 in plate-slide-side, +0.287 in -back-side, -0.272 in -back, and springs back towards the range when
# the fingers let go; the overshoot past the goal is why those three tasks end every episode unsolved, last-step
# success 0). So the puck keeps Meta-World's range and a soft limit, not the stiff ``solimplimit`` of the other task
# joints. Its time constant is 0.07 s, not 0.02: our soft-welded hand pushes and grips the puck (pads on its top
# face) less hard than the arm, and with 0.02 (MuJoCo raises it to 0.025 at our 12.5 ms step) it stopped 9 cm
# short of the real excursion (-side: -0.285 vs -0.379; -back: -0.217 vs -0.272; -back-side: 0.225 vs 0.287); with
# 0.07: -0.416 (the net then stops the hand), -0.265 and 0.296.
# Goal net (``puck_goal.xml``, static): the hand and puck meet its slanted back net (a convex mesh from y 0.079 at
# z 0.009 up to y 0.0375 at z 0.177: a thin box tilted 0.242 rad about x), its top plate (z 0.174-0.179, y -0.07 to
# 0.038), its two side nets (x +-0.1015, y -0.07 to 0.08), the front crossbar (capsule r 0.008 at y -0.0685,
# z 0.174) and the back bottom bar (capsule r 0.008 at y 0.077, z 0.009); the front posts and side bottom bars
# were never touched and are left out. The nets are thin (3-7 mm) meshes; our boxes keep their inner faces and are
# 4 cm thick outwards, so that the soft-welded hand pressing on them cannot tunnel through (with the real 6 mm the
# wrist crept through plate-slide-side's back net in ~100 steps). plate-slide moves the net to the goal; -side keeps it at (-0.3, 0.6, 0)
# turned 1.57 about z and -back at (0, 0.85, 0) (their reset writes ``data.xpos``, which the next step overwrites);
# -back-side moves it to the puck's start part of the vector, turned.
_PUCK_LIMIT = 'solreflimit="0.07 1" solimplimit="0.9 0.95 0.001"'
_PUCK = f"""
    <body name="puck_channel" pos="0 0.6 0.015">
      <body name="puck" pos="0 0 0">
        <joint name="goal_slidex" type="slide" axis="1 0 0" range="-0.2 0.2" damping="1" armature="0.001"
               {_PUCK_LIMIT}/>
        <joint name="goal_slidey" type="slide" axis="0 1 0" range="0 0.3" damping="1" armature="0.001"
               {_PUCK_LIMIT}/>
        <inertial pos="0 0 0" mass="0.05" diaginertia="4.54e-5 4.54e-5 8.33e-5"/>
        <geom name="puck" type="box" size="0.05 0.05 0.015"/>
      </body>
    </body>"""


def _net(pos: str, euler: str) -> str:
    return f"""
    <body name="puck_goal" pos="{pos}" euler="{euler}">
      <geom name="net_back" type="box" pos="0 0.0748 0.0971" euler="0.2423 0 0" size="0.103 0.02 0.0865"/>
      <geom name="net_top" type="box" pos="0 -0.016 0.194" size="0.103 0.054 0.02"/>
      <geom name="net_side_n" type="box" pos="-0.118 0.005 0.093" size="0.02 0.075 0.084"/>
      <geom name="net_side_p" type="box" pos="0.118 0.005 0.093" size="0.02 0.075 0.084"/>
      <geom name="net_crossbar" type="capsule" fromto="-0.1 -0.0685 0.174 0.1 -0.0685 0.174" size="0.008"/>
      <geom name="net_backbar" type="capsule" fromto="-0.1 0.077 0.009 0.1 0.077 0.009" size="0.008"/>
    </body>"""


def _plate_observe(refs, d):
    """Meta-World: geom ``puck``'s centre and its orientation as a scipy quaternion."""
    return pose(d.geom_xpos[refs["puck"]], scipy_quat(d.geom_xmat[refs["puck"]].reshape(3, 3)))


def _plate(net_pos: str, net_euler: str, net_moved: str | None, plate_pairs) -> SceneDef:
    return SceneDef(body=_PUCK + _net(net_pos, net_euler), pairs=pairs(_PADS, ("puck",), PAD) + plate_pairs,
                    refs={"puck": ("geom", "puck")}, observe=_plate_observe,
                    moved={"puck_goal": net_moved} if net_moved else {}, joints=("goal_slidex", "goal_slidey"))


# ---------------------------------------------------------------- walls (reach-wall, push-wall)
# Wall (Meta-World's ``wall`` body, fixed): box at (0.1, 0.75, 0.06), half-sizes (0.12, 0.01, 0.06). The scripted
# policies go round (push-wall) or over (reach-wall) it and the real hand never touched it, but it is the tasks'
# obstacle, so the hand (wrist, both fingers) and the puck collide with it.
_WALL = """
    <body name="wall" pos="0.1 0.75 0.06">
      <geom name="wall" type="box" size="0.12 0.01 0.06"/>
    </body>"""
_WALL_PAIRS = pairs(_PADS, ("wall",), PAD) + (("wrist", "wall", WRIST),)

# reach-wall's puck (cylinder r 0.03, half-height 0.015, 0.75 kg) is scenery: the real hand never touched it (10
# episodes; its only contact is the table), so, as MT10's reach puck, it is a static body (moved to the vector's
# first part, z 0.015 = its resting height) without contacts; a box of the cylinder's width and height. obs: its
# position (``get_body_com``) and identity orientation (the real puck is tilted by < 4e-4 from its reset drop).
_REACH_PUCK = """
    <body name="obj" pos="0 0.6 0.015">
      <geom name="objGeom" type="box" size="0.03 0.03 0.015"/>
    </body>"""

# push-wall's puck: MT10 push's (cylinder r 0.02, half-height 0.02, 0.75 kg, inertia 8.8e-4, as a 0.04 m cube; MJX
# has no box-cylinder test). obs: geom ``objGeom``'s centre and scipy quaternion.
_PUSH_PUCK = """
    <body name="obj" pos="0 0.6 0.02">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0" mass="0.75" diaginertia="8.80012e-4 8.80012e-4 8.80012e-4"/>
      <geom name="objGeom" type="box" size="0.02 0.02 0.02"/>
    </body>"""


def _geom_observe(refs, d):
    """geom ``objGeom``'s centre and orientation (scipy quaternion)."""
    return pose(d.geom_xpos[refs["objGeom"]], scipy_quat(d.geom_xmat[refs["objGeom"]].reshape(3, 3)))


_OBJ_REFS = {"objGeom": ("geom", "objGeom"), **touch_refs("objGeom")}


# ---------------------------------------------------------------- push-back
# Block (Meta-World's push-back ``obj``): 0.04 m box, 0.75 kg, rotation frozen by a 1e5 inertia, friction 2 (the
# pads' and the table's contacts take the larger, MuJoCo's max rule: OBJ here carries friction 2 too). obs: geom
# ``objGeom``'s centre and scipy quaternion (identity: the rotation never moves).
_PUSH_BACK = """
    <body name="obj" pos="0 0.6 0.02">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0" mass="0.75" diaginertia="1e5 1e5 1e5"/>
      <geom name="objGeom" type="box" size="0.02 0.02 0.02"/>
    </body>"""
_OBJ2 = OBJ.replace('friction="1 1 ', 'friction="2 2 ')

# ---------------------------------------------------------------- soccer
# Ball (Meta-World's ``soccer_ball``): sphere r 0.026, 0.04 kg (a solid sphere's inertia), free, placed 4 mm above
# the table (z 0.03) and dropping, as Meta-World's. obs: the ball's centre (``get_body_com``) and the body's scipy
# quaternion (it rolls). Goal (``soccer_goal``, static, moved to the goal): convex meshes, here boxes keeping their
# inner faces (4 cm thick outwards, so that the hand cannot tunnel through): the back net slanting from y 0.064 at
# the floor to y 0 at z 0.165 (a box tilted 0.375 rad about x), the two side nets (inner faces x +-0.09, y +-0.064,
# z 0-0.165) and the top (x +-0.09, y -0.064 to 0.014, z 0.154-0.165). Real contacts: the fingers on the table (the
# policy pushes at tcp height 0), the ball on the table, the fingers, the back and the +x side; the wrist on the
# back, sides and top; the fingers on the +x side. The -x side gets the +x side's pairs (the policy approaches from
# either side; the 10 recorded goals happened to favour one).
# Ball x table: Meta-World's table collision box (``table_col``) has MuJoCo's default contact parameters (solref 0.02,
# solimp 0.9 0.95 0.001) and the ball's class ``soccer_col`` (0.01, 0.99 0.99 0.01); MuJoCo mixes them to solref
# 0.015, solimp (0.945, 0.97, 0.0055) (the parameters of ``WRIST``), softer than the ball's own ``OBJ``. With ``OBJ``
# the pad pressed the ball 5 mm into the table where the real one goes 13 mm and pops up ahead of the fingers; mixed:
# 14.5 mm, popping to z 0.069 (real 0.071). Open loop on the arm (C MuJoCo, 5 episodes x 200 steps): ball within
# 10 mm at step 50 in 0.0 -> 0.4 of the episodes, TCP median 2.9 -> 2.2 mm.
_SOCCER = """
    <body name="soccer_ball" pos="0 0.6 0.03">
      <freejoint name="balljoint"/>
      <inertial pos="0 0 0" mass="0.04" diaginertia="1.0816e-5 1.0816e-5 1.0816e-5"/>
      <geom name="objGeom" type="sphere" size="0.026"/>
    </body>
    <body name="goal_whole" pos="0 0.9 0">
      <geom name="goal_back" type="box" pos="0 0.0501 0.0898" euler="0.375 0 0" size="0.09 0.02 0.0887"/>
      <geom name="goal_side_n" type="box" pos="-0.11 0 0.0825" size="0.02 0.064 0.0825"/>
      <geom name="goal_side_p" type="box" pos="0.11 0 0.0825" size="0.02 0.064 0.0825"/>
      <geom name="goal_top" type="box" pos="0 -0.025 0.159" size="0.09 0.039 0.0057"/>
    </body>"""
_GOAL_SIDES = ("goal_side_n", "goal_side_p")


def _body_observe(refs, d):
    """The body's position and its orientation as a scipy quaternion."""
    return pose(d.xpos[refs["obj"]], scipy_quat(d.xmat[refs["obj"]].reshape(3, 3)))


# ---------------------------------------------------------------- hand-insert
# Meta-World's ``table_with_hole``: the table top is 5 cm higher (z 0.05) round a 0.16 x 0.16 m hole at x +-0.08,
# y 0.76-0.92 whose floor is z 0 (our ``table`` plane): four boxes as Meta-World's (front, left, right, back of the
# hole). Block: 0.04 m box, 0.01 kg, rotation frozen by a 1e5 inertia, placed with its centre at z 0.05, i.e. 2 cm
# into the raised top, from which it pops up in the first steps (as in Meta-World: z 0.05 -> 0.07 in 20 steps).
# obs: the body's position and ``xquat`` (w, x, y, z). Real contacts: the pads and the block, the block on the
# floor and the front, left and right tops, the fingers on the floor (inside the hole) and on the back top. The
# fingers also pair with the front, left and right tops: the hand that reaches for the block on the raised top
# meets them (the scripted policy's fingers stop just above).
_HAND_INSERT = scene_parts.HOLE_TABLE + scene_parts.cube("0 0.6 0.05")
_TOPS = scene_parts.HOLE_TABLE_TOPS


def _xquat_observe(refs, d):
    return pose(d.xpos[refs["obj"]], d.xquat[refs["obj"]])


_TURNED = "0 0 1.57"
SCENES: dict[str, SceneDef] = {
    # Real contacts: the wrist on the net's top plate, crossbar and back net (it stops the hand, and so the puck,
    # short of the net), the pushing (left) finger on the back net, the puck on the back bar and back net.
    "plate-slide": _plate("0 0.85 0", "0 0 0", "goal",
                          pairs(("wrist",), ("net_top", "net_crossbar", "net_back"), WRIST)
                          + (("leftpad", "net_back", PAD),) + pairs(("puck",), ("net_backbar", "net_back"), OBJ)),
    # The fingers rest on the table while pushing (hand z 0.045); the wrist meets the back and side nets, which stop
    # the hand at x -0.313. The real puck is pushed 5 cm into the back net (its contact yields like its limits), so
    # the puck has no net pair here; the fingers do (they stop our hand pitching about the wrist's contact and
    # creeping on through the net: without them it reached x -0.39 and lost the puck).
    "plate-slide-side": _plate("-0.3 0.6 0", _TURNED, None,
                               pairs(_PADS, ("table", "net_back"), PAD)
                               + pairs(("wrist",), ("net_back", "net_side_n"), WRIST)),
    # Only the fingers and the puck meet (the net stays clear behind the puck's start).
    "plate-slide-back": _plate("0 0.85 0", "0 0 0", None, ()),
    "plate-slide-back-side": _plate("-0.25 0.6 0", _TURNED, "obj_init", ()),
    "reach-wall": SceneDef(body=_REACH_PUCK + _WALL, pairs=_WALL_PAIRS, refs={"objGeom": ("geom", "objGeom")},
                           observe=_geom_observe, moved={"obj": "obj_init"}),
    "push-wall": SceneDef(body=_PUSH_PUCK + _WALL,
                          pairs=(pairs(_PADS, ("objGeom",), PAD) + (("objGeom", "table", OBJ), ("objGeom", "wall", OBJ))
                                 + _WALL_PAIRS),
                          refs=_OBJ_REFS, observe=_geom_observe, free={"objjoint": "body"}, quantities=pad_touch),
    "push-back": SceneDef(body=_PUSH_BACK, pairs=pairs(_PADS, ("objGeom",), PAD) + (("objGeom", "table", _OBJ2),),
                          refs=_OBJ_REFS, observe=_geom_observe, free={"objjoint": "body"}, quantities=pad_touch),
    "soccer": SceneDef(body=_SOCCER,
                       pairs=(pairs(_PADS, ("objGeom",), PAD) + pairs(_PADS, ("table",) + _GOAL_SIDES, PAD)
                              + (("objGeom", "table", OBJ_ON_TABLE),) + pairs(("objGeom",), ("goal_back",) + _GOAL_SIDES, OBJ)
                              + pairs(("wrist",), ("goal_back", "goal_top") + _GOAL_SIDES, WRIST)),
                       refs={"obj": ("body", "soccer_ball"), **touch_refs("objGeom")}, observe=_body_observe,
                       moved={"goal_whole": "goal"}, free={"balljoint": "body"}, quantities=pad_touch),
    "hand-insert": SceneDef(body=_HAND_INSERT,
                            pairs=(pairs(_PADS, ("objGeom", "table") + _TOPS, PAD)
                                   + pairs(("objGeom",), ("table",) + _TOPS, OBJ)),
                            refs={"obj": ("body", "obj"), **touch_refs("objGeom")}, observe=_xquat_observe,
                            free={"objjoint": "body"}, quantities=pad_touch),
}
