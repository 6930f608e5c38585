"""The arm-only numbers of the MT50 sliding and tools families (``scenes_mt50_arm``) still match their scenes."""

from envs_bridge.metaworld import scenes_mt50, scenes_mt50_arm


def test_every_arm_replacement_finds_its_text_in_the_scene():
    for task, swaps in scenes_mt50_arm.BODY.items():
        xml = scenes_mt50_arm.body(task, scenes_mt50.SCENES[task].body)  # raises if a text is gone
        assert all(new in xml and old not in xml for old, new in swaps), task


def test_every_arm_pair_parameter_replaces_a_pair_of_the_scene():
    for task, swap in scenes_mt50_arm.PAIR_PARAMS.items():
        before = scenes_mt50.SCENES[task].pairs
        after = scenes_mt50_arm.pairs(task, before)
        assert any(p in swap for *_, p in before), task
        assert not any(p in swap for *_, p in after), task
        held, grip = scenes_mt50_arm.PAD_GRIP.get(task, (None, ()))
        rerouted = [(a, g) for a, b, _ in before for g in (grip if "pad" in a and b == held else (b,))]
        assert [(a, b) for a, b, _ in after[:len(rerouted)]] == rerouted, task
        assert after[len(rerouted):] == scenes_mt50_arm.EXTRA_PAIRS.get(task, ()), task


def test_every_arm_geom_pair_parameter_replaces_a_pair_of_the_scene():
    for task, swap in scenes_mt50_arm.PAIR_GEOM_PARAMS.items():
        before = scenes_mt50.SCENES[task].pairs
        after = scenes_mt50_arm.pairs(task, before)
        hit = [i for i, (_, b, p) in enumerate(before) if (b, p) in swap]
        assert hit, task
        assert all(after[i][2] == swap[before[i][1:]] for i in hit), task


def test_the_hand_insert_cube_and_pads_meet_the_hole_table_at_metaworlds_mix_on_the_arm_only():
    from envs_bridge.metaworld import scene_parts, scenes

    # Meta-World: the table_with_hole boxes' defaults (0.02, 0.9 0.95 0.001) mix with the cube (0.01, 0.99 0.99
    # 0.01) to solimp (0.945, 0.97, 0.0055) and with the pads (0.01, 0.95 0.99 0.01) to (0.925, 0.97, 0.0055), solref
    # 0.015 both; the pads x cube keep the pads' mix with the cube (0.97 0.99 0.01)
    tables = ("table",) + scene_parts.HOLE_TABLE_TOPS
    arm = scenes.scene_xml("hand-insert", 4, 4, 4, False, "arm")
    floating = scenes.scene_xml("hand-insert", 1, 4, 4, False, "floating")

    def rows(xml, a, b):
        return [ln for ln in xml.splitlines() if "<pair" in ln and a in ln and any(f'"{t}"' in ln for t in b)]

    cube, pads = rows(arm, "objGeom", tables), rows(arm, "pad", tables)
    assert len(cube) == 5 and all('solimp="0.945 0.97 0.0055"' in ln and 'condim="4"' in ln for ln in cube)
    assert len(pads) == 10 and all('solimp="0.925 0.97 0.0055"' in ln and "objGeom" not in ln for ln in pads)
    assert all('solimp="0.97 0.99 0.01"' in ln for ln in rows(arm, "pad", ("objGeom",)))
    assert not any("0.0055" in ln for ln in rows(floating, "", tables))


def test_other_tasks_are_unchanged():
    sd = scenes_mt50.SCENES["reach-wall"]
    assert scenes_mt50_arm.body("reach-wall", sd.body) == sd.body
    assert scenes_mt50_arm.pairs("reach-wall", sd.pairs) == sd.pairs


def test_the_arm_scenes_carry_the_arm_numbers_and_the_floating_ones_do_not():
    from envs_bridge.metaworld import scenes

    arm = scenes.scene_xml("door-lock", 4, 4, 4, False, "arm")
    floating = scenes.scene_xml("door-lock", 1, 4, 4, False, "floating")
    assert 'damping="2" armature="0.001"' in arm and 'damping="2" armature="0.001"' not in floating
    assert 'damping="0.2" armature="0.002"' in floating and 'damping="0.2" armature="0.002"' not in arm
    stick = scenes.scene_xml("stick-push", 4, 4, 4, False, "arm")
    assert 'solimp="0.974 0.994 0.0055"' in stick
    assert 'solimp="0.974 0.994 0.0055"' not in scenes.scene_xml("stick-push", 1, 4, 4, False, "floating")


def test_the_stick_pull_wrist_meets_the_thermos_body_on_the_arm_only():
    from envs_bridge.metaworld import scenes

    # Meta-World: the wrist mesh's defaults (0.02, 0.9 0.95 0.001) and therm_col (0.01, 0.99 0.99 0.01) mix to
    # solref 0.015, solimp (0.945, 0.97, 0.0055); both wrist boxes carry the pair
    arm = scenes.scene_xml("stick-pull", 4, 4, 4, False, "arm")
    body = [ln for ln in arm.splitlines() if "<pair" in ln and "therm_body" in ln]
    assert len(body) == 2 and all('solimp="0.945 0.97 0.0055"' in ln and 'solref="0.015 1"' in ln for ln in body)
    assert "therm_body" not in "".join(ln for ln in scenes.scene_xml("stick-pull", 1, 4, 4, False, "floating")
                                       .splitlines() if "<pair" in ln)


def test_the_shelf_place_wrist_meets_the_back_wall_at_a_quarter_stiffness_per_contact_on_the_arm_only():
    from envs_bridge.metaworld import scenes

    # The wrist mix (0.015, 0.945 0.97 0.0055) at twice the time constant: stiffness 1 / tc^2 a quarter, for our two
    # wrist boxes' six contacts where the real mesh has one; the cube x wall keeps the cube's own (0.01)
    def back(xml):
        return [ln for ln in xml.splitlines() if "<pair" in ln and "shelf_back" in ln]

    arm = back(scenes.scene_xml("shelf-place", 4, 4, 4, False, "arm"))
    wrist = [ln for ln in arm if "wrist" in ln]
    assert len(wrist) == 2 and all('solref="0.03 1"' in ln and 'solimp="0.945 0.97 0.0055"' in ln for ln in wrist)
    assert [ln for ln in arm if "objGeom" in ln and 'solref="0.01 1"' in ln]
    floating = back(scenes.scene_xml("shelf-place", 1, 4, 4, False, "floating"))
    assert all('solref="0.03 1"' not in ln for ln in floating) and any("wrist" in ln for ln in floating)


def test_the_coffee_mug_meets_the_table_at_metaworlds_mixed_impedance_on_the_arm_only():
    from envs_bridge.metaworld import scenes

    # Meta-World: the mug's cm_col (0.01, 0.99 0.99 0.01) and the table's defaults (0.02, 0.9 0.95 0.001) mix to
    # solref (0.01 + 0.02) / 2 = 0.015, solimp ((0.99 + 0.9) / 2, (0.99 + 0.95) / 2, (0.01 + 0.001) / 2)
    for task in ("coffee-pull", "coffee-push"):
        arm = scenes.scene_xml(task, 4, 4, 4, False, "arm")
        floating = scenes.scene_xml(task, 1, 4, 4, False, "floating")
        mug_table = [ln for ln in arm.splitlines() if "<pair" in ln and "mug" in ln and "table" in ln]
        assert len(mug_table) == 1 and 'solimp="0.945 0.97 0.0055"' in mug_table[0], task
        assert 'solref="0.015 1"' in mug_table[0], task
        assert not any('solimp="0.945 0.97 0.0055"' in ln and "mug" in ln for ln in floating.splitlines()), task


def test_the_coffee_pads_hold_a_round_mug_on_the_arm_only():
    """The arm's pads hold the capsule (Meta-World's cylinder radius 0.028 + the pads' margin 0.001), not the box;
    the table keeps the box. Squeezed with the pads' back edge ahead of the axis, the capsule leaves the grip
    backwards (the box, held flat, stays): the pads' contact normals lean back by the edge's offset / radius."""
    import mujoco
    import numpy as np

    from envs_bridge.metaworld import scenes

    for task in ("coffee-pull", "coffee-push"):
        arm = scenes.scene_xml(task, 4, 4, 4, False, "arm")
        rows = [ln for ln in arm.splitlines() if "<pair" in ln and "mug" in ln]
        assert sorted(ln.count('"mug_grip"') for ln in rows) == [0, 1, 1], task
        assert all("table" in ln for ln in rows if '"mug"' in ln), task
        assert 'name="mug_grip" type="capsule" pos="0 0 0.035" size="0.029 0.005"' in arm, task
        assert "mug_grip" not in scenes.scene_xml(task, 1, 4, 4, False, "floating"), task
    # The right pad's inner face 27 mm from the mug's axis, its back edge 5 mm ahead of it: the capsule (radius 29 mm)
    # meets the edge at sqrt(5^2 + 27^2) = 27.5 mm, and the normal into the mug leans back by 5 / 27.5 = 0.18 in x
    # (the box's flat side: 0).
    m = mujoco.MjModel.from_xml_string(scenes.scene_xml("coffee-push", 4, 4, 4, False, "arm"))
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    pad, grip = m.geom("rightpad").id, m.geom("mug_grip").id
    half = np.abs(d.geom_xmat[pad].reshape(3, 3)) @ m.geom_size[pad]  # the pad's world half extents
    centre = d.geom_xpos[pad] + [-half[0] - 0.005, half[1] + 0.027, -0.035]
    d.qpos[m.jnt_qposadr[m.joint("mugjoint").id]:][:3] = centre
    mujoco.mj_forward(m, d)
    con = [c for c in d.contact[:d.ncon] if {c.geom1, c.geom2} == {pad, grip}]
    assert con, "no pad x capsule contact"
    n = con[0].frame[:3] * (1 if con[0].geom1 == pad else -1)  # from the pad into the mug
    np.testing.assert_allclose(n[:2], [-5 / 27.5, np.sqrt(1 - (5 / 27.5) ** 2)], atol=0.01)


def test_the_peg_meets_each_pad_at_one_point_on_the_arm_only():
    """pick-out-of-hole: the arm's pads hold the sphere (Meta-World's cylinder radius 0.02 + the pads' margin 0.001)
    on the peg's top face, not the cube (four face points per pad); the cube keeps the floor and the front block.
    The right pad's inner face 20 mm from the sphere's centre meets it at one point, 21 - 20 = 1 mm deep, along
    the face normal."""
    import mujoco
    import numpy as np

    from envs_bridge.metaworld import scenes

    arm = scenes.scene_xml("pick-out-of-hole", 4, 4, 4, False, "arm")
    rows = [ln for ln in arm.splitlines() if "<pair" in ln and ("objGeom" in ln or "peg_grip" in ln)]
    assert sorted(ln.split('"')[1] for ln in rows if "peg_grip" in ln) == ["leftpad", "rightpad"]
    assert not any("pad" in ln for ln in rows if "objGeom" in ln)
    assert 'name="peg_grip" type="sphere" pos="0 0 0.02" size="0.021"' in arm
    assert "peg_grip" not in scenes.scene_xml("pick-out-of-hole", 1, 4, 4, False, "floating")
    m = mujoco.MjModel.from_xml_string(arm)
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    pad, grip = m.geom("rightpad").id, m.geom("peg_grip").id
    inward = d.geom_xmat[pad].reshape(3, 3)[:, 1]  # the pad's face normal, towards the left pad
    inward *= np.sign(inward @ (d.geom_xpos[m.geom("leftpad").id] - d.geom_xpos[pad]))
    centre = d.geom_xpos[pad] + (m.geom_size[pad][1] + 0.020) * inward  # the sphere's centre, the peg's top face
    d.qpos[m.jnt_qposadr[m.joint("objjoint").id]:][:3] = centre - [0.0, 0.0, 0.02]
    mujoco.mj_forward(m, d)
    con = [c for c in d.contact[:d.ncon] if pad in (c.geom1, c.geom2)]
    assert [{c.geom1, c.geom2} for c in con] == [{pad, grip}]
    np.testing.assert_allclose(con[0].dist, -0.001, atol=1e-6)
    np.testing.assert_allclose(np.abs(con[0].frame[:3]), np.abs(inward), atol=1e-6)


def test_the_plugs_flange_holds_the_tilt_as_the_real_one_does():
    """peg-unplug-side, variation 0, the real actions open loop on the arm: the descending hand presses the grip block
    down and the plug pivots about its wedged head; the flange on the wall face holds it (step 50: the plug's end
    4 mm from the real one; without the flange x wall pairs 51 mm, 37 mm too low)."""
    import numpy as np

    from envs_bridge.metaworld import trajectory_parity as tp
    from envs_bridge.metaworld.cpu_sim import CpuRollout

    fx = tp.load_fixture(tp.FIXTURES["mt50"], ["peg-unplug-side"], 1, 50)
    f = fx["peg-unplug-side"]
    cpu = CpuRollout("peg-unplug-side", 1, hand="arm", frame_skip=4, iterations=4)
    obs = cpu.reset(f["rand_vec"])
    for s in range(50):
        obs, *_ = cpu.step(f["action"][:, s].astype(np.float32))
    err = obs[0, 4:7] - f["obj"][0, 50 // fx["_every"] - 1]
    assert np.linalg.norm(err) < 0.01, err


def test_the_soccer_back_net_and_fingers_are_metaworlds_on_the_arm_only():
    """soccer, arm: the back net's inner face is ``goal_col2``'s (y 0.0489 at the floor, -0.0011 at z 0.165, goal
    frame; the floating hand's box has the outer face's 0.064 at the floor), and each pad meets the ball twice, as
    Meta-World's pad (its mix with the ball) and claw (0.015, 0.895 0.945 0.01, friction 1), both with the fingers'
    1 mm margin."""
    import mujoco
    import numpy as np

    from envs_bridge.metaworld import scenes

    def inner_face_y(hand: str, frame_skip: int) -> tuple[float, float]:
        m = mujoco.MjModel.from_xml_string(scenes.scene_xml("soccer", frame_skip, 4, 4, False, hand))
        d = mujoco.MjData(m)
        mujoco.mj_forward(m, d)
        g = m.geom("goal_back").id
        rot, size = d.geom_xmat[g].reshape(3, 3), m.geom_size[g]
        point = d.geom_xpos[g] - rot[:, 1] * size[1] - d.xpos[m.body("goal_whole").id]  # on the inner face
        along = rot[:, 2]  # the face's slope in (y, z)
        return tuple(float(point[1] + (z - point[2]) * along[1] / along[2]) for z in (0.0, 0.165))

    np.testing.assert_allclose(inner_face_y("arm", 4), (0.0489, -0.0011), atol=2e-4)
    assert inner_face_y("floating", 1)[0] > 0.063
    arm = scenes.scene_xml("soccer", 4, 4, 4, False, "arm")
    rows = [ln for ln in arm.splitlines() if "<pair" in ln and "objGeom" in ln and "pad" in ln]
    assert len(rows) == 4 and all('margin="0.001"' in ln for ln in rows)
    assert sum('solimp="0.895 0.945 0.01"' in ln and 'friction="1 1 ' in ln for ln in rows) == 2
    floating = scenes.scene_xml("soccer", 1, 4, 4, False, "floating")
    assert not any("margin" in ln for ln in floating.splitlines() if "<pair" in ln and "objGeom" in ln)


def test_the_sweep_into_pads_meet_the_cube_with_metaworlds_margin_on_the_arm_only():
    """sweep-into, arm: the pads x cube pairs carry Meta-World's fingers' 1 mm margin (``xyz_base.xml``: the pad
    geoms' and the claws' ``base_col`` class margin 0.001), with the pads' mix with the cube (0.97 0.99 0.01, friction
    2); the pads x table and the floating hand's pairs have none. Without it the falling cube left the grip (50
    variations final-step success 0.18, real 0.40; with it 0.38)."""
    from envs_bridge.metaworld import scenes

    def rows(hand: str, fs: int) -> list[str]:
        return [ln for ln in scenes.scene_xml("sweep-into", fs, 4, 4, False, hand).splitlines()
                if "<pair" in ln and "pad" in ln]

    arm = rows("arm", 4)
    cube = [ln for ln in arm if "objGeom" in ln]
    assert len(cube) == 2 and all('margin="0.001"' in ln and 'solimp="0.97 0.99 0.01"' in ln for ln in cube)
    assert len(arm) > 2 and not any("margin" in ln for ln in arm if "objGeom" not in ln)
    assert not any("margin" in ln for ln in rows("floating", 1))


def test_the_faucet_fingers_are_metaworlds_claw_and_pad_on_the_arm_only():
    """faucet-open / -close, arm: each finger body also carries Meta-World's claw (on the finger's axis) and pad (3 mm
    inwards) boxes, 0.003 thick, which together fill our finger box (0.0045 thick, 1.5 mm inwards), massless; the
    handle meets the claw with its numbers (friction 1, solref 0.015, solimp 0.895 0.945 0.01, condim 4) and the pad
    with the pad's (friction 2, the direct-form solref), no longer the finger box. Other arm scenes and the floating
    hand have no halves."""
    import mujoco
    import numpy as np

    from envs_bridge.metaworld import scenes

    for task in ("faucet-open", "faucet-close"):
        m = mujoco.MjModel.from_xml_string(scenes.scene_xml(task, 4, 4, 4, False, "arm"))
        for side, inward in (("left", -1.0), ("right", 1.0)):
            box, claw, pad = (m.geom(f"{side}{n}").id for n in ("pad", "claw_it", "pad_geom"))
            assert m.geom_bodyid[claw] == m.geom_bodyid[pad] == m.geom_bodyid[box]
            y = {g: (m.geom_pos[g][1] - m.geom_size[g][1], m.geom_pos[g][1] + m.geom_size[g][1]) for g in (box, claw, pad)}
            # box 0.0015 * inward +- 0.0045; claw 0 +- 0.003; pad 0.003 * inward +- 0.003: the union is the box
            np.testing.assert_allclose((min(y[claw][0], y[pad][0]), max(y[claw][1], y[pad][1])), y[box], atol=1e-9)
            assert m.geom_pos[pad][1] == 0.003 * inward and m.geom_pos[claw][1] == 0.0
            assert m.geom_size[claw][1] == m.geom_size[pad][1] == 0.003
        pairs = {(m.geom(int(m.pair_geom1[i])).name, m.geom(int(m.pair_geom2[i])).name): i for i in range(m.npair)}
        for side in ("left", "right"):
            assert (f"{side}pad", "faucet_handle") not in pairs
            c, p = pairs[(f"{side}claw_it", "faucet_handle")], pairs[(f"{side}pad_geom", "faucet_handle")]
            np.testing.assert_allclose(m.pair_friction[c][:2], (1.0, 1.0))
            np.testing.assert_allclose(m.pair_solref[c], (0.015, 1.0))
            np.testing.assert_allclose(m.pair_solimp[c][:3], (0.895, 0.945, 0.01))
            np.testing.assert_allclose(m.pair_friction[p][:2], (2.0, 2.0))
            np.testing.assert_allclose(m.pair_solref[p], (-10000.0, -200.0))
            assert m.pair_dim[c] == m.pair_dim[p] == 4
    assert "claw_it" not in scenes.scene_xml("faucet-close", 1, 4, 4, False, "floating")
    assert "claw_it" not in scenes.scene_xml("door-unlock", 4, 4, 4, False, "arm")
