"""``envs_bridge.metaworld.structure``: model structure keys."""

import mujoco

from envs_bridge.metaworld import structure

BOX, SPHERE = 6, 2  # mujoco.mjtGeom


def _model(a="box", size_a="0.02 0.02 0.02"):
    return mujoco.MjModel.from_xml_string(f"""
    <mujoco><worldbody>
      <body name="o" pos="0 0 0.1"><freejoint/><geom name="a" type="{a}" size="{size_a}"/></body>
      <geom name="floor" type="box" size="1 1 0.01"/>
    </worldbody><contact><pair geom1="a" geom2="floor"/></contact></mujoco>""")


def test_shape_of_counts_pairs_by_type_and_keys_only_structure():
    s = structure.shape_of(_model())
    assert s.pairs == {(BOX, BOX): 1} and s.joints == {"free": 1}
    assert structure.shape_of(_model(size_a="0.05 0.01 0.03")).key == s.key  # other sizes: the same graph
    other = structure.shape_of(_model(a="sphere", size_a="0.02"))
    assert other.key != s.key and other.pairs == {(SPHERE, BOX): 1}
