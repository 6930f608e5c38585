"""MT50 sliding-family scenes (``scenes_mt50_sliding.py``, ``scenes_mt50_sliding2.py``): compile and refs, reset
observation against the real env's recorded ``reset_obs``, joint ranges and limit impedances, surfaces that stop the
hand, and the scripted policy solving each task (so the task joints and objects move when pushed the right way).
C MuJoCo only: ``CpuRollout``, the env's own reset, control (mocap moved by 0.01 * action, fingers at (a3, -a3),
one 12.5 ms step) and observation."""

from __future__ import annotations

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge.metaworld import scene_defs, scenes, scenes_mt50, tasks
from envs_bridge.metaworld.cpu_sim import CpuRollout
from envs_bridge.metaworld.policies_mt50 import POLICIES_MT50

FIXTURES = "tests/fixtures/metaworld"
MT50_RAND_VECS = os.path.join(os.path.dirname(tasks.__file__), "rand_vecs_mt50_seed0.json")
PLATES = ("plate-slide", "plate-slide-side", "plate-slide-back", "plate-slide-back-side")
SLIDING = PLATES + ("reach-wall", "push-wall", "push-back", "soccer", "hand-insert", "door-close", "door-lock",
                    "door-unlock")


@functools.cache
def _rollout(task: str) -> CpuRollout:
    """One episode of ``task`` as the env runs it (reset, control, observation) with C MuJoCo physics, one per task
    for the module."""
    return CpuRollout(task, 1)


def _reset(task: str, rv) -> tuple[CpuRollout, np.ndarray, dict]:
    """The rollout reset from ``rv``, its observation ``[39]`` and the SceneDef's placements."""
    r = _rollout(task)
    obs = r.reset(np.asarray(rv)[None])[0]
    return r, obs, {k: np.asarray(v) for k, v in scenes_mt50.place(task, jnp.asarray(rv, jnp.float32)).items()}


def _step(r: CpuRollout, a) -> np.ndarray:
    return r.step(np.asarray(a)[None])[0][0]


def _q(r: CpuRollout, joint: str) -> float:
    m = r.models[0]
    return float(r.datas[0].qpos[m.jnt_qposadr[m.joint(joint).id]])


def _episodes(task):
    z = np.load(f"{FIXTURES}/{task}.npz")
    eps = sorted({k.split("/")[0] for k in z.files if k.endswith("/const/rand_vec")})
    return [(z[f"{e}/const/rand_vec"], z[f"{e}/const/reset_obs"]) for e in eps]


def test_scenes_registered_compile_and_resolve():
    for task in SLIDING:
        assert task in scenes.ALL_TASKS
        m = scenes.build_model(task)
        refs = scene_defs.resolve_refs(scenes_mt50.SCENES[task], m)
        assert refs and m.npair == len(scenes_mt50.SCENES[task].pairs)


@pytest.mark.parametrize("task", SLIDING)
def test_reset_obs_matches_recorded(task):
    """obs[4:18] at reset vs Meta-World's recorded reset observation, every recorded episode. Tolerance 1e-3:
    reach-wall's and push-wall's real pucks keep a < 4e-4 tilt from the reset drop (ours: identity); everything
    else agrees to < 1e-5 (positions are the placement's, quaternions the fixtures' at their reset joint values)."""
    for rv, reset_obs in _episodes(task):
        _, obs, _ = _reset(task, rv)
        np.testing.assert_allclose(obs[4:18], reset_obs[4:18], atol=1e-3)
        np.testing.assert_allclose(obs[36:39], reset_obs[36:39], atol=1e-5)


def test_joint_ranges_and_limit_impedance():
    """Meta-World's ranges; the puck's soft limit (it yields under the hand, as Meta-World's), the stiff others."""
    for task in PLATES:
        m = scenes.build_model(task)
        for j, rng in (("goal_slidex", (-0.2, 0.2)), ("goal_slidey", (0.0, 0.3))):
            jid = m.joint(j).id
            np.testing.assert_allclose(m.jnt_range[jid], rng)
            np.testing.assert_allclose(m.jnt_solref[jid], (0.07, 1.0))
            np.testing.assert_allclose(m.dof_damping[m.jnt_dofadr[jid]], 1.0)
    m = scenes.build_model("door-close")
    np.testing.assert_allclose(m.jnt_range[m.joint("doorjoint").id], (-2.0, 0.0))
    for task in ("door-lock", "door-unlock"):
        m = scenes.build_model(task)
        jid = m.joint("lock_joint").id
        np.testing.assert_allclose(m.jnt_range[jid], (0.0, 1.57))
        np.testing.assert_allclose(m.jnt_solimp[jid][:3], (0.99, 0.999, 0.001))
        # explicit damping is stable: 2 * (armature) / damping >= 0.02 s at the 12.5 ms step
        assert 2 * m.dof_armature[m.jnt_dofadr[jid]] / m.dof_damping[m.jnt_dofadr[jid]] >= 0.02 - 1e-9


def _drive(r: CpuRollout, target, steps: int, grab: float = -1.0):
    """Moves the mocap towards ``target`` at full speed (action 1) for ``steps`` steps."""
    for _ in range(steps):
        a = np.clip(100.0 * (np.asarray(target) - r.datas[0].mocap_pos[0]), -1.0, 1.0)
        _step(r, np.concatenate([a, [grab]]))


@pytest.mark.parametrize("task", ("reach-wall", "push-wall"))
def test_wall_stops_hand(task):
    """Hand driven at wall height towards +y through the wall (front face y 0.74) stops at it."""
    r, _, _ = _reset(task, _episodes(task)[0][0])
    _drive(r, (0.1, 0.6, 0.08), 40)
    _drive(r, (0.1, 0.95, 0.08), 80)
    assert r.datas[0].mocap_pos[0][1] > 0.9
    # pads (half-thickness 0.0045 about y +-0.05 of the hand) and wrist (y +-0.053) stop at the wall's face
    assert r.datas[0].body("hand").xpos[1] < 0.74 - 0.04


def test_plate_side_net_stops_hand():
    """plate-slide-side: pushing the puck in -x at table height, the goal net stops the hand near the real x -0.313
    (the mocap goes on to -0.5) while the puck passes its soft limit -0.2 (real: -0.379)."""
    r, _, _ = _reset("plate-slide-side", _episodes("plate-slide-side")[0][0])
    _drive(r, (0.08, 0.6, 0.15), 30)
    _drive(r, (0.08, 0.6, 0.04), 30)
    _drive(r, (-0.5, 0.6, 0.04), 150)
    hand_x = r.datas[0].body("hand").xpos[0]
    assert r.datas[0].mocap_pos[0][0] < -0.49
    assert -0.36 < hand_x < -0.29
    assert _q(r, "goal_slidex") < -0.3


# (task, steps, success test on (obs, rollout, goal)); one recorded episode each, Meta-World's success thresholds.
def _dist(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


_SUCCESS = {
    "plate-slide": (120, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "plate-slide-side": (100, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "plate-slide-back": (100, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "plate-slide-back-side": (100, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "reach-wall": (150, lambda o, r, g: _dist(r.inspect()["tcp"][0], g) <= 0.05),
    "push-wall": (200, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "push-back": (150, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "soccer": (200, lambda o, r, g: _dist(o[4:7], g) <= 0.07),
    "hand-insert": (150, lambda o, r, g: _dist(o[4:7], g) <= 0.05),
    "door-close": (150, lambda o, r, g: _dist(o[4:7], g) <= 0.08),
    "door-lock": (200, lambda o, r, g: abs(o[6] - g[2]) <= 0.02),
    "door-unlock": (200, lambda o, r, g: abs(o[4] - g[0]) <= 0.02),
}
# The joint the scripted policy moves, its reset value and the value it must pass on the way to success.
_JOINT_MOVES = {"door-close": ("doorjoint", -1.5708, -0.3), "door-lock": ("lock_joint", 0.0, 1.2),
                "door-unlock": ("lock_joint", 1.5708, 0.35), "plate-slide": ("goal_slidey", 0.0, 0.2),
                "plate-slide-side": ("goal_slidex", 0.0, -0.2), "plate-slide-back": ("goal_slidey", 0.15, 0.05),
                "plate-slide-back-side": ("goal_slidex", -0.15, 0.0)}


@pytest.mark.parametrize("task", SLIDING)
def test_scripted_policy_succeeds(task):
    """Our port of Meta-World's scripted policy solves variation 0 of ``MT50(seed=0)`` (the real env with its policy
    solves it too), moving the task joint past the value success needs, the right way. (Not the recorded fixture's
    variation: soccer's is chaotic, the real env solved it in 2 of its 3 recorded episodes and ours misses it.)"""
    steps, ok = _SUCCESS[task]
    rv = tasks.load_rand_vecs(task, MT50_RAND_VECS)[0]
    r, obs, p = _reset(task, rv)
    policy = jax.jit(POLICIES_MT50[task])
    joint = _JOINT_MOVES.get(task)
    if joint:
        assert _q(r, joint[0]) == pytest.approx(joint[1], abs=1e-6)
    solved, passed = False, False
    for _ in range(steps):
        obs = _step(r, np.asarray(policy(jnp.asarray(obs, jnp.float32))))
        solved |= ok(obs, r, p["goal"])
        if joint:
            q = _q(r, joint[0])
            passed |= (q - joint[2]) * np.sign(joint[2] - joint[1]) >= 0
        if solved and (passed or not joint):
            break
    assert solved, f"{task}: not solved in {steps} steps"
    assert passed or not joint
