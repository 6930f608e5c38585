"""MJCF scenes of the ten MT10 tasks, authored for MuJoCo MJX (Todorov et al., 2012; MJX, 2023).

Meta-World (Yu et al., 2019, arXiv 1910.10897) drives a Sawyer arm's hand through a mocap weld. MJX has no broad
phase and evaluates every candidate geom pair every physics step, and the 24-body arm makes even one ``kinematics``
call slow on a CPU. So every scene here is our own MJCF with Meta-World's dimensions and placements (read from
Meta-World 3.1.1's XML assets and ``reset_model`` code) and:

  * a **floating hand**: a free body welded to a mocap body with Meta-World's weld ``solref (0.02, 1)`` (the weld's
    critically damped reference dynamics reproduce the measured lag, ~0.032 m at 0.8 m/s), a weak weld impedance
    (0.3, ``WELD_SOLIMP``) so that joint limits and contacts block the hand as the real arm is blocked, and
    gravity compensation on the hand (the rest offset is Meta-World's);
    two slide fingers with Meta-World's asymmetric ranges, damping, armature and kp-400 position actuators, one
    box per finger (claw and pad merged, pad contact parameters) and a box standing in for the wrist mesh;
  * the hand's rotational inertia is 0.02 kg m^2 (10x a free 1 kg hand's): the real hand hangs on the Sawyer
    arm, which resists rotation; with 0.002 a fingertip contact on a thin handle arm twisted the hand in MJX (not
    in C MuJoCo) and the finger slid through (``docs/metaworld_mjx.md``, "Hand rotational inertia");
  * **primitive collision geoms** only (plane, box, capsule; cylinders become boxes or capsules);
  * ``contype = conaffinity = 0`` on every geom and an **explicit minimal ``<contact><pair>`` set** per task;
  * task fixtures whose position Meta-World randomises (door, drawer case, button box, peg block, window frame)
    are static world children whose per-env position is a batched ``mjx.Model.body_pos`` row (MJX places
    mocap bodies after the kinematic tree, so jointed children of a mocap body would not follow it).

Every function here is host-side (strings and ``mujoco.MjModel``); nothing is traced.
"""

from __future__ import annotations

import functools

import mujoco
import numpy as np

from envs_bridge.metaworld import sawyer, scene_defs, scene_parts, scenes_arm, scenes_mt50, tasks

__all__ = ["ALL_TASKS", "CONTROL_DT", "HANDS", "TASKS", "build_model", "scene_xml", "settled_arm", "settled_hand"]

TASKS = tasks.TASKS  # the ten MT10 tasks, in MT10's order
# Every task with a scene: MT10's and the MT50 tasks whose ``SceneDef`` exists (``scenes_mt50.SCENES``), MT50 order.
ALL_TASKS = tuple(t for t in scenes_mt50.MT50_TASKS if t in TASKS or t in scenes_mt50.SCENES)

CONTROL_DT = 0.0125  # Meta-World: 5 x 2.5 ms physics steps per env step (80 Hz control).

# Offset of the arm-carried hand from its mocap at rest, measured in Meta-World ((+0.0046, +0.0014, -0.0049));
# the weld holds the floating hand at this offset. The hand and fingers are gravity-compensated
# (``gravcomp``), as the real arm's controller holds the hand up: with the soft weld below an uncompensated 1 kg
# hand would sag 4 mm more.
_REST = (0.0046, 0.0014, -0.0049)

# The hand-to-mocap weld's solref (time constant [s], damping ratio); Meta-World's value. MuJoCo raises a time
# constant below 2 timesteps to 2 timesteps (0.025 s at frame_skip 1).
WELD_SOLREF = (0.02, 1.0)
# The weld's impedance: 0.3 at every distance (MuJoCo's default, which the real env uses, is 0.9-0.95). Our hand is a
# 1 kg floating body where Meta-World welds the mocap to a heavy, damped arm; with the default impedance the weld
# out-pulls joint limits and contacts (button pushed 0.146 m past its stop, windows 0.07 m, door 0.174 rad). With
# 0.3 the weld yields to them, as the real hand is blocked (docs/metaworld_mjx.md, "Trajectory parity").
WELD_SOLIMP = (0.3, 0.3, 0.001, 0.5, 2.0)
# The arm's weld keeps Meta-World's (MuJoCo's default) impedance: the arm's mass and damping do the blocking.
ARM_WELD_SOLIMP = (0.9, 0.95, 0.001, 0.5, 2.0)
HANDS = ("floating", "arm")
# The task joints (door, drawer, button, window) carry solimplimit="0.99 0.999 0.001", stiffer than MuJoCo's
# default limit impedance, so that the hand pressing an object against its stop does not push it through.

# Contact parameters (``scene_defs``: pad x object, object x fixture/table, wrist x fixture).
_PAD, _OBJ, _WRIST = scene_defs.PAD, scene_defs.OBJ, scene_defs.WRIST

_FINGERS = """
      <geom name="wrist" type="box" pos="-0.007 0 0.066" size="0.034 0.053 0.027" mass="0"/>
      <body name="rightclaw" pos="0 -0.05 0"{gc}>
        <joint name="r_close" type="slide" axis="0 1 0" range="0 0.04" damping="1000" armature="100"/>
        <geom name="rightpad" type="box" pos="0 0.0015 0" size="0.015 0.0045 0.045" mass="0.0162"/>
        <site name="rightEndEffector" pos="0 0 -0.045"/>
        <site name="rightpad" pos="0 0.003 0"/>
      </body>
      <body name="leftclaw" pos="0 0.05 0"{gc}>
        <joint name="l_close" type="slide" axis="0 1 0" range="-0.03 0" damping="1000" armature="100"/>
        <geom name="leftpad" type="box" pos="0 -0.0015 0" size="0.015 0.0045 0.045" mass="0.0162"/>
        <site name="leftEndEffector" pos="0 0 -0.045"/>
        <site name="leftpad" pos="0 -0.003 0"/>
      </body>"""

_HAND = """
    <body name="mocap" mocap="true" pos="0 0.6 0.2"/>
    <body name="hand" pos="0 0.6 0.2" gravcomp="1">
      <freejoint name="hand_free"/>
      <inertial pos="0 0 0" mass="1" diaginertia="0.02 0.02 0.02"/>""" + _FINGERS.format(gc=' gravcomp="1"') + """
    </body>"""



_WRIST_LINE = '\n      <geom name="wrist" type="box" pos="-0.007 0 0.066" size="0.034 0.053 0.027" mass="0"/>'


def _arm_hand(timestep: float) -> str:
    """The hand on our Sawyer arm (``sawyer.py``): massless hand (as Meta-World's), no gravity compensation, the
    wrist on the flange (``scenes_arm.WRIST_BOXES``)."""
    assert _WRIST_LINE in _FINGERS
    return '\n    <body name="mocap" mocap="true" pos="0 0.6 0.2"/>' + sawyer.arm_xml(
        '<body name="hand">' + _FINGERS.replace(_WRIST_LINE, "").format(gc="") + "</body>", timestep,
        scenes_arm.wrist_geoms())


# Puck: Meta-World's cylinder (r 0.02, half-height 0.02, 0.75 kg) as a 0.04 m cube (MJX has no box-cylinder test).
_PUCK = """
    <body name="obj" pos="0 0.6 0.02">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0" mass="0.75" diaginertia="8.80012e-4 8.80012e-4 8.80012e-4"/>
      <geom name="objGeom" type="box" size="0.02 0.02 0.02"/>
    </body>"""

# door-open: the safe's back and -x side walls; the opened leaf's hinge corner grinds on the side wall from ~-1.4 rad
# (Meta-World 3.1.1: 1.5-19 kN; its door stops at -1.83 to -1.93 rad, never at the -2.0 limit). See ``_LEAF_STOP``.
_DOOR = """
    <body name="door" pos="0 0.9 0.15">
      <geom name="door_back" type="box" pos="0 0.094 0" size="0.188 0.012 0.126"/>
      <geom name="frame_side_n" type="box" pos="-0.204 0 0" size="0.016 0.106 0.15"/>""" + scene_parts.DOOR_LEAF + """
    </body>"""

# Drawer: case top, drawer front and the handle (bar + two arms to the front) collide with the hand; the case's
# walls and the drawer's other walls are replaced by the joint limits (the hand never reached them in the real
# env's reward-following probes, ``tests/fixtures/metaworld/probes.json``). Joint range widened from [-0.16, 0] to
# [-0.2026, 0], as the button's: Meta-World's soft limit yields under the pulling weld, and every recorded real
# drawer-open episode settles at q = -0.2026 (20 of 20); drawer-open's success (handle within 3 cm of the goal)
# begins at q = -0.16, so a drawer stopped there stays on the edge of success (``docs/deviations.md``).
_DRAWER = """
    <body name="drawer" pos="0 0.9 0">
      <geom name="case_top" type="box" pos="0 0 0.16" size="0.102 0.1 0.008"/>
      <body name="drawer_link" pos="0 -0.01 0.09">
        <joint name="goal_slidey" type="slide" axis="0 1 0" range="-0.2026 0" damping="2" armature="0.001"
               solimplimit="0.99 0.999 0.001"/>
        <inertial pos="0 0 0" mass="0.38" diaginertia="0.002 0.002 0.002"/>
        <geom name="drawer_front" type="box" pos="0 -0.082 0.008" size="0.1 0.008 0.052"/>
        <geom name="handle_bar" type="capsule" fromto="-0.05 -0.15 0 0.05 -0.15 0" size="0.009"/>
        <geom name="handle_arm_n" type="capsule" fromto="-0.05 -0.15 0 -0.05 -0.09 0" size="0.009"/>
        <geom name="handle_arm_p" type="capsule" fromto="0.05 -0.15 0 0.05 -0.09 0" size="0.009"/>
      </body>
    </body>"""

# Button: joint range widened from [-0.06, 0] to [-0.093, 0] (Meta-World's soft limit yields under the
# weld to q ~ -0.092, and success needs q <= -0.0695); the cap cylinder (r 0.043) becomes a box.
_BUTTON = """
    <body name="box" pos="0 0.85 0.115">
      <geom name="box_top" type="box" pos="0 0 0.08" size="0.12 0.12 0.01"/>
      <body name="button" pos="0 0 0">
        <joint name="btnbox_joint" type="slide" axis="0 0 1" range="-0.093 0" stiffness="0.5" springref="0.5"
               damping="1" armature="0.001" solimplimit="0.99 0.999 0.001"/>
        <inertial pos="0 0 0" mass="0.01" diaginertia="0.001 0.001 0.001"/>
        <geom name="btnGeom" type="box" pos="0 0 0.1835" size="0.043 0.043 0.011"/>
      </body>
    </body>"""

# Peg: Meta-World's box (0.24 x 0.03 x 0.03, rotation frozen by a 1e5 inertia) as a capsule of the same length.
_PEG = """
    <body name="peg" pos="0 0.6 0.02">
      <freejoint name="pegjoint"/>
      <inertial pos="0 0 0" mass="0.1" diaginertia="1e5 1e5 1e5"/>
      <geom name="peg" type="capsule" fromto="-0.105 0 0 0.105 0 0" size="0.015"/>
      <site name="pegHead" pos="-0.1 0 0"/>
      <site name="pegEnd" pos="0.1 0 0"/>
      <site name="pegGrasp" pos="0.03 0 0.01"/>
    </body>
    <body name="box" pos="-0.3 0.6 0">
      <geom name="block_lower" type="box" pos="0 0 0.05" size="0.096 0.09 0.05"/>
      <geom name="block_upper" type="box" pos="0 0 0.18" size="0.1 0.09 0.02"/>
      <geom name="block_side_p" type="box" pos="0 0.06 0.13" size="0.096 0.03 0.03"/>
      <geom name="block_side_n" type="box" pos="0 -0.06 0.13" size="0.096 0.03 0.03"/>
      <site name="hole" pos="0.096 0 0.13"/>
    </body>"""

# Window: the sliding sash's handle is a vertical bar on two arms (upper, lower) that join the sash's edge; the
# frame's upright on the +x side stops a hand that overshoots while closing.
_WINDOW = """
    <body name="window" pos="0 0.785 0.16">
      <geom name="frame_upright_p" type="box" pos="0.216 0 0" size="0.015 0.03 0.181"/>
      <geom name="frame_rail_top" type="box" pos="0 0 0.166" size="0.201 0.03 0.015"/>
      <body name="windowb_a" pos="0 0 0">
        <joint name="window_slide" type="slide" axis="1 0 0" range="0 0.2" damping="2" armature="0.001"
               solimplimit="0.99 0.999 0.001"/>
        <inertial pos="-0.104 -0.013 0" mass="0.6378" diaginertia="0.005 0.005 0.005"/>
        <geom name="handle" type="capsule" fromto="-0.014 -0.095 -0.045 -0.014 -0.095 0.045" size="0.008"/>
        <geom name="arm_upper" type="capsule" fromto="-0.014 -0.095 0.045 -0.014 -0.025 0.045" size="0.008"/>
        <geom name="arm_lower" type="capsule" fromto="-0.014 -0.095 -0.045 -0.014 -0.025 -0.045" size="0.008"/>
        <geom name="sash_edge" type="box" pos="-0.014 -0.013 0" size="0.014 0.012 0.15"/>
        <site name="handleOpenStart" pos="-0.04 -0.095 0"/>
        <site name="handleCloseStart" pos="0.01 -0.095 0"/>
      </body>
    </body>"""


_pairs = scene_defs.pairs

# door-open's leaf x side-wall contact: Meta-World's (``_OBJ``, solref 0.01 at its 2.5 ms step) with the time constant
# fitted to the replayed real door (the stop angle is knife-edge sensitive to it; MuJoCo raises anything below two
# timesteps to two): final angle minus the real one, arm 2 x 6.25 ms, MJX: +0.02 rad at 0.013, +0.005 at 0.0135,
# -0.01 at 0.014, -0.08 at 0.017; C MuJoCo at 0.02 pushes through to the limit (docs/metaworld_mjx.md, "door-open").
_LEAF_STOP = _OBJ.replace('solref="0.01 1"', 'solref="0.0135 1"')


# The free puck's pairs (reach, push, pick-place): both pads and the table.
_PUCK_PAIRS = (("leftpad", "objGeom", _PAD), ("rightpad", "objGeom", _PAD), ("objGeom", "table", _OBJ))

# Hand surfaces the real hand met on the window handle (wrist mesh, both fingers; probes.json's contact lists), and
# the frame's top rail, which stops learned paths whose fingertips come in at its height (Meta-World 3.1.1's contacts
# under a 226 M policy's window-close; no scripted path touches it; docs/metaworld_mjx.md, "The session-32 physics").
_WINDOW_HANDLE_PAIRS = (_pairs(("wrist",), ("handle", "arm_upper", "frame_rail_top"), _WRIST)
                        + _pairs(("leftpad", "rightpad"), ("frame_rail_top",), _PAD)
                        + _pairs(("leftpad",), ("handle", "arm_upper", "arm_lower"), _PAD)
                        + _pairs(("rightpad",), ("handle", "arm_upper"), _PAD))

# (scene body, contact pairs (geom1, geom2, parameter string)).
_TASK_SCENES: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    # reach's puck is a free body on the table as Meta-World's (since session 29; a mocap body before): it never meets
    # the hand along the scripted paths (Meta-World 3.1.1: its only contact is the table, 20 episodes x 500 steps),
    # but a learned path that runs into it is blocked as the real hand is, and its observed pose settles on the table
    # instead of being exactly constant (docs/metaworld_mjx.md, "The session-29 physics batch").
    "reach": (_PUCK, _PUCK_PAIRS),
    "push": (_PUCK, _PUCK_PAIRS),
    "pick-place": (_PUCK, _PUCK_PAIRS),
    "door-open": (_DOOR, (("leftpad", "handle_bar", _PAD), ("rightpad", "handle_bar", _PAD),
                          ("leftpad", "handle_stem", _PAD), ("rightpad", "handle_stem", _PAD),
                          ("wrist", "handle_bar", _WRIST), ("door_panel", "frame_side_n", _LEAF_STOP))),
    "drawer-open": (_DRAWER, _pairs(("leftpad", "rightpad"), ("handle_bar",), _PAD)
                    + _pairs(("leftpad",), ("handle_arm_n", "handle_arm_p", "drawer_front"), _PAD)),
    "drawer-close": (_DRAWER, _pairs(("leftpad", "rightpad"), ("handle_bar",), _PAD)
                     + _pairs(("leftpad",), ("handle_arm_n", "handle_arm_p", "drawer_front", "case_top"), _PAD)),
    "button-press-topdown": (_BUTTON, _pairs(("leftpad", "rightpad"), ("btnGeom", "box_top"), _PAD)),
    "peg-insert-side": (_PEG, (
        ("leftpad", "peg", _PAD), ("rightpad", "peg", _PAD), ("peg", "table", _OBJ),
        ("peg", "block_lower", _OBJ), ("peg", "block_upper", _OBJ),
        ("peg", "block_side_p", _OBJ), ("peg", "block_side_n", _OBJ))
        # the fingers meet the block's upper part beside the hole (Meta-World 3.1.1's contact list: pads and claws
        # against its top plates at x = block + 0.096-0.1, 300-350 N per pad once the peg is in), which stops the
        # hand and so the peg; without them our hand pushes the peg on through the hole
        + _pairs(("leftpad", "rightpad"), ("block_upper",), _PAD)),
    "window-open": (_WINDOW, _WINDOW_HANDLE_PAIRS),
    "window-close": (_WINDOW, _WINDOW_HANDLE_PAIRS
                     + _pairs(("wrist", ), ("frame_upright_p", "sash_edge"), _WRIST)
                     + _pairs(("leftpad",), ("frame_upright_p", "sash_edge"), _PAD)),
}


# Pad contacts have condim 4 (torsional friction 0.1, Meta-World's pad geoms: condim 4, friction "2 0.1 0.002") with
# both hands. Without it a held puck pivots about the pad normal and slides out in MJX (floating hand, MJX, 20
# scripted pick-place episodes: last-step success 0.55 -> 0.95, real 1.00; docs/deviations.md). The arm's scenes
# also use Meta-World's elliptic cones (``scenes_arm.CONE``); the floating hand's keep pyramidal cones.
_PAD_CONDIM = 4  # every pad pair, both hands
def _condim(params: str, default: int) -> str:
    """The pair's ``condim`` attribute, unless its parameter string sets its own (e.g. torsional friction, 4)."""
    return "" if "condim=" in params else f' condim="{default}"'


def scene_xml(task: str, frame_skip: int = 1, iterations: int = 4, ls_iterations: int = 4,
              eulerdamp: bool = False, hand: str = "floating") -> str:
    """MJCF text of one task's scene.

    Args:
      task: one of ``ALL_TASKS``.
      frame_skip: physics steps per 12.5 ms control step; the timestep is ``CONTROL_DT / frame_skip``.
      iterations: Newton solver iterations.
      ls_iterations: line-search iterations.
      eulerdamp: integrate joint damping implicitly (MuJoCo's default). Off by default: every damped joint here
        is stable with explicit damping at these timesteps (2 * inertia / damping >= 0.02 s) and MJX then skips
        a factorisation per substep. Always on with ``hand="arm"`` (the arm's damped light wrist joints need it).
      hand: one of ``HANDS``: "floating" (a 1 kg free hand on a soft weld) or "arm" (the hand on our Sawyer arm,
        ``sawyer.py``, on Meta-World's weld).

    Returns:
      The MJCF string.
    """
    if task not in ALL_TASKS:
        raise ValueError(f"unknown Meta-World task {task!r}; valid tasks: {', '.join(ALL_TASKS)}")
    if frame_skip < 1:
        raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
    if hand not in HANDS:
        raise ValueError(f"unknown hand model {hand!r}; valid: {', '.join(HANDS)}")
    if task in _TASK_SCENES:
        body, pairs = _TASK_SCENES[task]
    else:
        sd = scenes_mt50.SCENES[task]
        body, pairs = sd.body, sd.pairs
    dt = CONTROL_DT / frame_skip
    cone = "pyramidal"
    if hand == "arm":  # Meta-World's weld as its reset_mocap_welds leaves it: no offset, torquescale 5
        hand_xml, eulerdamp, solimp, rest, extra = _arm_hand(dt), True, ARM_WELD_SOLIMP, (0, 0, 0), ' torquescale="5"'
        hand_xml = scenes_arm.arm_hand(task, hand_xml)
        body, pairs = scenes_arm.arm_body(task, body), scenes_arm.arm_pairs(task, pairs)
        cone = scenes_arm.CONE if pairs else cone
    else:
        hand_xml, solimp, rest, extra = _HAND, WELD_SOLIMP, _REST, ""
    pair_xml = "\n".join(
        f'    <pair geom1="{a}" geom2="{b}"{_condim(p, _PAD_CONDIM if "pad" in a + b else 3)} {p}/>'
        for a, b, p in pairs)
    weld = (f'solref="{WELD_SOLREF[0]} {WELD_SOLREF[1]}" solimp="{" ".join(map(str, solimp))}" '
            f'relpose="{rest[0]} {rest[1]} {rest[2]} 1 0 0 0"{extra}')
    return f"""<mujoco model="mtjax_{task}">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{dt:.8f}" iterations="{iterations}" ls_iterations="{ls_iterations}" solver="Newton"
          cone="{cone}" integrator="Euler" gravity="0 0 -9.81">
    <flag eulerdamp="{'enable' if eulerdamp else 'disable'}"/>
  </option>
  <default>
    <geom contype="0" conaffinity="0" condim="3" friction="1 0.005 0.0001"/>
  </default>
  <worldbody>
    <geom name="table" type="plane" pos="0 0.6 0" size="0.7 0.4 0.01"/>{hand_xml}{body}
  </worldbody>
  <equality>
    <weld body1="mocap" body2="hand" {weld}/>
  </equality>
  <contact>
{pair_xml}
  </contact>
  <actuator>
    <position name="r_close" joint="r_close" kp="400" ctrlrange="-1 1"/>
    <position name="l_close" joint="l_close" kp="400" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
"""


@functools.cache
def build_model(task: str, frame_skip: int = 1, iterations: int = 4, ls_iterations: int = 4,
                eulerdamp: bool = False, hand: str = "floating") -> mujoco.MjModel:
    """Compiled ``mujoco.MjModel`` of one task's scene (cached; treat as read-only)."""
    return mujoco.MjModel.from_xml_string(scene_xml(task, frame_skip, iterations, ls_iterations, eulerdamp, hand))


@functools.cache
def settled_hand(frame_skip: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Meta-World's reset settle (50 control steps, fingers opening) of the hand alone, on the CPU.

    The floating hand is translation invariant, so one settle at the origin serves every task and every
    ``hand_init_pos``.

    Returns:
      ``(offset [3], quat [4])``: the hand body's resting position relative to its mocap target and its
      orientation (w, x, y, z).
    """
    mocap = np.array([0.0, 0.6, 0.2])
    d = _settle(build_model("reach", frame_skip), mocap, frame_skip)
    return np.array(d.body("hand").xpos - mocap), np.array(d.body("hand").xquat)


@functools.cache
def settled_arm(task: str) -> tuple[np.ndarray, np.ndarray]:
    """Meta-World's reset settle of the arm (``hand="arm"``) at ``task``'s ``hand_init_pos``, on the CPU.

    Meta-World resets MuJoCo's data (every arm joint at 0) and then holds the mocap at ``hand_init_pos`` for 50
    control steps with the fingers opening; the arm is still moving when the episode starts. The settle swings
    the arm through a large arc, so it runs at Meta-World's own physics settings (5 x 2.5 ms, Newton with 50
    iterations) whatever the env's ``frame_skip``: at one 12.5 ms step it ends in another arm pose, 3.8 cm away.

    Returns:
      ``(qpos [9], qvel [9])``: the seven arm joints and the two fingers.
    """
    d = _settle(build_model(task, 5, 50, 50, hand="arm"), scenes_mt50.spec(task).hand_init, 5)
    return np.array(d.qpos[:9]), np.array(d.qvel[:9])


def _settle(m: mujoco.MjModel, mocap, frame_skip: int) -> mujoco.MjData:
    """Meta-World's ``_reset_hand``: from ``mj_resetData``'s state, 50 control steps with the hand's mocap held
    at ``mocap`` and the fingers opening (``ctrl = (-1, 1)``)."""
    d = mujoco.MjData(m)
    d.mocap_pos[m.body("mocap").mocapid[0]] = mocap
    d.ctrl[:] = (-1.0, 1.0)
    mujoco.mj_step(m, d, nstep=50 * frame_skip)
    return d
