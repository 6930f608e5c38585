"""Arm-only scene numbers of the MT50 sliding and tools families: Meta-World's own values where the floating hand
needed a departure.

The departures (``scenes_mt50_sliding.py``, ``scenes_mt50_sliding2.py``, ``scenes_mt50_tools.py``) were fitted to
the 1 kg floating hand on its soft weld at 12.5 ms, whose push is ~60 N where the real arm's is ~400 N. On the
Sawyer arm (``hand="arm"``, 4 x 3.125 ms, Newton 4 + 4) the real numbers hold and the departures overshoot; measured
against the recorded Meta-World 3.1.1 episodes (C MuJoCo, 5 episodes x 200 steps, ``trajectory_parity --hand arm
--frame-skip 4``):

* the plate pucks' soft limits at Meta-World's time constant 0.02 s (floating: 0.07): the arm pushes the puck
  through them as far as the real arm does (joint excess plate-slide-side 0.187 -> 0.180, real 0.179;
  -back-side 0.240 -> 0.085, real 0.086);
* the lock's damping 2 and armature 0.001 (floating: 0.2 / 0.002, since Meta-World's numbers are unstable with
  explicit damping at 12.5 ms; at 3.125 ms they are stable): with 0.2 the 1 g bar, pressed down by the arm, swung
  0.03-0.09 rad past its stiff limit where the real one stops at it (door-lock excess 0.089 -> 0.016, real 0.000;
  success steps 89 -> 132, real 138; at 500 steps the open-loop replay no longer flips the bar up past 0, excess
  0.479 -> 0.049, real 0.014). door-unlock also gets Meta-World's soft limit: the real arm pushes the hanging bar
  0.11 rad past 1.57 before its wrist catches it and swings it round (one recorded episode); with the stiff limit
  and damping 2 the wrist missed it and that episode never unlocked (any-step 0.8); with both: last-step success
  0.8 -> 1.0 (real 1.0), success steps 142 -> 135 (real 148), the bar swinging 1.16 rad past the range (real 0.75
  at 200 steps, 1.76 at 500). door-lock keeps the stiff limit:
  there our left pad rests on the hanging bar's top end (3-4 kN) where the real hand slides off it, and at the soft
  limit the bar yielded 0.29 rad over 500 steps (real 0.014);
* the tools' pad contacts at Meta-World's mixed impedance (``scene_defs.PAD``, floating: the firm 0.99-0.999): the
  firm pads under the arm's squeeze made the 0.02 kg stick unstable (MuJoCo's bad-QACC warning, the stick flung up
  to 1.2 m) and held it 7 mm off the real grip (open-loop TCP median stick-push 7.6 -> 2.4 mm, stick-pull
  6.8 -> 2.6, disassemble 5.8 -> 3.7; stick-push joint excess 0.036 -> 0.005, real 0.008); the stick's pads with
  the real mix of the pad's (0.01, 0.95 0.99 0.01) and the stick's class (0.02, 0.998 0.998 0.001);
* the coffee mug on the table at Meta-World's mix of the mug's class ``cm_col`` (0.01, 0.99 0.99 0.01) and the
  table's defaults (0.02, 0.9 0.95 0.001): solref 0.015, solimp (0.945, 0.97, 0.0055) (``WRIST``'s numbers; the
  floating hand's scene: ``OBJ``, the mug's own). coffee-pull: object within 10 mm at step 50 0.6 -> 1.0, last-step
  success 0.8 -> 1.0 (real 1.0), success steps 108.8 -> 118.6 (122.4), TCP median 3.8 -> 2.9 mm: every target met;
  coffee-push: success steps 141.6 -> 144.0 (real 120.0), object 0.4 unchanged (at step 45 of the replays the real
  mug's origin rises 3 mm as the pads push it, ours stays flat: the cylinder tipping on its rim, we take it). The
  floating hand's numbers do not move with it (both tasks, to the printed digit), so its scene keeps ``OBJ``;
* the stick tasks' thermos slides at MuJoCo's default soft limit (solref 0.02, solimp 0.9 0.95; Meta-World's
  ``thermos.xml`` sets none; floating: stiff): the arm, pushing the thermos with its wrist at ~1.3 kN, drives it
  to x 0.2085 as the real arm does (recorded 0.2083; stiff 0.2006); stick-push joint excess 0.005 -> 0.009 (real
  0.008), stick positions at step 130 within 1.3 mm in x (stiff 9 mm); success cells unchanged (stick-pull
  success steps 41.8 -> 42.2);
* stick-pull's wrist x thermos body (``EXTRA_PAIRS``), the contact that drives the real thermos to its +x limit in
  every episode, which the floating hand's scene leaves out;
* hand-insert's cube and pads on the hole table at Meta-World's mixed impedance (``PAIR_PARAMS``,
  ``PAIR_GEOM_PARAMS``; sweep-into's numbers for the same table and cube), where the floating hand's scene keeps
  the cube's and the pads' own: the real cube, pressed by the pads, sinks into the hole's floor, in 7 of 50
  episodes 38 mm deep, and then the hand creeps off the goal with it;
* the coffee mug's round side for the pads (``PAD_GRIP``: a capsule of the cylinder's radius plus the pads' margin,
  where the floating hand's pads hold the box): the real pads, gripping ahead of the mug's axis, squeeze it out;
* shelf-place's wrist x the shelf's back wall at a quarter of the stiffness per contact (``PAIR_GEOM_PARAMS``; our
  two wrist boxes meet the wall with six contacts where the real wrist mesh has one): the hand stops as deep as the
  real one and the held cube reaches the wall.
* pick-out-of-hole's peg as the pads feel it (``PAD_GRIP``: a sphere of the cylinder's radius plus the pads'
  margin at its top face, where the floating hand's pads hold the cube): one contact per pad, as the real cylinder's,
  where the cube's face gave four; the first grip seats as high as the real one.
* soccer's back net through ``goal_col2``'s inner face (the floating hand's box: the outer face's foot, 15 mm deeper)
  and Meta-World's fingers on the ball (pad and claw pairs, 1 mm margin): the pushed-in ball rests within the pad's
  reach, and the pressed ball squirts out ahead of the hand as fast as the real one.
* sweep-into's pads on the cube with Meta-World's fingers' 1 mm margin (``PAIR_GEOM_PARAMS``): the pads catch the
  cube as it drops off the raised top's edge and it slides down in their grip, within the policy's reach, as the
  real one does.

``body(task, xml)`` and ``pairs(task, pairs)`` apply them; ``scenes_arm.arm_body`` and ``arm_pairs`` call them first.
"""

from __future__ import annotations

from envs_bridge.metaworld import scene_parts
from envs_bridge.metaworld.scene_defs import CLAW, OBJ, OBJ_ON_TABLE, PAD, WRIST, WRIST_ON_FACE, replace_each
from envs_bridge.metaworld.scenes_mt50_grasp import CUBE_ON_TABLE, PAD_ON_TABLE
from envs_bridge.metaworld.scenes_mt50_tools import PAD_FIRM

__all__ = ["BODY", "EXTRA_PAIRS", "PAD_GRIP", "PAIR_GEOM_PARAMS", "PAIR_PARAMS", "body", "pairs"]

_PLATES = ("plate-slide", "plate-slide-side", "plate-slide-back", "plate-slide-back-side")
_PUCK_LIMIT = ('solreflimit="0.07 1"', 'solreflimit="0.02 1"')
_LOCK_DAMPING = ('damping="0.2" armature="0.002"', 'damping="2" armature="0.001"')
_LOCK_JOINT = ('damping="0.2" armature="0.002"\n                 solimplimit="0.99 0.999 0.001"', 'damping="2" armature="0.001"')
_TOOLS = ("assembly", "disassemble", "hammer", "stick-push", "stick-pull")

# The thermos' slides at MuJoCo's default soft limit (Meta-World's thermos.xml sets none; floating: stiff).
_THERMOS_LIMIT = ('solimplimit="0.99 0.999 0.001"', 'solreflimit="0.02 1" solimplimit="0.9 0.95 0.001"')
# The dial: Meta-World's hinge (damping 1, armature 0.001, soft limit) and its pads' margin 0.001 carried by the
# knob bar (1 mm larger each way: geometry, the same on every physics implementation, as box-close's handle): the
# real hand rests on the bar's top 1 mm higher, above the scripted policy's 20 mm height test (TCP z 110.9 mm over
# the dial, ours was 109.9: its push branch then dragged the bar back out of the success band), and stops 1 mm
# farther from the axis in its first push. 50 variations: final-step success 0.78 -> 1.00 (real 1.00).
_DIAL = (('damping="0.15" armature="0.0015"\n               solimplimit="0.99 0.999 0.001"', 'damping="1" armature="0.001"'),
         ('size="0.015 0.046 0.015"', 'size="0.016 0.047 0.016"'))
# The coffee mug as the pads feel it: Meta-World's mug is a cylinder (r 0.028, half-height 0.033), ours a box of its
# width (MJX has no box x cylinder test), whose flat side held the mug in every episode wherever the pads met it. The
# real pads grip the cylinder near their back edge (TCP 8-21 mm ahead of the axis) and, where that edge lies ahead
# of the axis, the contact normal leans back with the curve: the squeeze pushes the mug out of the grip (soft
# friction: it creeps back 0.1 mm per step at a 20 mm TCP offset, 0.9 at 28 mm; Meta-World 3.1.1, MT50(seed=0), 50
# variations) and drops (49 of 50 episodes, steps 88-488), 7 cm or more from the goal in 23 (final-step success
# 0.54). Ours: the pads hold a massless vertical capsule (``mug_grip``, the pads' only mug geom, ``PAD_GRIP``) of the
# cylinder's radius plus the pads' 1 mm contact margin (MJX ignores a pair margin on box x capsule; the object
# carries it, as the dial's bar does), 0.029, reaching 1 mm past the cylinder's top; the box keeps the table. 50
# variations, any / final / first step 1.00 / 1.00 / 56 -> 1.00 / 0.50 / 56 (real 1.00 / 0.54 / 55; at radius
# 0.028: 0.38); coffee-pull 1.00 / 1.00 / 81 -> 1.00 / 1.00 / 78 (real 1.00 / 1.00 / 80). Left: ours grips ~2 mm
# further ahead and the capsule's normal is radial at any depth, so most of our mugs slide out by step 180 and are
# re-gripped where the real low-offset half holds (success at step 200: 0.14, real 0.62; docs/metaworld_mt50.md).
_COFFEE = ("coffee-pull", "coffee-push")
_MUG_GRIP = ('size="0.028 0.028 0.033"/>\n    </body>',
             ('size="0.028 0.028 0.033"/>\n      <geom name="mug_grip" type="capsule" pos="0 0 0.035" size="0.029 0.005"'
              ' mass="0"/>\n    </body>'))
# pick-out-of-hole's peg as the pads feel it: Meta-World's peg is a cylinder (r 0.02, half-height 0.02, 0.01 kg),
# ours a cube (MJX has no box x cylinder test), whose face met each pad with four contacts where the real cylinder
# meets it with one (MuJoCo 3.3.0's convex test; 27-28 N each). Ours: the pads hold a massless sphere (``peg_grip``,
# their only peg geom, ``PAD_GRIP``) of the cylinder's radius plus the pads' 1 mm margin (carried by the object, as
# the mug's capsule), centred on the top face, so it meets a pad wherever the real side does (the pad's lower edge
# below the peg's top) with one contact and the pad's normal; the cube keeps the floor and the hole's front block.
# Meta-World 3.1.1 vs ours (C MuJoCo), MT50(seed=0), 50 variations x 500 steps: the held peg creeps down the grip at
# 1.02 mm per 100 steps (median; ours 0.46 -> 0.58), the first grip seats it 29.1 mm below the TCP (28.9 -> 28.3)
# and passes the scripted policy's lift test the first time (first success step 142 -> 116, real 116); any / final
# 1.00 / 0.76 -> 1.00 / 0.60 (real 1.00 / 0.42). Left: the real creep is twice ours because the hand leans ~3 mrad
# about x: one pad meets the cylinder's rim with its tilted face normal, the other the straight side at its lower
# edge with a level one, a wedge that pushes the peg down by ~0.09 N, its own weight (pads' normal forces, median
# of every held step, real -0.09 N, ours 0.00); a sphere meets both parallel pads at their face normals, a capsule
# over the side carries the wedge (-0.06 N) with two contacts per pad (creep 0.61, final 1.00). So the real episodes
# dip back to re-grip twice (47 of 50), ours once (44), and the final share hangs on the first grip's seat: radius
# 0.0205 / 0.0215 give final 1.00 (docs/metaworld_mt50.md).
_PEG = '<geom name="objGeom" type="box" size="0.02 0.02 0.02"/>'
_PEG_GRIP = (_PEG + "\n    </body>",
             _PEG + '\n      <geom name="peg_grip" type="sphere" pos="0 0 0.02" size="0.021" mass="0"/>\n    </body>')
# soccer: Meta-World's back net and fingers. The back net's inner face runs from y 0.0489 at the floor to -0.0011
# at z 0.165 (``goal_col2``'s vertices; the floating hand's box takes the outer face's 0.0635 at the floor, 15 mm
# deep): the real ball rests on it 9 mm nearer the goal, within the pad's reach, and the pushing hand holds it there
# (success, once reached, held in every real episode); ours lay out of reach and rolled off sideways (any 0.94,
# final 0.76). The real finger is a pad and a claw (friction 1, solref 0.02, solimp 0.8 0.9: with the ball's class
# mixed to 0.015, 0.895 0.945 0.01, condim 4), both with a 1 mm margin (``_PAD_MARGIN``, ``_CLAW_MARGIN``). The pad
# pressing the ball's top into its soft table contact squeezes it out faster and it runs ahead of the hand past the
# goal's x band, from where the scripted policy chases it away (real: 11 of 50; the ball's peak speed 9.6 mm per
# step, ours was 7.8). Meta-World 3.1.1 vs ours, 50 variations, any / final / first step: 0.78 / 0.78 / 74 vs
# 0.94 / 0.76 / 83 -> 0.84 / 0.84 / 83 (the net alone 0.94 / 0.94; margins 0.9 / 1.1 mm: 0.86 / 0.82).
_SOCCER_NET = ('pos="0 0.0501 0.0898" euler="0.375 0 0" size="0.09 0.02 0.0887"',
               'pos="0 0.0430 0.0883" euler="0.2942 0 0" size="0.09 0.02 0.0862"')
_MARGIN = ' margin="0.001"'  # Meta-World's pad and claw geoms (and their base_col class)
_PAD_MARGIN, _CLAW_MARGIN = PAD + _MARGIN, CLAW + _MARGIN
# {task: ((floating-hand text, arm text), ...)}: replacements in the task's scene bodies.
BODY: dict[str, tuple[tuple[str, str], ...]] = {
    **{t: (_PUCK_LIMIT,) for t in _PLATES},
    "door-lock": (_LOCK_DAMPING,),
    "door-unlock": (_LOCK_JOINT,),
    **{t: (_THERMOS_LIMIT,) for t in ("stick-push", "stick-pull")},
    "dial-turn": _DIAL,
    **{t: (_MUG_GRIP,) for t in _COFFEE},
    "soccer": (_SOCCER_NET,),
    "pick-out-of-hole": (_PEG_GRIP,),
}
# {task: {floating-hand pair parameters: arm pair parameters}}.
_PAD_STICK = 'friction="2 2 0.1 0.002 0.002" solref="0.015 1" solimp="0.974 0.994 0.0055"'
PAIR_PARAMS: dict[str, dict[str, str]] = {t: {PAD_FIRM: _PAD_STICK if "stick" in t else PAD} for t in _TOOLS}
PAIR_PARAMS.update({t: {OBJ: OBJ_ON_TABLE} for t in _COFFEE})  # mug x table, the coffee tasks' only OBJ
# hand-insert: Meta-World's ``table_with_hole`` boxes keep MuJoCo's default contact parameters, which MuJoCo mixes
# with the cube's and the pads' own (sweep-into's ``CUBE_ON_TABLE`` / ``PAD_ON_TABLE``, the same table and cube);
# the floating hand's scene pairs them at the cube's ``OBJ`` and the pads' ``PAD``. Real episodes (Meta-World 3.1.1,
# MT50(seed=0), all 50): the pads, landing on the hole's floor with the cube between them, press it into the floor
# (lowest cube centre -0.004 to +0.002 in 43 episodes, the floor at 0, the cube's half size 0.02) and in 7 it slips
# out from between the pads to -0.0176, 38 mm deep, under the right pad (100 N down on it, no squeeze); the TCP, 57 mm
# above it, fails the scripted policy's 50 mm test, the policy chases the cube's xy instead of the goal, and the hand
# creeps 5-7 cm off the goal over 200-400 steps (variations 1, 14, 25, 27, 40, 41, 45: final 0.86). With OBJ
# / PAD ours stayed at +0.013 (7 mm) and the hand on the goal in every episode (final 1.00), the TCP resting at
# z 0.043 (real 0.039-0.040). With the mix (C MuJoCo, 50 variations): lowest cube centre -0.001 to +0.002, TCP z
# 0.040-0.041, and in 2 episodes (16, 37) the cube sinks to -0.017 and the hand creeps 5-8 cm off the goal as the
# real one does; any / final / first step 1.00 / 1.00 / 62.8 -> 0.98 / 0.96 / 61.4 (real 1.00 / 0.86 / 60.5).
PAIR_PARAMS["hand-insert"] = {OBJ: CUBE_ON_TABLE}  # the cube x floor and the four tops, the task's only OBJ
# {task: {(second geom, floating-hand pair parameters): arm pair parameters}}: where the floating hand's scene uses one
# parameter string for pairs Meta-World mixes differently (hand-insert's PAD: the pads x cube stay, x table go).
# shelf-place: the wrist x the shelf's back wall at twice Meta-World's mixed time constant (a quarter of the stiffness
# per contact), ``scenes_arm``'s rule for peg-insert-side's wrist on the block: the scripted policy pushes the hand
# +y until the wrist stops on the wall, and the real wrist mesh meets it with one contact, 4.0-4.3 mm deep at
# 795-869 N (Meta-World 3.1.1, step 300), where our two wrist boxes meet it with six at 1-2 mm: our hand stopped
# 6 mm short (TCP y 0.031 vs 0.037 from the goal, final-step medians), the held cube 4 mm short of the wall (0.055
# vs 0.059), inside the 0.07 success radius where the real one lies outside it. With it (C MuJoCo, 50 variations):
# TCP 0.034, cube 0.057; any / final / first step 0.92 / 0.58 / 92 -> 0.92 / 0.34 / 92 (real 0.96 / 0.38 / 97).
# Left: the cube the real hand leaves free on the plate (15 episodes, ours 3), MuJoCo 3.3.0's half-depth box-box
# contacts (docs/metaworld_mt50.md, shelf-place).
# sweep-into: the pads x cube with Meta-World's fingers' margin (pad and claw geoms: margin 0.001; the floating hand's
# scene: none). The scripted policy sweeps the cube over the raised top's edge into the hole and keeps its goal
# branch only while the TCP stays within 40 mm above the cube (+10 mm); where the cube drops to the floor ahead of
# the hand it chases the cube's xy and pushes it to the hole's back wall (no success at step 500). The real pads
# catch the falling cube and it slides down in their grip (variation 10: cube z 0.056 / 0.046 / 0.037 at steps 56 /
# 62 / 70); ours let it fall to the floor in 9 steps. Successful episodes with the cube still above z 0.035 ten
# steps after the first success: real 0.45, ours 0.23 -> 0.43 (Meta-World 3.1.1 vs C MuJoCo, 50 variations); any /
# final / first step 0.88 / 0.18 / 55 -> 0.88 / 0.38 / 55 (real 0.88 / 0.40 / 53; margins 0.5 / 1.5 mm: 0.32 / 0.44).
PAIR_GEOM_PARAMS: dict[str, dict[tuple[str, str], str]] = {
    "hand-insert": {(g, PAD): PAD_ON_TABLE for g in ("table",) + scene_parts.HOLE_TABLE_TOPS},
    "shelf-place": {("shelf_back", WRIST): WRIST_ON_FACE},
    "soccer": {("objGeom", PAD): _PAD_MARGIN},
    "sweep-into": {("objGeom", PAD): _PAD_MARGIN}}
# {task: pairs only the arm's scene has (``scenes_arm.arm_pairs`` repeats a wrist pair for the lower wrist box)}.
# stick-pull: the wrist x thermos body, at Meta-World's mix of the wrist mesh's default contact parameters and the
# thermos' ``therm_col`` (``WRIST``). In every real episode (Meta-World 3.1.1, MT50(seed=0) variations 0-11, every
# contact of every 2.5 ms substep) the wrist mesh grazing the thermos' body as the hand carries the stick in (steps
# 56-82) is the one contact that moves the thermos in +x before its limit: 2.7-2.9 N s, ~0.85 m/s to the 3.27 kg
# thermos, which then glides (damping 1) to its +x limit ahead of the hand (handle x 0.405-0.412 in all 50
# variations). Without the pair our wrist pushed only the handle, as far as the hand went (handle x 0.33-0.40, by the
# goal). With it (C MuJoCo, 50 variations): the thermos leaves at the same step (median -1), peak speed 10.7 vs
# 10.5 mm per step, reaches 0.39 at the same step (median -1), shoved to the +y limit in 10 episodes (real 9);
# any / final-step success / first step 0.98 / 0.92 / 88 -> 0.92 / 0.52 / 114 (real 0.96 / 0.24 / 121). The floating
# hand's box, as wide as the mesh's widest part, stayed on the body (``scenes_mt50_tools``): its scene keeps none.
EXTRA_PAIRS: dict[str, tuple[tuple[str, str, str], ...]] = {"stick-pull": (("wrist", "therm_body", WRIST),),
                                                         "soccer": (("rightpad", "objGeom", _CLAW_MARGIN),
                                                                    ("leftpad", "objGeom", _CLAW_MARGIN))}
# {task: (geom the floating hand's pads hold, the geoms the arm's pads hold instead)}: the coffee mug's capsule,
# pick-out-of-hole's peg sphere.
PAD_GRIP: dict[str, tuple[str, tuple[str, ...]]] = {**{t: ("mug", ("mug_grip",)) for t in _COFFEE},
                                                    "pick-out-of-hole": ("objGeom", ("peg_grip",))}


def body(task: str, xml: str) -> str:
    """The task's scene bodies with the arm's numbers (``BODY``); each replaced text must occur in ``xml``."""
    return replace_each(task, xml, BODY.get(task, ()), "BODY")


def pairs(task: str, task_pairs: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """The task's contact pairs with the arm's parameters (``PAIR_GEOM_PARAMS``, then ``PAIR_PARAMS``), the pads on
    the arm's grip geoms (``PAD_GRIP``) and the arm-only pairs (``EXTRA_PAIRS``)."""
    swap, by_geom = PAIR_PARAMS.get(task, {}), PAIR_GEOM_PARAMS.get(task, {})
    held, grip = PAD_GRIP.get(task, (None, ()))
    return (tuple((a, g, by_geom.get((b, p), swap.get(p, p))) for a, b, p in task_pairs
                  for g in (grip if "pad" in a and b == held else (b,)))
            + EXTRA_PAIRS.get(task, ()))
