"""``envs_bridge.metaworld.structure``: model structure keys, padded pair slots and the greedy task grouping."""

import mujoco
import pytest

from envs_bridge.metaworld import structure
from envs_bridge.metaworld.structure import Shape

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


def _shapes():
    x, y, z = (BOX, BOX), (SPHERE, BOX), (3, BOX)
    return {"a1": Shape({x: 2}, {}, "A"), "a2": Shape({x: 2}, {}, "A"),
            "b": Shape({x: 2, y: 1}, {}, "B"), "c": Shape({z: 4}, {}, "C")}


def test_padded_slots_take_the_largest_member_per_type_combination():
    s = _shapes()
    assert structure.padded_slots([s["a1"]]) == 2
    # (box, box): max(2, 2) = 2; (sphere, box): 1; (capsule, box): 4 -> 7
    assert structure.padded_slots([s["a1"], s["b"], s["c"]]) == 7


def test_cluster_merges_the_cheapest_groups_first():
    s = _shapes()
    # start: {a1, a2} (one structure), {b}, {c}. Extra padded slots of each merge (tasks x padded slots, minus the
    # parts'): a+b 3*3 - 2*2 - 1*3 = 2; a+c 3*6 - 4 - 4 = 10; b+c 2*7 - 3 - 4 = 7 -> a with b.
    assert structure.cluster(s, 3) == [["a1", "a2"], ["b"], ["c"]]
    assert structure.cluster(s, 2) == [["a1", "a2", "b"], ["c"]]
    assert structure.cluster(s, 1) == [["a1", "a2", "b", "c"]]
    with pytest.raises(ValueError, match="groups must be >= 1"):
        structure.cluster(s, 0)
