"""``envs_bridge.metaworld.shared_physics``: padded scenes of one skeleton share one ``mjx.step`` and keep each
task's physics (C MuJoCo for all fifty scenes, MJX through the env for a mixed group)."""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest
from mujoco import mjx

from envs_bridge.metaworld import ARM_PHYSICS, MT10_ARM_PHYSICS_GRAPHS, scenes, shared_physics
from envs_bridge.metaworld.env import MetaWorldEnv
from envs_bridge.metaworld.quantities_mt50 import MT10_TASKS
from mtjax import envs


@pytest.fixture(scope="module")
def xmls():
    return {t: scenes.scene_xml(t) for t in scenes.ALL_TASKS}


@pytest.fixture(scope="module")
def plan20(xmls):
    return shared_physics.plan_groups(xmls, 20)


def test_plan_groups_partitions_by_skeleton_and_trades_graphs_for_pairs(xmls, plan20):
    models = {t: scenes.build_model(t) for t in xmls}
    fewest, most = shared_physics.plan_groups(xmls, 1), shared_physics.plan_groups(xmls, 50)
    # skeletons never merge (10 among the fifty scenes since reach's puck is free), exact structures always do (38)
    assert len(fewest) == len({shared_physics.skeleton_key(x) for x in xmls.values()}) == 10
    assert len(most) == 38 and len(plan20) == 20
    for plan in (fewest, most, plan20):
        assert sorted(t for g in plan for t in g) == sorted(xmls)
        for g in plan:
            assert len({shared_physics.skeleton_key(xmls[t]) for t in g}) == 1
            padded = shared_physics.pad_group({t: xmls[t] for t in g})  # one structure: GroupModel checks it
            shared_physics.GroupModel(g, [mjx.put_model(mujoco.MjModel.from_xml_string(padded[t])) for t in g])

    def slots(plan):
        return sum(len(g) * shared_physics.padded_pairs({t: xmls[t] for t in g}) for g in plan)

    own = sum(m.npair for m in models.values())
    assert slots(most) == own < slots(plan20) < slots(fewest)


def test_padded_group_shares_structure_and_keeps_every_members_pairs(xmls):
    group = ["drawer-close", "button-press", "window-close"]
    padded = shared_physics.pad_group({t: xmls[t] for t in group})
    ms = {t: mujoco.MjModel.from_xml_string(x) for t, x in padded.items()}
    shared_physics.GroupModel(group, [mjx.put_model(ms[t]) for t in group])  # raises if a static field differs
    npair = {m.npair for m in ms.values()}
    assert len(npair) == 1 and npair.pop() == shared_physics.padded_pairs({t: xmls[t] for t in group})
    for t in group:
        own, pad = scenes.build_model(t), ms[t]
        real = {(own.geom(int(a)).name, own.geom(int(b)).name): (float(mg), tuple(fr))
                for a, b, mg, fr in zip(own.pair_geom1, own.pair_geom2, own.pair_margin, own.pair_friction)}
        got = {(pad.geom(int(a)).name, pad.geom(int(b)).name): (float(mg), tuple(fr))
               for a, b, mg, fr in zip(pad.pair_geom1, pad.pair_geom2, pad.pair_margin, pad.pair_friction)}
        assert {k: got[k] for k in real} == real  # every own pair, with its own parameters
        extra = [v[0] for k, v in got.items() if k not in real]
        assert len(extra) == pad.npair - own.npair and all(m == -shared_physics.PAD_MARGIN for m in extra)
        for g in range(own.ngeom):  # every own geom keeps its type, size and body
            p = pad.geom(own.geom(g).name)
            assert p.type == own.geom_type[g] and np.allclose(p.size, own.geom_size[g])
            assert pad.geom_bodyid[p.id] == own.geom_bodyid[g]
        assert np.allclose(pad.body_mass, own.body_mass) and np.allclose(pad.body_inertia, own.body_inertia)


def test_group_model_refuses_different_skeletons():
    ms = [mjx.put_model(scenes.build_model(t)) for t in ("door-open", "push")]
    with pytest.raises(ValueError, match="static field"):
        shared_physics.GroupModel(["door-open", "push"], ms)


def _c_rollout(m: mujoco.MjModel, steps: int = 120) -> tuple[np.ndarray, int]:
    """C MuJoCo: the hand's mocap swept through a fixed path with the fingers closing; ``(qpos of every step, in
    the order of the joints' names, most contacts at once)``."""
    order = sorted(range(m.njnt), key=lambda j: m.joint(j).name)
    width = {0: 7, 1: 4, 2: 1, 3: 1}
    cols = np.concatenate([np.arange(m.jnt_qposadr[j], m.jnt_qposadr[j] + width[int(m.jnt_type[j])]) for j in order])
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    start = d.mocap_pos[0].copy()
    out, ncon = [], 0
    for i in range(steps):
        phase = i / steps
        d.mocap_pos[0] = start + np.array([0.1 * np.sin(6 * phase), 0.15 * phase, -0.12 * np.sin(3 * phase)])
        d.ctrl[:] = [np.sin(5 * phase), -np.sin(5 * phase)]
        mujoco.mj_step(m, d)
        out.append(d.qpos[cols].copy())
        ncon = max(ncon, d.ncon)
    return np.array(out), ncon


def test_every_padded_scene_steps_like_its_own_scene_in_c_mujoco(xmls, plan20):
    """The padding pairs never push: for all fifty tasks the padded scene's trajectory equals the task's own."""
    touching = 0
    for group in plan20:
        padded = shared_physics.pad_group({t: xmls[t] for t in group})
        for t in group:
            own, own_ncon = _c_rollout(scenes.build_model(t))
            pad, pad_ncon = _c_rollout(mujoco.MjModel.from_xml_string(padded[t]))
            np.testing.assert_allclose(pad, own, atol=1e-6, err_msg=t)
            assert pad_ncon == own_ncon, t  # padding pairs never enter the contact list
            touching += own_ncon > 0
    assert touching >= 35  # the sweep makes contacts in most scenes (41 of 50 when written)


def test_mt10_arm_scenes_in_four_graphs_step_like_their_own_in_c_mujoco():
    """The MT10 configs' arm physics in ``MT10_ARM_PHYSICS_GRAPHS`` shared graphs: each padded arm scene follows its
    own scene's trajectory exactly (C MuJoCo, ``ARM_PHYSICS``; the arm swings from its zero pose through the
    sweep, so bodies move and six of the ten scenes make contacts)."""
    xmls = {t: scenes.scene_xml(t, **ARM_PHYSICS) for t in MT10_TASKS}
    plan = shared_physics.plan_groups(xmls, MT10_ARM_PHYSICS_GRAPHS)
    # reach, push, pick-place, peg; door; drawers, button; windows (since session 32: the windows' frame-rail pairs
    # make padding them with the drawers and button dearer than padding peg-insert-side with the puck tasks)
    assert plan == [["reach", "push", "pick-place", "peg-insert-side"], ["door-open"],
                    ["drawer-open", "drawer-close", "button-press-topdown"], ["window-open", "window-close"]]
    touching = 0
    for group in plan:
        padded = shared_physics.pad_group({t: xmls[t] for t in group})
        for t in group:
            own, own_ncon = _c_rollout(mujoco.MjModel.from_xml_string(xmls[t]), steps=240)
            pad, pad_ncon = _c_rollout(mujoco.MjModel.from_xml_string(padded[t]), steps=240)
            assert np.abs(own - own[0]).max() > 1.0, t  # the arm's joints swing
            np.testing.assert_allclose(pad, own, atol=1e-9, err_msg=t)
            assert pad_ncon == own_ncon, t
            touching += own_ncon > 0
    assert touching >= 6


def test_env_with_shared_physics_matches_one_graph_per_task():
    # hand-insert's fixture comes before its object, push has no fixture: one skeleton after reordering and padding
    # (push's 3 pairs fall in hand-insert's slots: push steps 68 contact slots instead of 12); 3 and 2 envs: the smaller
    # member is filled with copies for the call
    tasks = ("push", "hand-insert")
    ts = envs.TaskSet(tasks, (3, 2))
    own, shared = MetaWorldEnv(ts), MetaWorldEnv(ts, physics_graphs=1)
    assert own.physics_graphs == 2 and shared.physics_graphs == 1
    assert shared.task("push").mj.nbody == own.task("push").mj.nbody + 1
    assert shared.contact_slots["push"] == shared.contact_slots["hand-insert"] > own.contact_slots["push"]
    actions = jax.random.uniform(jax.random.key(1), (25, ts.num_envs, 4), minval=-1.0, maxval=1.0)

    def roll(env):
        def f(s, a):
            s = env.step(s, a)
            return s, (s.obs, s.reward)

        return jax.jit(lambda: jax.lax.scan(f, env.reset(jax.random.key(0)), actions)[1])()

    (o1, r1), (o2, r2) = roll(own), roll(shared)
    assert float(jnp.abs(o1).max()) > 0.1  # something moved
    np.testing.assert_allclose(o2, o1, atol=2e-5)
    np.testing.assert_allclose(r2, r1, atol=2e-5)


def test_physics_graphs_must_be_positive_or_zero():
    with pytest.raises(ValueError, match="physics_graphs must be None or 0"):
        MetaWorldEnv(envs.TaskSet(("push",), (1,)), physics_graphs=-1)
    # 0 is the config flag's way of saying None: one graph per task
    assert MetaWorldEnv(envs.TaskSet(("reach", "push"), (1, 1)), physics_graphs=0).physics_graphs == 2


def test_carried_state_is_all_mjx_step_needs():
    """``SimState`` drops the fields ``mjx.step`` recomputes: stepping the template filled with the carried fields
    gives what stepping the full previous ``mjx.Data`` gives, through contacts (the box on the table, the hand
    pressing it)."""
    m = mjx.put_model(scenes.build_model("push"))
    template = mjx.make_data(m)
    step = jax.jit(mjx.step)
    d = template.replace(mocap_pos=template.mocap_pos.at[0].set(jnp.array([0.0, 0.6, 0.05])))
    full, slim = d, shared_physics.SimState.of(d)
    for i in range(30):
        ctrl = jnp.array([1.0, -1.0]) * (i % 10) / 10
        full = step(m, full.replace(ctrl=ctrl))
        slim = shared_physics.SimState.of(step(m, slim.replace(ctrl=ctrl).data(template)))
    assert int((full._impl.contact.dist < 0).sum()) > 0  # in contact at the end
    for f in shared_physics.CARRIED + ("contact_dist",):
        want = full._impl.contact.dist if f == "contact_dist" else getattr(full, f)
        np.testing.assert_allclose(getattr(slim, f), want, atol=1e-6, err_msg=f)


def test_padding_adds_only_static_bodies(xmls):
    padded = shared_physics.pad_group({t: xmls[t] for t in ("push", "bin-picking")})
    push, own = mujoco.MjModel.from_xml_string(padded["push"]), scenes.build_model("push")
    assert push.nbody == scenes.build_model("bin-picking").nbody == own.nbody + 2  # bin-picking's two fixtures
    assert push.nv == own.nv and push.body_mass.sum() == pytest.approx(own.body_mass.sum())
    with pytest.raises(ValueError, match="jointed subtree"):  # a drawer's slide joint cannot be padded in
        shared_physics.pad_group({t: xmls[t] for t in ("push", "drawer-close")})
