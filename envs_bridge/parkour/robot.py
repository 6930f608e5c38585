"""A Unitree Go1 quadruped in MJCF, written for MuJoCo MJX from published figures (MTBench's Go1 setup: Joshi et al.,
2025, arXiv 2507.23172, section 2.3 of ``docs/parkour.md``; Cheng et al., 2023, arXiv 2309.14341 for the parkour
environment it derives from).

No robot file or mesh of another project is copied. Sources of the numbers:
  * MTBench's Go1 (spec 2.3): joint ranges (hip +-0.803, thigh [-1.047, 4.189], calf [-2.697, -0.916] rad), motor
    effort 33.5 N m, trunk mass 4.8 kg, default pose, PD gains Kp 50 / Kd 3, sim dt 5 ms, decimation 4.
  * Unitree Go1 published kinematics (Unitree's Go1 description, the figures quoted by legged_gym/Extreme-Parkour):
    hip joints at (+-0.1881, +-0.04675) m from the trunk centre, hip-to-thigh offset 0.08 m, thigh and calf
    0.213 m, foot sphere radius 0.02 m; link masses hip 0.696 kg, thigh 1.013 kg, calf 0.166 kg, foot 0.06 kg;
    trunk box 0.3762 x 0.0935 x 0.114 m.
  * Inertias: solid-body estimates from those masses and shapes (rounded), not copied values.
  * Joint armature 0.01 kg m^2 (ours): the reflected rotor inertia of a geared motor. MTBench sets none, but
    PhysX's articulation solver tolerates Kd = 3 on a 3e-3 kg m^2 calf at 5 ms; MuJoCo's explicit Euler does not
    (Kd dt / I = 5 > 2 diverges); with the armature the ratio is 1.15 (``docs/parkour.md``, deviations).

Collision set (MJX has no broad phase, ``docs/parkour.md``): four foot spheres, four thigh and four calf capsules
and one trunk capsule, all ``contype=2 conaffinity=1``; terrain geoms are ``contype=1 conaffinity=2``, so only
robot-terrain pairs exist (no self-collision, as MTBench). Actuators are torque motors (``ctrlrange`` +-33.5); the PD
law runs in JAX every substep (``pd_torque``).

Everything here is host side except ``pd_torque``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

__all__ = [
    "ARMATURE",
    "DECIMATION",
    "DEFAULT_Q",
    "JOINT_NAMES",
    "KD",
    "KP",
    "LEGS",
    "LINK_MASS",
    "Q_HIGH",
    "Q_LOW",
    "SIM_DT",
    "TORQUE_LIMIT",
    "pd_torque",
    "robot_mass",
    "robot_xml",
]

LEGS = ("FR", "FL", "RR", "RL")  # Unitree's leg order (legged_gym's joint order)
JOINT_NAMES = tuple(f"{leg}_{j}" for leg in LEGS for j in ("hip", "thigh", "calf"))
# Default joint angles (spec 2.3): hips FL/RL +0.1, FR/RR -0.1; thighs front 0.8, rear 1.0; calves -1.5.
DEFAULT_Q = np.array([-0.1, 0.8, -1.5, 0.1, 0.8, -1.5, -0.1, 1.0, -1.5, 0.1, 1.0, -1.5], np.float32)
Q_LOW = np.tile(np.array([-0.803, -1.047, -2.697], np.float32), 4)
Q_HIGH = np.tile(np.array([0.803, 4.189, -0.916], np.float32), 4)
TORQUE_LIMIT = 33.5
KP, KD = 50.0, 3.0
SIM_DT, DECIMATION = 0.005, 4  # 200 Hz physics, 50 Hz policy (dt 0.02 s)
LINK_MASS = {"trunk": 4.8, "hip": 0.696, "thigh": 1.013, "calf": 0.166, "foot": 0.06}
ARMATURE = 0.01

_HIP_X, _HIP_Y, _THIGH_Y, _LEG = 0.1881, 0.04675, 0.08, 0.213
_FOOT_R = 0.02
_ROBOT = 'contype="2" conaffinity="1" condim="3"'


def _leg_xml(leg: str) -> str:
    sx = 1.0 if leg[0] == "F" else -1.0
    sy = -1.0 if leg[1] == "R" else 1.0
    m = LINK_MASS
    return f"""
      <body name="{leg}_hip" pos="{sx * _HIP_X} {sy * _HIP_Y} 0">
        <inertial pos="0 {sy * 0.01} 0" mass="{m['hip']}" diaginertia="0.00047 0.00081 0.00055"/>
        <joint name="{leg}_hip" axis="1 0 0" range="{Q_LOW[0]} {Q_HIGH[0]}"/>
        <body name="{leg}_thigh" pos="0 {sy * _THIGH_Y} 0">
          <inertial pos="0 0 -0.03" mass="{m['thigh']}" diaginertia="0.0055 0.0051 0.0014"/>
          <joint name="{leg}_thigh" axis="0 1 0" range="{Q_LOW[1]} {Q_HIGH[1]}"/>
          <geom name="{leg}_thigh" type="capsule" fromto="0 0 -0.03 0 0 -0.18" size="0.022" {_ROBOT} mass="0"/>
          <body name="{leg}_calf" pos="0 0 {-_LEG}">
            <inertial pos="0 0 -0.1" mass="{m['calf'] + m['foot']}" diaginertia="0.0016 0.0016 0.00004"/>
            <joint name="{leg}_calf" axis="0 1 0" range="{Q_LOW[2]} {Q_HIGH[2]}"/>
            <geom name="{leg}_calf" type="capsule" fromto="0 0 -0.02 0 0 -0.17" size="0.013" {_ROBOT} mass="0"/>
            <geom name="{leg}_foot" type="sphere" pos="0 0 {-_LEG}" size="{_FOOT_R}" {_ROBOT} mass="0"/>
          </body>
        </body>
      </body>"""


def robot_xml() -> tuple[str, str]:
    """The robot's ``<worldbody>`` trunk subtree and its ``<actuator>`` block.

    Returns:
      ``(worldbody_xml, actuator_xml)``, spliced into a scene by ``terrain.scene_xml``.
    """
    legs = "".join(_leg_xml(leg) for leg in LEGS)
    body = f"""
    <body name="trunk" pos="0 0 0.42">
      <freejoint name="root"/>
      <inertial pos="0 0 0" mass="{LINK_MASS['trunk']}" diaginertia="0.0168 0.0630 0.0717"/>
      <geom name="trunk" type="capsule" fromto="-0.13 0 0 0.13 0 0" size="0.057" {_ROBOT} mass="0"/>
      <site name="imu" pos="0 0 0"/>{legs}
    </body>"""
    motors = "".join(f'<motor name="{j}" joint="{j}" ctrlrange="{-TORQUE_LIMIT} {TORQUE_LIMIT}"/>'
                     for j in JOINT_NAMES)
    return body, f"<actuator>{motors}</actuator>"


def robot_mass(m: mujoco.MjModel) -> dict[str, float]:
    """Masses of the built model's bodies by kind (trunk, hip, thigh, calf incl. foot) and in total."""
    names = [m.body(i).name for i in range(m.nbody)]
    out = {"trunk": float(m.body_mass[names.index("trunk")])}
    for kind in ("hip", "thigh", "calf"):
        out[kind] = float(sum(m.body_mass[i] for i, n in enumerate(names) if n.endswith("_" + kind)) / 4)
    out["total"] = float(m.body_mass[names.index("trunk"):].sum())
    return out


def pd_torque(q_target: jax.Array, q: jax.Array, qd: jax.Array, kp_scale: jax.Array,
              kd_scale: jax.Array) -> jax.Array:
    """MTBench's effort-mode PD law: ``clip(m_p Kp (q* - q) - m_d Kd qd, +-33.5)``; all ``[12]`` (or batched)."""
    tau = kp_scale * KP * (q_target - q) - kd_scale * KD * qd
    return jnp.clip(tau, -TORQUE_LIMIT, TORQUE_LIMIT)
