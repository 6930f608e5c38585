"""The Sawyer arm that carries Meta-World's hand, as our own MJCF (kinematics and inertia only).

Meta-World (Yu et al., 2019, arXiv 1910.10897) welds a mocap body to the hand of a Rethink Sawyer arm: the hand
follows its target through the arm's inertia (about 17 kg over seven links), the joints' damping (10 N m s/rad
each) and the arm's reach. A floating hand reproduces none of that (it lags a moving target by ~2 cm where the
real hand lags by ~4 cm, and it follows the target past the arm's reach near y = 0.9). This module writes the arm
from numbers: link frames, joint axes and ranges, masses, centres of mass and principal inertias as Meta-World
3.1.1's compiled model reports them (``mujoco.MjModel.body_*`` of its ``sawyer_xyz_base``), the joints' damping
and armature. The arm has no collision geoms (Meta-World's arm links collide with nothing the hand reaches except
through the wrist, which ``scenes.py`` models) and no visual meshes.

The hand body is inserted at the end of the chain rotated so that its frame is world-aligned when the arm holds
Meta-World's hand orientation (mocap quaternion ``(1, 0, 1, 0)`` normalised): the hand's geoms and sites are then
written in the same frame as the floating hand's.

Host-side only (strings and ``mujoco.MjModel``); nothing is traced.
"""

from __future__ import annotations

__all__ = ["ARM_JOINTS", "JOINT_DAMPING", "LINKS", "MW_TIMESTEP", "WRIST_JOINTS", "arm_xml", "hand_to_flange",
           "joint_damping"]

# (name, parent, pos, quat, mass, centre of mass, principal-axes quat, principal inertia, joint range or None).
# The head hangs on right_l0 without a joint (its mass moves with joint 0).
LINKS = (
    ("right_l0", "base", (0.0, 0.0, 0.08), (1.0, 0.0, 0.0, 0.0), 5.3213, (0.024366, 0.010969, 0.14363),
     (0.894823, 0.009000, -0.170275, 0.412573), (0.0651588, 0.0510944, 0.0186218), (-3.0503, 3.0503)),
    ("head", "right_l0", (0.0, 0.0, 0.2965), (1.0, 0.0, 0.0, 0.0), 1.5795, (0.0053207, -2.6549e-05, 0.1021),
     (0.999993, 7.08e-05, -0.0035986, -0.00062625), (0.0118334, 0.00827089, 0.00496574), None),
    ("right_l1", "right_l0", (0.081, 0.05, 0.237), (0.5, -0.5, 0.5, 0.5), 4.505, (-0.0030849, -0.026811, 0.092521),
     (0.424888, 0.891987, 0.132364, -0.079430), (0.0224339, 0.0221624, 0.0097097), (-3.8, -0.5)),
    ("right_l2", "right_l1", (0.0, -0.14, 0.1425), (0.7071068, 0.7071068, 0.0, 0.0), 1.745,
     (-0.00016044, -0.014967, 0.13582), (0.707831, -0.052476, 0.051601, 0.702537),
     (0.0257928, 0.025506, 0.00292515), (-3.0426, 3.0426)),
    ("right_l3", "right_l2", (0.0, -0.042, 0.26), (0.7071068, -0.7071068, 0.0, 0.0), 2.5097,
     (-0.0048135, -0.0281, -0.084154), (0.902999, 0.385391, -0.088090, 0.168247),
     (0.0102404, 0.0096997, 0.00369622), (-3.0439, 3.0439)),
    ("right_l4", "right_l3", (0.0, -0.125, -0.1265), (0.7071068, 0.7071068, 0.0, 0.0), 1.1136,
     (-0.0018844, 0.0069001, 0.1341), (0.803612, 0.031257, -0.029833, 0.593582),
     (0.0136549, 0.0135493, 0.00127353), (-2.9761, 2.9761)),
    ("right_l5", "right_l4", (0.0, 0.031, 0.275), (0.7071068, -0.7071068, 0.0, 0.0), 1.5625,
     (0.0061133, -0.023697, 0.076416), (0.404076, 0.913500, 0.047312, 0.0015833),
     (0.00474131, 0.00422857, 0.00190672), (-2.9761, 2.9761)),
    ("right_l6", "right_l5", (0.0, -0.11, 0.1053), (0.0616248, 0.0616300, -0.7044161, 0.7044161), 0.3292,
     (-8.0726e-06, 0.0085838, -0.0049566), (0.479044, 0.515636, -0.513069, 0.491322),
     (0.000360258, 0.000311068, 0.000214974), (-4.7124, 4.7124)),
)
ARM_JOINTS = tuple(f"right_j{i}" for i in range(7))
JOINT_DAMPING = 10.0  # N m s / rad on every arm joint (Meta-World's sawyer_xyz_base)
MW_TIMESTEP = 0.0025  # s, Meta-World's physics timestep (5 per 12.5 ms control step)
# The wrist joints that Meta-World's arm moves in the damping-dominated regime: effective inertia (diagonal of the
# joint-space inertia at the reset pose, armature included) below h * D at Meta-World's timestep (0.025 kg m^2):
# j5 0.011, j6 0.0015 (j4 0.038, j3 0.45). MuJoCo's constraint solver computes the weld's pull with the inertia M
# alone and Euler then integrates the joint damping implicitly with M + h D, so on such a joint the weld's pull is
# filtered by M / (M + h D) and how fast the wrist follows the hand's orientation depends on h * D, not on D.
# ``joint_damping`` keeps h * D at Meta-World's value on these joints (docs/metaworld_mjx.md, "The Sawyer arm option").
WRIST_JOINTS = ("right_j5", "right_j6")
JOINT_ARMATURE = 0.001
_RIGHT_HAND = ((0.0, 0.0, 0.0245), (0.7071068, 0.0, 0.0, 0.7071068))  # flange frame on right_l6
# hand on the flange: Meta-World's (0, 0, 0.12) with quat (-1, 0, 1, 0)/sqrt 2, composed with the inverse of the
# mocap orientation (1, 0, 1, 0)/sqrt 2, so that the hand frame is world-aligned when the weld is satisfied.
_HAND_ON_FLANGE = ((0.0, 0.0, 0.12), (0.0, 0.0, 1.0, 0.0))
# Meta-World's hand has no mass; MuJoCo then puts its inertial frame at its placement on the flange, 0.12 m along
# the (world-aligned) hand frame's x. MuJoCo's soft-constraint regulariser uses the inverse inertia seen at that
# point (``body_invweight0``), so the weld's softness (the hand's ~5 mm sag under the arm's weight) depends on it:
# a negligible mass placed there gives our hand the same inverse weight (6.1 vs 1.2 at its geometric centre).
_HAND_INERTIAL = '<inertial pos="0.12 0 0" mass="1e-08" diaginertia="1e-08 1e-08 1e-08"/>'


def _fmt(v) -> str:
    return " ".join(f"{x:.7g}" for x in v)


def joint_damping(joint: str, timestep: float) -> float:
    """Damping [N m s / rad] of arm joint ``joint`` at physics timestep ``timestep`` [s].

    ``JOINT_DAMPING`` (Meta-World's 10) on every joint at Meta-World's timestep or finer. At a coarser timestep h
    the ``WRIST_JOINTS`` get ``JOINT_DAMPING * MW_TIMESTEP / h`` (4 at 6.25 ms, 2 at 12.5 ms), the same h * D as
    the real arm's. Replaying recorded actions of push and pick-place (6 episodes, 60 steps, C MuJoCo at 2 x 6.25
    ms), the hand's largest rotation error against the real hand about x, y, z falls from 0.017, 0.029, 0.150 rad
    to 0.014, 0.011, 0.028 rad (at Meta-World's timestep: 0.002, 0.002, 0.012) and the TCP's median error from 4.9
    to 2.2 mm (1.4 mm). Scaling j4 as well (0.029, 0.015, 0.024 rad, 2.0 mm) makes reach's TCP error 4.3 mm instead
    of 0.6 (5 episodes, 150 steps; these two joints: 1.1 mm).
    """
    if joint in WRIST_JOINTS and timestep > MW_TIMESTEP:
        return JOINT_DAMPING * MW_TIMESTEP / timestep
    return JOINT_DAMPING


def hand_to_flange(pos) -> tuple[float, float, float]:
    """A point given in the (world-aligned) hand frame, in the frame of the flange body ``right_hand``."""
    (w, x, y, z), v = _HAND_ON_FLANGE[1], pos
    u = (x, y, z)
    cross = lambda a, b: (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    uv = cross(u, v)
    uuv = cross(u, uv)
    return tuple(_HAND_ON_FLANGE[0][i] + v[i] + 2.0 * (w * uv[i] + uuv[i]) for i in range(3))


def arm_xml(hand_body: str, timestep: float = MW_TIMESTEP, flange_geoms: str = "") -> str:
    """The arm's worldbody XML with ``hand_body`` (a complete ``<body name="hand" ...>`` element) at its end.

    The hand body's own ``pos``/``quat`` attributes are replaced by its place on the arm's flange. ``timestep`` is
    the scene's physics timestep [s] (the wrist joints' damping depends on it, ``joint_damping``).
    ``flange_geoms`` (geom elements in the flange frame, ``hand_to_flange``) go on the flange body ``right_hand``,
    where Meta-World's wrist mesh is.
    """
    children: dict[str, list[str]] = {}
    for name, parent, *_ in LINKS:
        children.setdefault(parent, []).append(name)
    rows = {r[0]: r for r in LINKS}
    start = hand_body.index(">") + 1
    hand_inner = hand_body[start:hand_body.rindex("</body>")]
    flange = (f'<body name="right_hand" pos="{_fmt(_RIGHT_HAND[0])}" quat="{_fmt(_RIGHT_HAND[1])}">{flange_geoms}'
              f'<body name="hand" pos="{_fmt(_HAND_ON_FLANGE[0])}" quat="{_fmt(_HAND_ON_FLANGE[1])}">'
              f'{_HAND_INERTIAL}{hand_inner}</body></body>')

    def body(name: str) -> str:
        _, _, pos, quat, mass, com, iquat, inertia, rng = rows[name]
        jname = f"right_j{name[-1]}"
        joint = "" if rng is None else (
            f'<joint name="{jname}" type="hinge" axis="0 0 1" range="{rng[0]} {rng[1]}" '
            f'damping="{joint_damping(jname, timestep):.7g}" armature="{JOINT_ARMATURE}"/>')
        inner = "".join(body(c) for c in children.get(name, ()))
        if name == "right_l6":
            inner += flange
        return (f'<body name="{name}" pos="{_fmt(pos)}" quat="{_fmt(quat)}">{joint}'
                f'<inertial pos="{_fmt(com)}" quat="{_fmt(iquat)}" mass="{mass}" diaginertia="{_fmt(inertia)}"/>'
                f'{inner}</body>')

    return f'\n    <body name="base" pos="0 0 0">{body("right_l0")}</body>'
