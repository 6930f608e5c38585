"""The MJX scene of the Go1 parkour env: our Go1 (``robot.py``) over a ground plane and ``K`` terrain box slots.

Every env shares one ``mujoco.MjModel``; the terrain differs per env only in data: each control step the env puts
the ``K`` boxes of its tile nearest to the robot into the slots (``geom_pos``, ``geom_size``, ``geom_quat`` of a
per-env model copy, ``scan.nearest_boxes``) and the plane at the tile's ground height. MJX has no broad phase, so
the contact slots are ``(K + 1) x 22 + S x 13`` (a capsule meets a box or plane in 2 points, anything else in 1) (``docs/parkour.md``, "Cost"). Host side only.
"""

from __future__ import annotations

import mujoco
import numpy as np

from envs_bridge.parkour import robot

__all__ = ["GROUND", "build_model", "contact_groups", "scene_xml"]

GROUND = 0  # geom id of the ground plane; the box slots are geoms 1..K, the sphere slots K+1..K+S
_TERRAIN = 'contype="1" conaffinity="2" condim="3" friction="1 0.005 0.0001"'


def scene_xml(active_boxes: int, iterations: int = 4, ls_iterations: int = 4, active_spheres: int = 0) -> str:
    """The scene's MJCF text with ``active_boxes`` parked box slots, then ``active_spheres`` parked sphere slots."""
    slots = "".join(f'<geom name="slot{k}" type="box" pos="0 0 -50" size="0.01 0.01 0.01" {_TERRAIN}/>'
                    for k in range(active_boxes))
    slots += "".join(f'<geom name="sphere{k}" type="sphere" pos="0 0 -50" size="0.01" {_TERRAIN}/>'
                     for k in range(active_spheres))
    body, actuators = robot.robot_xml()
    # Robot geoms get friction 0.1 (below the DR range), so MuJoCo's max-rule pair friction is the terrain's.
    return f"""
<mujoco model="go1_parkour">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{robot.SIM_DT}" iterations="{iterations}" ls_iterations="{ls_iterations}" cone="pyramidal">
    <flag eulerdamp="disable"/>
  </option>
  <default>
    <joint armature="{robot.ARMATURE}" damping="0"/>
    <geom friction="0.1 0.005 0.0001"/>
  </default>
  <worldbody>
    <geom name="ground" type="plane" size="0 0 1" {_TERRAIN}/>
    {slots}
    {body}
  </worldbody>
  {actuators}
</mujoco>"""


def build_model(active_boxes: int, iterations: int = 4, ls_iterations: int = 4,
                active_spheres: int = 0) -> mujoco.MjModel:
    """Compiles ``scene_xml``."""
    return mujoco.MjModel.from_xml_string(scene_xml(active_boxes, iterations, ls_iterations, active_spheres))


def contact_groups(m: mujoco.MjModel) -> np.ndarray:
    """``[ngeom]`` int32 sensor group of each geom: feet 0-3, thighs and calves 4-11 (FR, FL, RR, RL), else -1."""
    out = np.full(m.ngeom, -1, np.int32)
    for k, leg in enumerate(robot.LEGS):
        out[m.geom(f"{leg}_foot").id] = k
        out[m.geom(f"{leg}_thigh").id] = 4 + 2 * k
        out[m.geom(f"{leg}_calf").id] = 5 + 2 * k
    return out
