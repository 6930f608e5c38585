"""What the arm's scenes (``scenes.scene_xml(..., hand="arm")``) add to a task's scene: the wrist on the flange, the
pads' solref in the direct form, elliptic cones, and the contact pairs and grip geoms only the arm's scenes have.

Each rule was fitted against Meta-World 3.1.1 with the arm (``sawyer.py``); the comments give the measured reason.
Host-side only (strings); nothing is traced.
"""

from __future__ import annotations

from envs_bridge.metaworld import sawyer, scene_defs, scenes_mt50_arm, scenes_mt50_fixtures

__all__ = ["CONE", "FINGER_PARTS", "GRIP", "PAIRS", "TASK_WRIST", "VIA_TASK_WRIST", "WRIST_BOXES", "arm_body", "arm_hand",
           "arm_pairs", "pad_params", "wrist_geoms"]

_WRIST = scene_defs.WRIST

# The arm's wrist: two boxes on the flange body ``right_hand``, where Meta-World's wrist mesh is (not on the hand).
# MuJoCo's contact regulariser scales with the bodies' inverse weight (``body_invweight0``): 6.1 for the hand (its
# inertial sits 0.12 m out, see sawyer._HAND_INERTIAL), 0.67 for Meta-World's ``right_hand`` (ours 0.89), so on the
# hand the wrist x handle contact was ~5x softer than the real one. Measured on window-close (Meta-World 3.1.1, the
# wrist mesh blocked on the shut window's handle): 783 N at 5.1 mm, 1,686 N at 12.7 mm penetration; ours on the hand
# 183 N at 5.3 mm, and in MJX the handle sank 30 mm into the box until its side face won (normal -y) and the hand
# slid off; on the flange 890 N at 6.9 mm (C MuJoCo) and MJX closed-loop success steps 333 -> 424 (real 422).
# The mesh's front (-x) tapers towards its bottom: x_min -0.022 at z +0.039, -0.030 at +0.045-0.060, -0.034 at
# +0.064, -0.041 from +0.084 (hand frame, the mesh's vertices at the reset pose). One box with the upper front
# reached 11-19 mm too far forward low down: probes 4.5 cm below window-close's handle caught its top end there
# (0.60 vs the real 1.00); the lower box is recessed to the mesh's -0.030 (docs/metaworld_mjx.md, "The Sawyer arm
# option"). (name, x range, z range) in the hand frame; y +-0.053 as the mesh's widest.
WRIST_BOXES = (("wrist", (-0.041, 0.027), (0.064, 0.093)), ("wrist_low", (-0.030, 0.027), (0.039, 0.064)))


def _flange_box(name: str, x: tuple[float, float], y: float, z: tuple[float, float]) -> str:
    """A massless box on the flange from its hand-frame x and z ranges and y half width (a box turned 180 degrees
    about y is the same box)."""
    pos = " ".join(f"{v:.7g}" for v in sawyer.hand_to_flange((0.5 * (x[0] + x[1]), 0.0, 0.5 * (z[0] + z[1]))))
    return (f'<geom name="{name}" type="box" pos="{pos}" size="{0.5 * (x[1] - x[0]):.7g} {y:g} '
            f'{0.5 * (z[1] - z[0]):.7g}" mass="0"/>')


def wrist_geoms() -> str:
    """The arm's wrist boxes in the flange frame."""
    return "".join(_flange_box(name, x, 0.053, z) for name, x, z in WRIST_BOXES)


# Meta-World's elliptic friction cones. Measured (C MuJoCo, 2 x 6.25 ms, 5 episodes, our scripted policies): with
# pyramidal cones the drawer slips out of the pads (drawer-open last-step success 0.2 vs the real 1.0) and, with the
# wrist change, the open-loop TCP error of push / pick-place is 5-8 mm; elliptic: 1.0 and 0.6-2.3 mm
# (docs/metaworld_mjx.md, "The Sawyer arm option"). MJX's elliptic-cone solver fails on a scene without contacts, so
# a scene without pairs keeps the pyramidal setting (without contacts the cone does nothing; reach had none until its
# puck became a free body in session 29).
CONE = "elliptic"
# The pad contacts' solref, Meta-World's (0.01 s, damping ratio 1), in MuJoCo's direct form (-stiffness, -damping) =
# (-1 / (tc^2 ratio^2), -2 / tc) = (-10000, -200) in the arm's scenes: the same reference dynamics, but MuJoCo raises
# a time constant below 2 timesteps to 2 timesteps (0.0125 s at 2 x 6.25 ms: 64 % of the stiffness) and leaves the
# direct form alone. Measured (C MuJoCo, 2 x 6.25 ms, 5 episodes, with the cone and wrist changes): pick-place
# last-step success 0.2 -> 0.8 (real 1.0), success steps 174 -> 388 (448); push steps 272 -> 361 (424).
_PAD_TC, _PAD_RATIO = 0.01, 1.0
_PAD_SOLREF = f'solref="{_PAD_TC:g} {_PAD_RATIO:g}"'
_DIRECT_PAD_SOLREF = f'solref="{-1.0 / (_PAD_TC * _PAD_RATIO) ** 2:g} {-2.0 / _PAD_TC:g}"'


# Pairs only the arm's scenes have. peg-insert-side: once the peg is in, the scripted policy drives the hand down and
# the real wrist mesh rests on the block's top plate (one contact, 4.9 mm at 1,048 N), holding the hand while the peg
# sags in the grip until the success test fails (last-step 0.45); without the pair ours pressed the peg into the hole's
# floor, slid it up the grip and stayed successful (0.85). Our wrist boxes meet the plate with four contacts where the
# mesh has one, hence twice Meta-World's mixed time constant (a quarter of the stiffness per contact); fitted by
# last-step success (C MuJoCo, 20 episodes; docs/metaworld_mjx.md, "peg-insert-side: the wrist on the block").
# door-open (session 29): a learned policy presses the real wrist mesh on the door panel (one contact, up to 1.76 kN;
# the scripted and probe paths never do, so the contact census missed it) and the leaf yields 0.07 rad past closed;
# without the pair our wrist passes through and seed 43's 1 B policy opens 9 of 10 (real 3 of 10, its actions
# replayed there 0 of 10). Through ``TASK_WRIST``'s box at the peg block's four-versus-one rule: seeds 42 / 43's
# policies 1.00 / 0.40 against the real 1.00 / 0.30 (docs/metaworld_mjx.md, "The session-29 physics batch"). Since
# session 33 the wrist also meets the handle bar's end (scenes._TASK_SCENES): seed 43's closed loop opens 8 of 10
# in ours and its actions replayed in the real env 8 of 10, and the real closed-loop path replays in ours episode for
# episode (3 of 10; tests/test_metaworld_arm.py), so its real 0.30 is the policy's drift, not the scene.
PAIRS = {"peg-insert-side": (("wrist", "block_upper", scene_defs.WRIST_ON_FACE),),
         "door-open": (("wrist_panel", "door_panel", scene_defs.WRIST_ON_FACE),)}
# Massless wrist geoms for one task's pair, (name, x range, y half width, z range) in the hand frame as WRIST_BOXES:
# door-open's panel meets a box fitted inside the mesh's hull (the hull: y <= 0.0503 above hand z 0.085, 0.047-0.0528
# below, its back corner rounded to 0.039; the box: x -0.038..0.020, y +-0.048, z 0.045..0.085), where the two wrist
# boxes' square +-0.053 edges reached the panel in 14 of 20 scripted episodes (steps 42-74, up to 256 N; the real
# mesh 0 of 20, Meta-World 3.1.1's contact census); the box: 0 of 20.
TASK_WRIST = {"door-open": ("wrist_panel", (-0.038, 0.020), 0.048, (0.045, 0.085))}
# Wrist pairs of the task's scene that the arm meets through its ``TASK_WRIST`` box instead of the two wrist boxes
# (task -> the other geoms). door-open's handle bar (session 33): the real wrist mesh meets the bar's end low on its
# back, where the mesh tapers (back face x_max 0.017 / 0.022 / 0.025 at 0.040 / 0.045 / 0.050 above the hand, against
# the lower wrist box's square 0.027): the box stopped the hand on the bar's axis where the real mesh rides up over
# its rim, and on the real closed-loop path of session 27's clamped MT-PPO export (Meta-World 3.1.1, variations 0-9)
# ours opened 3 doors of the real 7 (angle error 0.19 rad averaged over steps); through the hull-fitted box 8 of 7,
# the same episodes in 9 of 10, 0.045 rad; seed 43's real path: 10 of 10 the same either way (docs/metaworld_mjx.md,
# "The session-33 physics").
VIA_TASK_WRIST = {"door-open": ("handle_bar",)}
# The puck is a cylinder in Meta-World; MJX has no cylinder x box test, so the table holds a cube (``objGeom``). In
# the arm's scenes the pads grip two massless spheres of the cylinder's radius centred on its end faces (``objRim0``,
# ``objRim1``): the point of each nearest a pad is the rim's point to second order in the tilt, so a tilted puck meets
# each pad at one rim, as the real one does, where the cube lay flat on the pad (4 contacts). Push, 20 episodes,
# last-step success 0.80 -> 0.50 in C MuJoCo, 0.85 -> 0.55 in MJX (real 0.55); a capsule over the cylinder's side
# (the same rims) was as good in C MuJoCo but lost the puck in 3 MJX episodes (its parallel-to-face case) (the same
# section of docs/metaworld_mjx.md: "push: the puck's rims").
GRIP = {t: ("objGeom", ("objRim0", "objRim1")) for t in ("reach", "push", "pick-place", "push-wall", "pick-place-wall")}
_PUCK_CUBE = '<geom name="objGeom" type="box" size="0.02 0.02 0.02"/>'
_RIMS = ('\n      <geom name="objRim0" type="sphere" pos="0 0 -0.02" size="0.02" mass="0"/>'
         '\n      <geom name="objRim1" type="sphere" pos="0 0 0.02" size="0.02" mass="0"/>')


def pad_params(params: str) -> str:
    """A pad pair's parameters in the arm's scenes: Meta-World's pad solref in the direct form (any pad parameter
    string with it, e.g. ``scene_defs.PAD`` or a family's firmer variant)."""
    return params.replace(_PAD_SOLREF, _DIRECT_PAD_SOLREF)


def arm_body(task: str, body: str) -> str:
    """The task's scene bodies in the arm's scenes: the rim spheres (``GRIP``) added to the puck after its cube (the
    floating hand's scenes stay without them), after Meta-World's own numbers where the MT50 scenes depart from them
    for the floating hand (``scenes_mt50_arm.body``: sliding, tools; ``scenes_mt50_fixtures.arm_body``: handles,
    lever, faucets)."""
    body = scenes_mt50_fixtures.arm_body(task, scenes_mt50_arm.body(task, body))
    if task not in GRIP:
        return body
    assert body.count(_PUCK_CUBE) == 1, task
    return body.replace(_PUCK_CUBE, _PUCK_CUBE + _RIMS)


# The windows: the lower wrist box slides on the handle without friction. Meta-World's one wrist mesh meets the
# handle; our two boxes both do, and with friction the lower one, pressed on the handle after the opening, drags the
# sash back: window-open, C MuJoCo, 20 episodes, final opening 0.156 m vs the real 0.201, last-step 0.65 vs 1.00;
# frictionless 0.199 and 1.00, success steps 410 vs 415 (both wrist boxes frictionless: 0.50)
# (docs/metaworld_mjx.md, "Window-open, C MuJoCo and Warp against MJX-JAX").
# (Friction 0.01, not condim 1: MJX has no condim 1 under elliptic cones.)
FRICTIONLESS = {t: (("wrist_low", "handle"),) for t in ("window-open", "window-close")}
_SLIDING = _WRIST.replace('friction="1 1 0.005 0.0001 0.0001"', 'friction="0.01 0.01 0.005 0.0001 0.0001"')


# The faucets: Meta-World's finger is two boxes, a claw (``*claw_it``, on the finger's axis; with the handle's
# ``faucet_col`` friction 1, solref 0.015, solimp 0.895 0.945 0.01) and a pad 3 mm inwards (``*pad_geom``, ``PAD``'s
# numbers, friction 2); our finger box is their union with the pad's numbers on every face. The scripted policy
# turns the handle with the left finger's outer face, the claw's (real census, variations 0-9 x 500 steps: left claw
# 3,292 contacts at 55 N median, left pad 2,815 at 310 N, right pad 740, right claw 606): at friction 2 our finger
# dragged the handle along, stayed within the policy's 0.04 of the push point ~5 steps longer and drove it further
# past the goal (first overshoot median / worst -2.075 / -2.192 rad vs the real -2.026 / -2.097), and the handle
# stuck to the hand that slides out from under it after success (thrown back past +0.6 rad in 5 of 50 episodes vs
# the real 20). In the faucet scenes each finger body also carries the two halves (massless) and the pads' pairs
# with the handle become the claw's and the pad's: -2.034 / -2.111, 14 of 50, faucet-close final-step success 0.84
# -> 0.72 (real 0.68), faucet-open 0.76 -> 0.72 (0.68) (docs/metaworld_mt50.md). Without the fingers' 1 mm margin,
# as the arm's pads in most scenes: with it faucet-open's final share was 0.82.
FINGER_PARTS = {t: "faucet_handle" for t in ("faucet-open", "faucet-close")}
_FINGER_SITES = {"left": ('<site name="leftpad" pos="0 -0.003 0"/>', -0.003),
                 "right": ('<site name="rightpad" pos="0 0.003 0"/>', 0.003)}


def arm_hand(task: str, hand_xml: str) -> str:
    """The arm's hand in the task's scene: for ``FINGER_PARTS`` each finger body also carries Meta-World's claw and
    pad boxes (massless; half sizes 0.015 x 0.003 x 0.045, the claw on the finger's axis, the pad 3 mm inwards:
    together our finger box, 0.0045 thick offset 1.5 mm inwards); other tasks' hand unchanged."""
    if task in TASK_WRIST:
        anchor = wrist_geoms()
        assert hand_xml.count(anchor) == 1, task
        hand_xml = hand_xml.replace(anchor, anchor + _flange_box(*TASK_WRIST[task]))
    if task not in FINGER_PARTS:
        return hand_xml
    for side, (site, y) in _FINGER_SITES.items():
        assert hand_xml.count(site) == 1, (task, side)
        hand_xml = hand_xml.replace(site, site + (
            f'<geom name="{side}claw_it" type="box" size="0.015 0.003 0.045" mass="0"/>'
            f'<geom name="{side}pad_geom" type="box" pos="0 {y:g} 0" size="0.015 0.003 0.045" mass="0"/>'))
    return hand_xml


def arm_pairs(task: str, pairs: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """The task's contact pairs in the arm's scenes: pads on the grip geom (``GRIP``) with the direct-form solref,
    the arm-only pairs (``PAIRS``), the wrist pairs of ``VIA_TASK_WRIST`` through the task's wrist box, the pads'
    pairs with a ``FINGER_PARTS`` geom as the claw's and the pad's, and every other wrist pair repeated for the lower
    wrist box (``FRICTIONLESS``); the MT50 tools' pad parameters first become Meta-World's
    (``scenes_mt50_arm.pairs``)."""
    pairs = scenes_mt50_arm.pairs(task, pairs)
    held, grip = GRIP.get(task, (None, ()))
    pairs = tuple((a, g, pad_params(p) if "pad" in a + b else p) for a, b, p in pairs
                  for g in (grip if "pad" in a and b == held else (b,))) + PAIRS.get(task, ())
    via = VIA_TASK_WRIST.get(task, ())
    pairs = tuple((TASK_WRIST[task][0] if a == "wrist" and b in via else a, b, p) for a, b, p in pairs)
    parts = FINGER_PARTS.get(task)
    pairs = tuple(q for a, b, p in pairs for q in (
        ((a.replace("pad", "claw_it"), b, scene_defs.CLAW), (a + "_geom", b, p)) if "pad" in a and b == parts else ((a, b, p),)))
    slide = FRICTIONLESS.get(task, ())
    return pairs + tuple((n, b, _SLIDING if (n, b) in slide else p)
                         for n, *_ in WRIST_BOXES[1:] for a, b, p in pairs if a == "wrist")
