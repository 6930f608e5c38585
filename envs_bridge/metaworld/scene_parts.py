"""MJCF pieces shared by the MT10 scenes (``scenes.py``) and the MT50 scenes (``scenes_mt50_*.py``).

Pure strings, no imports, so that both sides can use them without importing each other.
"""

__all__ = ["DOOR_LEAF", "HOLE_TABLE", "HOLE_TABLE_TOPS", "cube"]

# The door of door-open and door-close: Meta-World's ``doorlock`` leaf on hinge ``doorjoint`` (range [-2, 0], damping
# 2, stiff limit), its panel, handle bar and stem as primitives, and the handle site the observation reads.
DOOR_LEAF = """
      <body name="door_link" pos="-0.185 -0.1 0">
        <joint name="doorjoint" type="hinge" axis="0 0 1" range="-2 0" damping="2" armature="0.001"
               solimplimit="0.99 0.999 0.001"/>
        <inertial pos="0.185 0 0" mass="2.2298" diaginertia="0.0436 0.0373 0.0117"/>
        <geom name="door_panel" type="box" pos="0.185 0 0" size="0.18 0.01 0.123"/>
        <geom name="handle_bar" type="capsule" fromto="0.327 -0.12 0 0.435 -0.12 0" size="0.021"/>
        <geom name="handle_stem" type="capsule" fromto="0.325 -0.099 0 0.325 -0.031 0" size="0.013"/>
        <site name="handle" pos="0.37572 -0.10714 0.00004" quat="0.15117 0.69076 -0.15062 0.69088"/>
      </body>"""

# Meta-World's ``table_with_hole`` (sweep-into, hand-insert): the table top 5 cm higher (z 0.05) with a 0.16 x 0.16 m
# hole at x +-0.08, y 0.76-0.92 whose floor is z 0 (the scene's ``table`` plane): four boxes, front, left, right and
# back of the hole.
HOLE_TABLE = """
    <body name="tabletop" pos="0 0.6 0">
      <geom name="top_front" type="box" pos="0 -0.12 0" size="0.08 0.28 0.05"/>
      <geom name="top_left" type="box" pos="-0.39 0 0" size="0.31 0.4 0.05"/>
      <geom name="top_right" type="box" pos="0.39 0 0" size="0.31 0.4 0.05"/>
      <geom name="top_back" type="box" pos="0 0.36 0" size="0.08 0.04 0.05"/>
    </body>"""
HOLE_TABLE_TOPS = ("top_front", "top_left", "top_right", "top_back")


def cube(pos: str) -> str:
    """Meta-World's small cube ``obj`` (sweep-into, hand-insert, pick-out-of-hole, shelf-place): a 0.04 m box of
    0.01 kg on free joint ``objjoint``, rotation frozen by a 1e5 inertia, body origin at its centre, at ``pos``."""
    return f"""
    <body name="obj" pos="{pos}">
      <freejoint name="objjoint"/>
      <inertial pos="0 0 0" mass="0.01" diaginertia="1e5 1e5 1e5"/>
      <geom name="objGeom" type="box" size="0.02 0.02 0.02"/>
    </body>"""
