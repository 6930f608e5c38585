"""MJCF pieces shared by the MT10 scenes (``scenes.py``) and the MT50 scenes (``scenes_mt50_*.py``).

Pure strings, no imports, so that both sides can use them without importing each other.
"""

__all__ = ["DOOR_LEAF"]

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
