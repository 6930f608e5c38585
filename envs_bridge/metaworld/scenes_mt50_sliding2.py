"""MT50 scenes, sliding family, part 2 (see ``scenes_mt50.py``): door-close, door-lock and door-unlock.

Numbers are Meta-World 3.1.1's (``doorlockA.xml`` / ``doorlockB.xml``, the task classes' ``reset_model``, the compiled
model). Contact pairs follow the census of the real env described in ``scenes_mt50_sliding.py`` (Meta-World's
scripted policy, 10 variations x 500 steps): a pair is here if the real hand met that surface.
"""

from __future__ import annotations

from envs_bridge.metaworld import scene_parts
from envs_bridge.metaworld.scene_defs import OBJ, PAD, WRIST, SceneDef, pairs, pose, scipy_quat

__all__ = ["SCENES"]

_PADS = ("leftpad", "rightpad")

# ---------------------------------------------------------------- door-close
# The door of MT10's door-open (``scene_parts.DOOR_LEAF``: hinge ``doorjoint`` range [-2, 0], damping 2, stiff limit;
# leaf, handle bar and stem; the safe's back wall). door-close adds the two frame members the real hand met while pushing the open door shut: the safe's
# +x side wall (box at (0.204, 0, 0), half-sizes (0.016, 0.106, 0.15)) and its top (at z 0.138, half-sizes
# (0.188, 0.106, 0.012)); the real leaf also stops on the -x side wall when it shuts (the real limit yields 0.01-0.02
# rad past 0), which our stiff limit at 0 stands in for.
_DOOR_CLOSE = """
    <body name="door" pos="0 0.9 0.15">
      <geom name="door_back" type="box" pos="0 0.094 0" size="0.188 0.012 0.126"/>
      <geom name="frame_side_n" type="box" pos="-0.204 0 0" size="0.016 0.106 0.15"/>
      <geom name="frame_side_p" type="box" pos="0.204 0 0" size="0.016 0.106 0.15"/>
      <geom name="frame_top" type="box" pos="0 0 0.138" size="0.188 0.106 0.012"/>""" + scene_parts.DOOR_LEAF + """
    </body>"""


def _door_close_observe(refs, d):
    """As MT10's door-open: the handle geom's centre (site ``handle``) and its orientation (scipy quaternion)."""
    return pose(d.site_xpos[refs["handle"]], scipy_quat(d.site_xmat[refs["handle"]].reshape(3, 3)))


# ---------------------------------------------------------------- door-lock, door-unlock
# ``doorlockA``: the door leaf is fixed (no hinge; body ``door_link`` at door + (-0.185, -0.1, 0)) and carries the
# lock on hinge ``lock_link`` (axis y, range [0, 1.57], damping 2, armature 0.001; a 0.1 x 0.038 x 0.02 m bar of
# 0.001 kg). door-lock starts the lock horizontal (q = 0) and turns it down to lock; door-unlock starts it hanging
# (q = 1.5708) and turns it up. Boxes as Meta-World's collision boxes: the leaf, the lock's base block, the handle's
# base, stem and two bars (at z -0.05 on this door). Meta-World's lock limit is MuJoCo's default soft limit on a
# 0.001 kg bar, and the hand swings the bar far past it (real, scripted policy: door-lock up to 1.64 rad, door-unlock
# -0.78 to 3.38 rad, round over the top); success needs neither (locked at q >= ~1.35, unlocked at |q| <= ~0.33), so
# our lock has the stiff limit of the other task joints at Meta-World's range.
_DOOR_LOCK = """
    <body name="door" pos="0 0.9 0.15">
      <body name="door_link" pos="-0.185 -0.1 0">
        <geom name="door_panel" type="box" pos="0.185 0 0" size="0.184 0.01 0.124"/>
        <geom name="lock_base" type="box" pos="0.185 -0.009 0.061" size="0.047 0.013 0.047"/>
        <geom name="handle_base" type="box" pos="0.325 -0.006 -0.05" size="0.028 0.012 0.028"/>
        <geom name="handle_stem" type="box" pos="0.325 -0.065 -0.05" size="0.013 0.047 0.013"/>
        <geom name="handle_bar" type="box" pos="0.381 -0.12 -0.05" size="0.075 0.019 0.019"/>
        <geom name="handle_bar2" type="box" pos="0.395 -0.12 -0.05" size="0.054 0.023 0.023"/>
        <body name="lock_link" pos="0.185 -0.018 0.061">
          <joint name="lock_joint" type="hinge" axis="0 1 0" range="0 1.57" damping="0.2" armature="0.002"
                 solimplimit="0.99 0.999 0.001"/>
          <inertial pos="0.042 -0.024 0" mass="0.001" diaginertia="1.2e-7 8.4e-7 9.5e-7"/>
          <geom name="lock" type="box" pos="0.042 -0.024 0" size="0.05 0.019 0.01"/>
          <site name="lockStartLock" pos="0.09 -0.04 0.01"/>
          <site name="lockStartUnlock" pos="0.09 -0.04 -0.01"/>
        </body>
      </body>
    </body>"""


def _lock_observe(site: str):
    def observe(refs, d):
        """Meta-World: the site's position and body ``door_link``'s ``xquat`` (w, x, y, z), identity here."""
        return pose(d.site_xpos[refs[site]], d.xquat[refs["door_link"]])
    return observe


def _lock(site: str, lock_pairs) -> SceneDef:
    return SceneDef(body=_DOOR_LOCK, pairs=lock_pairs,
                    refs={site: ("site", site), "door_link": ("body", "door_link")}, observe=_lock_observe(site),
                    moved={"door": "body"}, joints=("lock_joint",))


SCENES: dict[str, SceneDef] = {
    # Real contacts: the wrist on the frame's +x side and top and on the leaf, the fingers on the +x side and the
    # handle's stem; the leaf on the frame's -x side (at the open reset pose the two overlap by 1 mm, and the real
    # contact kicks the door from -1.571 to -1.31 rad in the first 30 steps; ours does the same, which the scripted
    # policy's approach relies on). The fingers never touched the handle's bar in the real episodes; with a pair
    # there, the fingers (hovering between bar and leaf at the goal) caught it and pulled the shut door open again in
    # 4 of 10 episodes.
    "door-close": SceneDef(
        body=_DOOR_CLOSE,
        pairs=(pairs(("wrist",), ("frame_side_p", "frame_top", "door_panel"), WRIST)
               + (("door_panel", "frame_side_n", OBJ),)
               + pairs(_PADS, ("frame_side_p", "handle_stem"), PAD)),
        refs={"handle": ("site", "handle")}, observe=_door_close_observe, moved={"door": "body"},
        joints=("doorjoint",)),
    # Real contacts: the fingers on the lock and its base block (the left one leads), the wrist on both, the fingers
    # on the table (the hand may go down to z -0.15 here).
    "door-lock": _lock("lockStartLock", pairs(_PADS, ("lock", "lock_base", "table"), PAD)
                       + pairs(("wrist",), ("lock", "lock_base"), WRIST)),
    # Real contacts: the wrist pushes the lock up (and meets the leaf, the lock's base and the handle's base and bar
    # on the way), the fingers on the lock, the handle's stem and the table.
    "door-unlock": _lock("lockStartUnlock",
                         pairs(("wrist",), ("lock", "door_panel", "lock_base", "handle_base", "handle_bar"), WRIST)
                         + pairs(_PADS, ("lock", "handle_stem", "table"), PAD)),
}
