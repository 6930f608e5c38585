"""Pure-JAX terrain queries on a tile's box list (``terrain.py``): heights under points and the boxes near the robot.

MTBench reads its 132-point height scan from the heightfield (min of 3 neighbouring 0.05 m samples). Our terrain is
boxes, so a height is computed exactly: a vertical ray from ``z = 10`` hits each oriented box (slab test in the box
frame) and the height is the highest hit, or the ground plane. No MJX ray casts are needed (``docs/parkour.md``).
All functions are unbatched (one env); the env vmaps them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["SCAN_POINTS", "box_distance", "box_heights", "euler_from_quat", "nearest_boxes", "nearest_spheres",
           "quat_to_mat", "scan_heights", "sphere_distance", "sphere_heights", "terrain_heights"]

# MTBench's scan grid in the yaw-rotated base frame: x in -0.45..1.20 (12), y in -0.75..0.75 (11), x-major.
_SX = np.round(np.arange(-0.45, 1.2001, 0.15), 4)
_SY = np.round(np.arange(-0.75, 0.7501, 0.15), 4)
SCAN_POINTS = np.stack(np.meshgrid(_SX, _SY, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)  # [132, 2]
_NEIGHBOUR = 0.05  # MTBench's heightfield resolution: min over the point and its +x, +y neighbours
_RAY_TOP = 10.0


def quat_to_mat(q: jax.Array) -> jax.Array:
    """``[..., 4]`` (w, x, y, z) unit quaternions to ``[..., 3, 3]`` rotation matrices."""
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]]
    return jnp.stack([jnp.stack(r, -1) for r in rows], -2)


def euler_from_quat(q: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Roll, pitch, yaw (x-y-z, isaacgym's ``get_euler_xyz`` wrapped to [-pi, pi]) of a (w, x, y, z) quaternion."""
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    roll = jnp.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = jnp.arcsin(jnp.clip(2 * (w * y - z * x), -1.0, 1.0))
    yaw = jnp.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


def box_heights(boxes: jax.Array, ground: jax.Array, xy: jax.Array) -> jax.Array:
    """Terrain height at ``xy [P, 2]``: the highest top surface of ``boxes [M, 10]`` hit from above, else ``ground``.

    Returns:
      ``[P]`` heights.
    """
    rot = quat_to_mat(boxes[:, 6:10])  # [M, 3, 3], box frame -> world
    top = jnp.concatenate([xy, jnp.full(xy.shape[:1] + (1,), _RAY_TOP)], -1)  # [P, 3]
    o = jnp.einsum("mji,pmj->pmi", rot, top[:, None, :] - boxes[None, :, :3])  # ray origin in box frames
    dvec = -rot[:, 2, :]  # world (0, 0, -1) in box frames, [M, 3]
    half = boxes[None, :, 3:6]
    safe = jnp.where(jnp.abs(dvec) < 1e-9, 1e-9, dvec)[None]
    t1, t2 = (-half - o) / safe, (half - o) / safe
    parallel = jnp.abs(dvec)[None] < 1e-9
    inside = jnp.abs(o) <= half
    lo = jnp.where(parallel, jnp.where(inside, -jnp.inf, jnp.inf), jnp.minimum(t1, t2))
    hi = jnp.where(parallel, jnp.where(inside, jnp.inf, -jnp.inf), jnp.maximum(t1, t2))
    t_in, t_out = lo.max(-1), hi.min(-1)  # [P, M]
    hit = (t_out >= t_in) & (t_out >= 0)
    h = jnp.where(hit, _RAY_TOP - jnp.maximum(t_in, 0.0), -jnp.inf).max(-1)
    return jnp.maximum(h, ground)


def sphere_heights(spheres: jax.Array, xy: jax.Array) -> jax.Array:
    """``[P]`` highest top of ``spheres [S, 5]`` (``shapes.py`` rows) above ``xy [P, 2]``: ``cz + sqrt(r^2 - rho^2)``,
    ``-inf`` where no sphere is above the point."""
    rho2 = ((xy[:, None, :] - spheres[None, :, :2]) ** 2).sum(-1)  # [P, S]
    r2 = spheres[None, :, 3] ** 2
    top = spheres[None, :, 2] + jnp.sqrt(jnp.maximum(r2 - rho2, 0.0))
    return jnp.where(rho2 <= r2, top, -jnp.inf).max(-1)


def terrain_heights(boxes: jax.Array, spheres: jax.Array, ground: jax.Array, xy: jax.Array) -> jax.Array:
    """``[P]`` terrain height at ``xy [P, 2]``: the highest of the boxes, the spheres and the ground."""
    return jnp.maximum(box_heights(boxes, ground, xy), sphere_heights(spheres, xy))


def scan_heights(boxes: jax.Array, spheres: jax.Array, ground: jax.Array, base_pos: jax.Array,
                 yaw: jax.Array) -> jax.Array:
    """MTBench's 132-point scan value ``clip(base_z - 0.3 - h, -1, 1)`` (``h`` = min over 3 neighbours), ``[132]``."""
    c, s = jnp.cos(yaw), jnp.sin(yaw)
    p = jnp.asarray(SCAN_POINTS)
    world = base_pos[:2] + jnp.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]], -1)
    offs = jnp.array([[0.0, 0.0], [_NEIGHBOUR, 0.0], [0.0, _NEIGHBOUR]])
    h = terrain_heights(boxes, spheres, ground, (world[None] + offs[:, None]).reshape(-1, 2)).reshape(3, -1).min(0)
    return jnp.clip(base_pos[2] - 0.3 - h, -1.0, 1.0)


def nearest_boxes(boxes: jax.Array, xy: jax.Array, k: int) -> jax.Array:
    """The ``k`` boxes of ``boxes [M, 10]`` whose xy bounding rectangle is nearest to ``xy [2]``, ``[k, 10]``.

    This is the broad phase MJX lacks, run once per control step: the robot (<= 0.45 m from its base to a foot)
    moves < 0.1 m per step, so every box it can touch in the step is among the nearest ones when ``k`` covers the
    boxes within ~0.6 m (tested per terrain in ``tests/test_parkour.py``).
    """
    dist = box_distance(boxes, xy)
    _, idx = jax.lax.top_k(-dist, k)
    return boxes[idx]


def box_distance(boxes: jax.Array, xy: jax.Array) -> jax.Array:
    """``[M]`` xy distance from ``xy`` to each box's footprint (parked rows: 1e3 added).

    The footprint is the bounding rectangle in the box's yaw frame (the heading of its x axis): exact for boxes
    only yawed, the xy bounding rectangle of the rotated box for boxes also pitched or rolled.
    """
    rot = quat_to_mat(boxes[:, 6:10])
    yaw = jnp.arctan2(rot[:, 1, 0], rot[:, 0, 0])
    c, s = jnp.cos(yaw), jnp.sin(yaw)
    unyaw = jnp.stack([jnp.stack([c, s, jnp.zeros_like(c)], -1), jnp.stack([-s, c, jnp.zeros_like(c)], -1),
                       jnp.broadcast_to(jnp.array([0.0, 0.0, 1.0]), c.shape + (3,))], -2)  # R_z(yaw)^T
    local = jnp.einsum("mij,mjk->mik", unyaw, rot)
    ext = jnp.einsum("mij,mj->mi", jnp.abs(local), boxes[:, 3:6])[:, :2]
    rel = xy - boxes[:, :2]
    rel = jnp.stack([c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1]], -1)
    gap = jnp.maximum(jnp.abs(rel) - ext, 0.0)
    return jnp.linalg.norm(gap, axis=-1) + jnp.where(boxes[:, 2] < -40.0, 1e3, 0.0)


def sphere_distance(spheres: jax.Array, xy: jax.Array) -> jax.Array:
    """``[S]`` xy distance from ``xy`` to each sphere's footprint disc (radius column 4; parked rows: 1e3 added)."""
    gap = jnp.maximum(jnp.linalg.norm(xy - spheres[:, :2], axis=-1) - spheres[:, 4], 0.0)
    return gap + jnp.where(spheres[:, 2] < -40.0, 1e3, 0.0)


def nearest_spheres(spheres: jax.Array, xy: jax.Array, k: int) -> jax.Array:
    """The ``k`` spheres of ``spheres [S, 5]`` nearest to ``xy [2]`` by footprint distance, ``[k, 5]``."""
    _, idx = jax.lax.top_k(-sphere_distance(spheres, xy), k)
    return spheres[idx]
