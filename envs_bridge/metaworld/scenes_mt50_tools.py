"""MT50 scenes, tools family (see ``scenes_mt50.py``): our MJCF for Meta-World 3.1.1's tasks, one ``SceneDef`` each.

assembly / disassemble (wrench: a ring nut with a handle, on a peg), hammer (hammer and a nail on a slide joint
in a block), stick-push / stick-pull (a stick and a thermos on two slide joints). Numbers are Meta-World's (its
XML assets ``assembly_peg.xml``, ``hammer.xml``, ``hammerblock.xml``, ``stick.xml``, ``thermos.xml``,
``sawyer_*.xml`` and the task classes' ``reset_model``), read, not copied; masses and inertias are the ones MuJoCo
computes for Meta-World's collision geoms (its ``inertiagrouprange="4 5"``), given as explicit ``<inertial>``.
Every geom is a primitive (box, capsule) with ``contype = conaffinity = 0`` and collides only through the pairs
listed (``scenes.py``'s rules); the simplifications are said where made.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

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

__all__ = ["PAD_FIRM", "SCENES"]

_PADS = ("leftpad", "rightpad")
_STIFF_LIMIT = 'solimplimit="0.99 0.999 0.001"'
# Pad contacts on this family's light objects (0.22 kg nut, 0.02 kg stick; the hammer's handle): ``PAD`` with the
# impedance raised from 0.97-0.99 to 0.99-0.999. At our 12.5 ms step MuJoCo raises PAD's 0.01 s time constant to
# 2 steps (0.025 s, 6x softer than Meta-World's at 2.5 ms), and the steady penetration under the fingers' ~300 N
# squeeze grows as 1 / object mass: 8 mm into the nut's handle (the pads then slide over its top edge and the nut
# drops out: disassemble 0/10) where Meta-World's fingers stop at the handle's surface (q 0.0277 for 0.028).
# (1 - dmax) 0.01 -> 0.001 brings it to ~1 mm. Grasps still slipped (the hammer pivoted in the grip) until every pad
# pair got Meta-World's torsional friction, condim 4 (``scenes.py``, session 14). C MuJoCo scripted closed loop,
# 10 episodes, PAD -> firm (real): disassemble any 0.0 -> 1.0 (1.0), hammer 0.0 -> 0.1 (1.0), stick-push last 0.2
# -> 0.0 (0.0), stick-pull any / last 0.7 / 0.3 -> 0.8 / 0.1 (1.0 / 0.4), assembly 1.0 unchanged.
PAD_FIRM = PAD.replace('solimp="0.97 0.99 0.01"', 'solimp="0.99 0.999 0.01"')
# Object x table: Meta-World's table collision box has MuJoCo's default contact parameters (solref 0.02, solimp
# 0.9 0.95 0.001, condim 3), which MuJoCo mixes (the mean; condim the larger) with the object's class: the nut's and
# the hammer's (0.01, 0.99 0.99 0.01) give solref 0.015, solimp (0.945, 0.97, 0.0055) (``WRIST``'s parameters), the
# stick's (0.02, 0.998 0.998 0.001, condim 4) solref 0.02, solimp (0.949, 0.974, 0.001), condim 4; softer than the
# objects' own ``OBJ`` these pairs had. With ``OBJ`` the hammer, placed 2-3.8 cm into the table as Meta-World's reset
# leaves it, was thrown 4 cm up in its first steps (real: pushed out to 0.03) and then sat 11 mm higher in the grip.
# C MuJoCo, 5 episodes x 200 steps, the arm: hammer object within 10 mm at step 50 0.4 -> 0.8 (1.0 with
# ``scenes_mt50_arm``'s pads), any / last-step success 0.8 / 0.8 -> 1.0 / 1.0 (real 1.0 / 1.0), success steps
# 40 -> 135 (133): every target met; stick-pull object 0.8 -> 1.0. The floating hand: hammer object 0.6 -> 0.2,
# any-step 0.2 -> 0.0 (real 1.0), stick-pull any / last 0.6 / 0.2 -> 0.8 / 0.6 (real 1.0 / 0.4).
_STICK_ON_TABLE = 'friction="1 1 0.005 0.0001 0.0001" solref="0.02 1" solimp="0.949 0.974 0.001" condim="4"'

# ---------------------------------------------------------------------------------------------------------------
# Wrench (assembly, disassemble). Meta-World's body ``RoundNut`` (free joint, quat (1, 0, 0, 1): its local -y, the
# handle, points along world +x) carries a ring of eight capsules (r 0.019, half-length 0.015) centred on a circle
# of radius 0.048 and tangent to it (inner clearance 0.029 around the peg's r 0.02), a rod cylinder (r 0.012,
# y -0.05..-0.15) and the handle box (half 0.019 x 0.038 x 0.016 at y -0.13); 0.22 kg (0.02 per ring capsule and
# the rod, 0.04 the handle). Sites ``RoundNut`` (ring centre, the reward's wrench_center) and ``RoundNut-8``
# (handle end, obs[4:7]). Simplifications: the rod is dropped (it lies inside the handle box from y -0.092 on, and
# its r 0.012 stays inside the ring's and the handle's 0.016-0.019 half-heights, so it touches nothing the handle
# and ring do not); only the four axis-aligned ring capsules and the handle rest on the table (four of eight
# capsules carry a flat-lying ring; each capsule-plane pair is two MJX contacts every step), all eight meet the peg.
_RING_R, _RING_CAP_R, _RING_HALF = 0.048, 0.019, 0.015


def _ring_geoms() -> str:
    out = []
    for i in range(8):
        a = i * math.pi / 4.0
        cx, cy = _RING_R * math.cos(a), _RING_R * math.sin(a)
        tx, ty = -math.sin(a) * _RING_HALF, math.cos(a) * _RING_HALF
        ft = " ".join(f"{v:.6f}" for v in (cx - tx, cy - ty, 0.0, cx + tx, cy + ty, 0.0))
        out.append(f'<geom name="ring{i}" type="capsule" fromto="{ft}" size="{_RING_CAP_R}"/>')
    return "\n      ".join(out)


# Meta-World's inertia of the nut's collision geoms (MuJoCo's computation in Meta-World's model).
_NUT = f"""
    <body name="RoundNut" pos="0 0.6 0.02" quat="0.70710678 0 0 0.70710678">
      <freejoint name="nut_free"/>
      <inertial pos="0 -0.0327273 0" quat="0.49999985 0.49998572 -0.50000015 0.50001428" mass="0.22"
                diaginertia="0.00113055 0.000917907 0.000247145"/>
      {_ring_geoms()}
      <geom name="WrenchHandle" type="box" pos="0 -0.13 0" size="0.019 0.038 0.016"/>
      <site name="RoundNut" pos="0 0 0"/>
      <site name="RoundNut-8" pos="0 -0.13 0"/>
    </body>"""

# Peg: Meta-World's static cylinder (r 0.02, half-height 0.05) as a capsule of the same radius whose dome ends at
# the cylinder's top (a ring of inner clearance 0.029 slides over either); the reset moves it (assembly: to the
# goal - (0, 0, 0.05); disassemble: to the nut + (0, 0, 0.03)). The bottom end goes below the table (no pair).
_PEG = """
    <body name="peg" pos="0.1 0.8 0.05">
      <geom name="peg" type="capsule" fromto="0 0 -0.07 0 0 0.03" size="0.02"/>
    </body>"""

_RINGS = tuple(f"ring{i}" for i in range(8))
# Contacts as Meta-World 3.1.1's scripted episodes have them (10 episodes each): pads x handle, ring x peg and
# table, handle x table, and in assembly the left finger x table (4,028 contact-steps: the policy pushes the hand
# down beside the peg; both our pads, as one alone rolls our floating hand about the weld).
_WRENCH_PAIRS = (pairs(_PADS, ("WrenchHandle",), PAD_FIRM)
                 + pairs(_RINGS, ("peg",), OBJ)
                 + pairs(("ring0", "ring2", "ring4", "ring6", "WrenchHandle"), ("table",), OBJ_ON_TABLE)
                 + pairs(_PADS, ("table",), OBJ))
_WRENCH_REFS = {"nut": ("body", "RoundNut"), "handle_end": ("site", "RoundNut-8"), "centre": ("site", "RoundNut")}
# Meta-World's nut orientation when the reset places it: the XML's (1, 0, 0, 1) after the hand settle (recorded
# reset observations, obs[7:11], identical in every episode).
_NUT_QUAT = (0.70710678, 0.00014, 0.00016, 0.70710678)


def _wrench_observe(refs, d):
    """obs[4:18]: handle end (site ``RoundNut-8``), nut ``xquat`` (w, x, y, z, as Meta-World reads it), zeros."""
    return pose(d.site_xpos[refs["handle_end"]], d.xquat[refs["nut"]])


def _wrench_quantities(refs, d, q):
    return {"wrench_center": d.site_xpos[refs["centre"]]}


def _wrench(peg_place) -> SceneDef:
    return SceneDef(body=_NUT + _PEG, pairs=_WRENCH_PAIRS, refs=_WRENCH_REFS, observe=_wrench_observe,
                    moved={"peg": peg_place}, free={"nut_free": "body"}, free_quat={"nut_free": _NUT_QUAT},
                    quantities=_wrench_quantities)


# ---------------------------------------------------------------------------------------------------------------
# Hammer. Meta-World's body ``hammer`` (free; obs[4:7] is its frame origin, ``get_body_com`` reads xpos) has a
# handle capsule along x (r 0.02, half-length 0.14, 0.1 kg) and at x 0.16 a head along y: a cylinder block
# (r 0.026) between two necks (r 0.02) and two striking discs (r 0.038, half-thickness 0.016, at y +-0.056, so the
# head spans y -0.072..0.072), 1.1 kg in all. Simplification: the head is one capsule along y (r 0.038, the
# discs' radius, ends at Meta-World's y +-0.072): round like the discs, so the hammer rests on the table as
# Meta-World's does, on its head and the handle's end (tilted -0.06 rad about y; a box head let it balance level
# on the box's flat bottom, the handle in the air, 1 cm higher than Meta-World's), and against the nail head's
# flat face the end dome pushes along y as a flat disc does while its centre is within the face (+-0.03).
# The block (``box``, fixed at (0.24, 0.85, 0)) is Meta-World's four boxes
# around the nail slot (x +-0.016, z 0.096-0.124) merged into one (half 0.1 x 0.1 x 0.11): the head (7.6 cm wide)
# cannot enter the 3.2 cm slot, and the nail's travel is its joint. The nail (``nail_link`` at block + (0, -0.21,
# 0.11), slide along +y, range 0..0.1, damping 2, armature 0.001, 0.0886 kg) keeps only its head disc (r 0.03,
# half-thickness 0.009) as a box of the disc's half-width (its shaft, r 0.01, runs inside the slot and is
# dropped): the hammer head drives it in (success: nail_qpos > 0.09) and the block then stops the head.
_HAMMER = """
    <body name="hammer" pos="0 0.6 0.02">
      <freejoint name="hammer_free"/>
      <inertial pos="0.145455 0 0" quat="-2.5986e-05 0.70703583 -2.598e-05 0.70717772" mass="1.1"
                diaginertia="0.00551808 0.00367168 0.00240685"/>
      <geom name="HammerHandle" type="capsule" fromto="-0.14 0 0 0.14 0 0" size="0.02"/>
      <geom name="HammerHead" type="capsule" fromto="0.16 -0.034 0 0.16 0.034 0" size="0.038"/>
    </body>
    <body name="box" pos="0.24 0.85 0">
      <geom name="nail_block" type="box" pos="0 0 0.11" size="0.1 0.1 0.11"/>
      <site name="nailHead" pos="0 -0.215 0.11"/>
      <site name="goal" pos="0 -0.11 0.11"/>
      <body name="nail_link" pos="0 -0.21 0.11">
        <joint name="NailSlideJoint" type="slide" axis="0 1 0" range="0 0.1" damping="2" armature="0.001"
               """ + _STIFF_LIMIT + """/>
        <inertial pos="0 0.0242553 0" quat="0.7071989 0.70701465 0 0" mass="0.0885929"
                  diaginertia="0.00012937 0.00012937 2.47872e-05"/>
        <geom name="nail_head" type="box" size="0.03 0.009 0.03"/>
      </body>
    </body>"""

# Meta-World's hammer orientation when the reset places it at z = 0 (settled on the table during the hand settle,
# then moved; recorded obs[7:11], the same in every episode): the body starts 2-3.8 cm into the table and the
# first steps push it out, as in Meta-World.
_HAMMER_QUAT = (0.99955737, 0.00016, -0.02975, 0.00002)


def _hammer_observe(refs, d):
    """obs[4:18]: hammer frame origin and xquat, nail_link origin and xquat (w, x, y, z)."""
    return jnp.concatenate([d.xpos[refs["hammer"]], d.xquat[refs["hammer"]], d.xpos[refs["nail"]],
                            d.xquat[refs["nail"]]])


def _hammer_quantities(refs, d, q):
    return {"nail_qpos": d.qpos[refs["nail_q"]]}


_HAMMER_SCENE = SceneDef(
    body=_HAMMER,
    pairs=(pairs(_PADS, ("HammerHandle",), PAD_FIRM)
           + pairs(("HammerHandle", "HammerHead"), ("table",), OBJ_ON_TABLE)
           + pairs(("HammerHead",), ("nail_head", "nail_block"), OBJ)),
    refs={"hammer": ("body", "hammer"), "nail": ("body", "nail_link"), "nail_q": ("joint", "NailSlideJoint")},
    observe=_hammer_observe,
    free={"hammer_free": "body"},
    free_quat={"hammer_free": _HAMMER_QUAT},
    joints=("NailSlideJoint",),
    quantities=_hammer_quantities,
)

# ---------------------------------------------------------------------------------------------------------------
# Stick tasks. Meta-World's ``stick`` (free; obs[4:7] its frame origin) is one box, half 0.05 x 0.02 x 0.02,
# 0.02 kg (geom ``objGeom``, the pads' ``touching_object`` geom), with site ``stick_end`` at +x 0.05. The thermos
# (body ``object`` fixed at (0.2, 0.6, 0); a child on two slide joints x and y, range +-0.2, damping 1, armature
# 0.001, 3.27 kg): body cylinder r 0.06 over z 0.04-0.24 as a capsule of that radius and cylinder section (its
# lower dome, r 0.057 at z 0.02, stands in for the r 0.062 base cylinder below z 0.04; the upper dome for the cap
# meshes, r 0.047, z 0.245-0.34), and the handle on its -y side: a vertical bar (half 0.01 x 0.005 x 0.068 at
# y -0.135, z 0.132) on two arms (half 0.01 x 0.04 x 0.005 at y -0.09, z 0.069 and 0.195), the loop the stick end
# enters in stick-pull (site ``insertion`` at its centre, (0, -0.09, 0.132)).
_STICK = """
    <body name="stick" pos="-0.15 0.75 0.02">
      <freejoint name="stick_free"/>
      <inertial pos="0 0 0" mass="0.02" diaginertia="5.33333e-06 1.93333e-05 1.93333e-05"/>
      <geom name="objGeom" type="box" size="0.05 0.02 0.02"/>
      <site name="stick_end" pos="0.05 0 0"/>
    </body>"""


# The slides keep Meta-World's +-0.2: under the scripted policies its soft x limit yields to 0.204-0.208 (recorded
# episodes), ours (stiff, pushed by the weld-driven hand) to 0.200-0.211 (C MuJoCo, 10 episodes per task); a range
# widened to the yielded 0.208 let ours reach 0.209-0.216.
def _thermos(y0: float) -> str:
    """The thermos with its slide joints at rest ``y0`` off Meta-World's zero (the range kept in world terms)."""
    return f"""
    <body name="object" pos="0.2 0.6 0">
      <body name="thermos" pos="0 {y0:g} 0">
        <joint name="obj_slidex" type="slide" axis="1 0 0" range="-0.2 0.2" damping="1" armature="0.001"
               {_STIFF_LIMIT}/>
        <joint name="obj_slidey" type="slide" axis="0 1 0" range="{-0.2 - y0:g} {0.2 - y0:g}" damping="1"
               armature="0.001" {_STIFF_LIMIT}/>
        <inertial pos="0 -0.002005 0.143155" quat="0.99999858 -0.0016873 0 0" mass="3.2678034"
                  diaginertia="0.0286943 0.0279374 0.00627956"/>
        <geom name="therm_body" type="capsule" fromto="0 0 0.04 0 0 0.24" size="0.06"/>
        <geom name="handle_bar" type="box" pos="0 -0.135 0.132" size="0.01 0.005 0.068"/>
        <geom name="handle_upper" type="box" pos="0 -0.09 0.195" size="0.01 0.04 0.005"/>
        <geom name="handle_lower" type="box" pos="0 -0.09 0.069" size="0.01 0.04 0.005"/>
        <site name="insertion" pos="0 -0.09 0.132"/>
      </body>
    </body>"""


_STICK_REFS = {"stick": ("body", "stick"), "insertion": ("site", "insertion"), "stick_end": ("site", "stick_end"),
               "stick_geom": ("geom", "objGeom"), "leftpad": ("geom", "leftpad"), "rightpad": ("geom", "rightpad")}


def _stick_observe(offset):
    def observe(refs, d):
        """obs[4:18]: stick origin, its orientation as scipy's (x, y, z, w), the thermos point, zeros."""
        return jnp.concatenate([d.xpos[refs["stick"]], scipy_quat(d.xmat[refs["stick"]].reshape(3, 3)),
                                d.site_xpos[refs["insertion"]] + jnp.asarray(offset, jnp.float32), jnp.zeros(4)])
    return observe


def _stick_quantities(refs, d, q):
    grip = touching(d, refs["leftpad"], refs["stick_geom"]) & touching(d, refs["rightpad"], refs["stick_geom"])
    return {"touching_object": grip, "stick_end_pos": d.site_xpos[refs["stick_end"]]}


# Contacts as Meta-World 3.1.1's scripted episodes have them (10 episodes each, every contact pair counted):
# stick-push: pads x stick, stick x table and thermos body, and the hand against the thermos body (the wrist
# mesh 2,672 contact-steps, pads and claws ~2,600); stick-pull: pads x stick, stick x table and the handle (lower
# arm 3,763, bar 1,481, upper arm 128), the pads / claws x lower arm (~7,800) and bar (~4,000), the wrist x bar
# (2,004), upper arm (671) and stick (964). Left out: pads x upper arm (< 600), the cap (< 140), the base
# cylinder (the capsule's lower dome stands in for it against the stick), and in stick-pull the wrist x thermos
# body (98 contact-steps, a brief graze of the tapered wrist mesh, 0.047 off the hand's axis, as the hand passes
# the thermos at y 0.6): our wrist box, as wide as the mesh's widest part (0.053), stays on the body over many
# steps and shoves the thermos along +y away from the stick (C MuJoCo, 10 episodes: any-step 0.7 -> 0.2, real 1.0).
_STICK_COMMON = pairs(_PADS, ("objGeom",), PAD_FIRM) + pairs(("objGeom",), ("table",), _STICK_ON_TABLE)
_STICK_PUSH_PAIRS = (_STICK_COMMON + pairs(("objGeom",), ("therm_body",), OBJ)
                     + pairs(("wrist",), ("therm_body",), WRIST) + pairs(_PADS, ("therm_body",), PAD))
_STICK_PULL_PAIRS = (_STICK_COMMON + pairs(("objGeom",), ("handle_bar", "handle_upper", "handle_lower"), OBJ)
                     + pairs(_PADS, ("handle_lower", "handle_bar"), PAD)
                     + pairs(("wrist",), ("handle_bar", "handle_upper", "objGeom"), WRIST))


def _stick_scene(y0: float, offset, stick_pairs) -> SceneDef:
    return SceneDef(body=_STICK + _thermos(y0), pairs=stick_pairs, refs=_STICK_REFS, observe=_stick_observe(offset),
                    free={"stick_free": "body"}, joints=("obj_slidex", "obj_slidey"), quantities=_stick_quantities)


SCENES: dict[str, SceneDef] = {
    # assembly: the peg's body sits 0.05 below the goal (its top, site pegTop).
    "assembly": _wrench(("goal", (0.0, 0.0, -0.05))),
    # disassemble: the nut starts on the peg, whose body is the nut's start + (0, 0, 0.03).
    "disassemble": _wrench(("obj_init", (0.0, 0.0, 0.03))),
    "hammer": _HAMMER_SCENE,
    # stick-push: obs[11:14] is the thermos centre line, site insertion + (0, 0.09, 0); the thermos at rest.
    "stick-push": _stick_scene(0.0, (0.0, 0.09, 0.0), _STICK_PUSH_PAIRS),
    # stick-pull: obs[11:14] is the handle (site insertion); Meta-World's reset sets the thermos' y slide to 0.09
    # (``obj_init_qpos``), which is our joints' zero (the placement's "joint" is 0 for both slides).
    "stick-pull": _stick_scene(0.09, (0.0, 0.0, 0.0), _STICK_PULL_PAIRS),
}
