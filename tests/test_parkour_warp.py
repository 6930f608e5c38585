"""``physics_impl="warp"``: the Go1 parkour scene stepped by MuJoCo Warp through MJX (``envs_bridge/parkour/
warp_physics.py``, ``docs/parkour.md``, "MuJoCo Warp").

Warp runs its kernels on the CPU too (slowly); without ``warp-lang`` the Warp tests skip and say why. One
4-env env per implementation (flat and box_jump_even, 2 box slots, 1 sphere slot, domain randomisation on) is
built per module; its physics (``ParkourEnv.physics``, what ``env.step`` runs) is jitted once per
implementation as a 10-step ``lax.scan`` and reused with other terrains and states (same shapes: no
recompile). About 25 s on one core with XLA's compile cache cold (most of it MJX-JAX's compile), 50 s with
Warp's kernel cache cold too.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge import physics_impl
from envs_bridge.parkour import ParkourEnv, make_parkour, robot, shapes, terrain
from mtjax import envs

needs_warp = pytest.mark.skipif(not physics_impl.warp_installed(),
                                reason=f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")

TASKS = ("flat", "box_jump_even")  # ground z = 0; a spawn box over a pit floor at z = -1 (standing on a box)
N, STEPS = 4, 10


def test_unknown_physics_impl_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: jax, warp"):
        ParkourEnv(envs.TaskSet(("flat",), (2,)), physics_impl="cuda")
    with pytest.raises(ValueError, match="valid: default, warp, jax, none"):
        ParkourEnv(envs.TaskSet(("flat",), (2,)), physics_impl="warp", warp_graph_mode="cuda")
    with pytest.raises(ValueError, match="with physics_impl='warp' only"):
        ParkourEnv(envs.TaskSet(("flat",), (2,)), warp_graph_mode="none")


def test_missing_warp_says_what_to_install(monkeypatch):
    monkeypatch.setattr(physics_impl, "warp_installed", lambda: False)
    with pytest.raises(ImportError, match="pip install warp-lang=="):
        ParkourEnv(envs.TaskSet(("flat",), (2,)), physics_impl="warp")


def _physics_roll(env):
    """Jitted ``STEPS`` control steps of ``env.physics`` from ``data`` on a terrain and randomisation."""

    def roll(data, boxes, spheres, ground, dr, acts):
        def body(d, a):
            q_target = jnp.asarray(robot.DEFAULT_Q) + a
            d, _, forces = env.physics(d, boxes, spheres, ground, *dr[:3], q_target, *dr[3:])
            return d, (d.qpos, d.qvel, forces)

        return jax.lax.scan(body, data, acts)[1]

    return jax.jit(roll)


@pytest.fixture(scope="module")
def setups():
    if not physics_impl.warp_installed():
        pytest.skip(f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")
    out = {}
    for impl in ("jax", "warp"):
        env = make_parkour("hard", N, tasks=TASKS, episode_length=3, random_init_step=False, active_boxes=2,
                           active_spheres=1, physics_impl=impl)
        out[impl] = env, _physics_roll(env), env.reset(jax.random.key(0))
    return out


def _tile_args(env, s):
    boxes, ground, _, spheres = env._tile(s.level)
    return boxes, spheres, ground, (s.friction, s.added_mass, s.com, s.kp_scale, s.kd_scale)


def _actions():
    return 0.5 * jax.random.normal(jax.random.key(1), (STEPS, N, 12))


@pytest.fixture(scope="module")
def rollouts(setups):
    """Both implementations from the same reset (same joints, levels and randomisation), on the tiles."""
    out = {}
    for impl, (env, roll, state) in setups.items():
        out[impl] = jax.tree.map(np.asarray, roll(state.sim.data, *_tile_args(env, state.sim), _actions()))
    return out


@needs_warp
def test_warp_steps_as_mjx_jax(rollouts, setups):
    """Same model and solver (Newton 4 + 4 line search, pyramidal cone), another implementation of each stage,
    all in float32: the two agree to rounding. One step's rounding is eps_32 x |q| ~ 1.2e-7 (|q| <= 2;
    measured 1.2e-7 after the first control step, bound 1e-6); the feet land at steps 5-7 and the contact
    solve amplifies the rounding by its conditioning: over the 10 steps (4 envs, random actions of 0.5 rad,
    randomisation on) qpos differed by 9e-7 and qvel by 2.8e-5 under the suite's XLA flags, by up to 1.2e-5
    and 2.5e-4 under XLA's defaults (other action draws). The bounds are 10x the larger; a modelling
    difference is far outside them (a terrain slot missing or the randomised 0.65-1.25 kg trunk mass ignored
    moves the base by millimetres within these steps)."""
    qj, vj, _ = rollouts["jax"]
    qw, vw, _ = rollouts["warp"]
    assert setups["warp"][0].mx.impl.value == "warp" and setups["jax"][0].mx.impl.value == "jax"
    assert np.isfinite(qw).all() and np.isfinite(vw).all()
    np.testing.assert_allclose(qw[0], qj[0], atol=1e-6)
    np.testing.assert_allclose(qw, qj, atol=1.2e-4)
    np.testing.assert_allclose(vw, vj, atol=2.5e-3)
    assert np.ptp(qw[:, :, 2], axis=0).min() > 0.05  # every robot fell onto its terrain (frozen sims agree)
    ground = np.asarray(setups["warp"][0]._tile(setups["warp"][2].sim.level)[1])
    assert (ground == 0).any() and (ground == -1).any()  # flat ground and the pit's spawn box both stepped


@needs_warp
def test_warp_contact_forces_on_feet_as_mjx_jax(rollouts):
    """The per-group normal forces read from Warp's pooled contacts (``warp_physics.group_forces``) equal
    those of MJX-JAX's per-env slots: the feet carry the robot (hundreds of newtons once landed) and agree to
    the solver's rounding (measured 4e-4 N under the suite's flags, up to 5e-3 N under XLA's defaults; bound
    0.05 N, 1e-4 of the forces)."""
    _, _, fj = rollouts["jax"]
    _, _, fw = rollouts["warp"]
    feet = fj[..., :4].sum(-1)
    assert (feet[0] == 0).all() and (feet[-1] > 50).sum() >= 3  # in the air at first, standing at the end
    np.testing.assert_allclose(fw, fj, atol=0.05)


@needs_warp
def test_warp_per_env_terrain_supports_and_blocks(setups):
    """Each env's own terrain slots hold on Warp (``warp_physics``: static geoms posed per env, broad-phase
    bounds per env): env 0 flat ground; env 1 a 0.1 m box under the robot (spawned 0.1 m higher); env 2 a dome
    (sphere of radius 2 m, top 0.2 m; spawned 0.2 m higher); env 3 a 0.5 m high wall 0.3 m ahead of a robot
    thrown forward at 2 m/s. Measured: env 1 and 2 stand 0.105 and 0.200 m above env 0, env 3's base stops at
    x = 1.121 m with 209 N on its legs. Checked by hand with either removed (no posing; the template's 1 cm
    bounds): env 1 and 2 end at env 0's height and env 3's base passes the wall. Nominal randomisation."""
    _, roll, state = setups["warp"]
    boxes = np.tile(np.asarray(shapes.PARK, np.float32), (N, terrain.MAX_BOXES, 1))
    boxes[1, 0] = shapes.box_row(0.3, 1.7, 1.4, 2.6, 0.0, 0.1)
    boxes[3, 0] = shapes.box_row(1.3, 1.5, 0.5, 3.5, 0.0, 0.5)
    spheres = np.tile(np.asarray(shapes.PARK_SPHERE, np.float32), (N, terrain.MAX_SPHERES, 1))
    spheres[2, 0] = [terrain.SPAWN[0], terrain.SPAWN[1], -1.8, 2.0, 1.0]
    d = state.sim.data
    d = d.replace(qpos=d.qpos.at[:, 2].add(jnp.array([0.0, 0.1, 0.2, 0.0])), qvel=d.qvel.at[3, 0].set(2.0))
    nominal = (jnp.ones(N), jnp.zeros(N), jnp.zeros((N, 3)), jnp.ones((N, 12)), jnp.ones((N, 12)))
    out = roll(d, boxes, spheres, jnp.zeros(N), nominal, jnp.zeros((STEPS, N, 12)))
    q, _, forces = jax.tree.map(np.asarray, out)
    z = q[-1, :, 2]
    assert 0.25 < z[0] < 0.35, z  # standing (or settling) on the ground
    np.testing.assert_allclose(z[1] - z[0], 0.1, atol=0.015)
    assert 0.16 < z[2] - z[0] < 0.21, z
    assert q[:, 3, 0].max() < 1.3 - 0.187 + 0.01  # the trunk capsule's front (0.187 m ahead) stops at x = 1.3
    assert forces[:, 3, 4:].max() > 0.1  # the legs hit it: a "collision" in the reward


@needs_warp
def test_warp_env_step_runs_the_same_physics_and_resets(setups, rollouts):
    """``env.step`` on Warp: its first step's state is the physics rollout's first step (the same Warp
    computation in another program), the carried state (``warp_physics.Carry``) auto-resets at the 3-step
    episode end, and the observation is finite."""
    env, _, state = setups["warp"]
    step = jax.jit(env.step)
    acts = _actions()
    s = step(state, acts[0])
    np.testing.assert_allclose(np.asarray(s.sim.data.qpos), rollouts["warp"][0][0], atol=1e-6)
    for a in acts[1:3]:
        s = step(s, a)
    assert bool(s.done.all()) and np.isfinite(np.asarray(s.obs)).all()
    np.testing.assert_allclose(np.asarray(s.sim.data.qpos[:, 2]), 0.42)  # back at the spawn height
