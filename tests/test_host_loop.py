"""The host-loop trainer (``mtjax.algos.host_loop``) runs the jitted trainer's iteration.

The toy env is stepped from Python through jitted ``reset``/``step`` (``_JaxEnvOnHost``), so the host path sees
exactly the data the jitted path sees; the IsaacGym-specific paths (packed blocks, the torch stand-in) are in
``tests/test_isaacgym_bridge.py``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge import toy
from mtjax import checkpoint, envs, nets, run_logger, run_loop
from mtjax.algos import host_loop, on_policy, ppo

_TASKS = envs.TaskSet.even(("a", "b", "c", "d"), 16)


class _JaxEnvOnHost:
    """A pure JAX env stepped from the host (jitted ``reset``/``step``); ``nan_field`` poisons env 0's
    ``reward`` or ``obs`` after every step."""

    def __init__(self, env: envs.Env, nan_field: str | None = None):
        self.task_set, self.obs_size, self.action_size = env.task_set, env.obs_size, env.action_size
        self.reset = jax.jit(env.reset)
        self._step = jax.jit(env.step)
        self.nan_field = nan_field

    def step(self, state, action):
        out = self._step(state, action)
        if self.nan_field is None:
            return out
        return out.replace(**{self.nan_field: getattr(out, self.nan_field).at[0].set(jnp.nan)})


def _setup(horizon=8):
    env = toy.PointReach(_TASKS, episode_length=5)
    cfg = ppo.PPOConfig(horizon=horizon, epochs=2, minibatch_size=64, lr=1e-3)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=env.action_size,
                                               num_tasks=env.num_tasks, actor_kwargs={"hidden": (16,)},
                                               critic_kwargs={"hidden": (16,)})
    return env, cfg, init_fn, apply_fn


@pytest.mark.default_xla
def test_host_iteration_equals_jitted_iteration_bitwise():
    # Same key -> same rollout data; both trainers run on_policy.run_iteration with the same rollout_step and
    # finish_iteration, so one iteration gives the same update. XLA:CPU's default emitters evaluate the same ops the
    # same way whether they sit in one program (jitted) or in the host path's separately jitted pieces: equality is
    # exact (with the suite's older emitter only to float32 rounding, hence the marker: ``compile_options.py``).
    env, cfg, init_fn, apply_fn = _setup()
    jitted = on_policy.make_train(cfg, env, init_fn, apply_fn)
    host = host_loop.make_host_train(cfg, _JaxEnvOnHost(env), init_fn, apply_fn)
    key = jax.random.key(3)
    s_jit, m_jit = jax.jit(jitted.train_chunk, static_argnums=1)(jax.jit(jitted.init)(key), 1)
    s_host, m_host = host.train_chunk(host.init(key), 1)
    p0 = jax.jit(jitted.init)(key).learner.params
    assert max(jax.tree.leaves(jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), s_host.learner.params,
                                            p0))) > 0  # the update moved the parameters
    same = lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    jax.tree.map(same, s_jit.learner, s_host.learner)
    jax.tree.map(same, (s_jit.env_state.obs, s_jit.env_state.episode), (s_host.env_state.obs,
                                                                        s_host.env_state.episode))
    assert set(m_jit) == set(m_host)
    jax.tree.map(same, m_jit, m_host)
    assert int(s_host.iteration) == 1 and not bool(m_host["nonfinite"][0])


def _stub_learner():
    """A learner whose update always reports finite losses: only finish_iteration's own env check remains."""
    update = lambda ls, ro, last_value, key: (ls, {"loss/total": jnp.float32(0.0), "nonfinite": jnp.bool_(False)})
    return ppo.Learner(init=None, act=None, mean_action=None, update=update,
                       value=lambda ls, obs, tid: jnp.zeros(obs.shape[:1], jnp.float32))


@pytest.mark.parametrize("poison", [None, "obs", "last_obs", "reward"])
def test_finish_iteration_flags_nonfinite_observations_and_rewards(poison):
    h, n, o = 2, 4, 3
    zeros = lambda *s: jnp.zeros(s, jnp.float32)
    info = {f"episode_{k}": zeros(h, n) for k in ("success", "return", "length", "progress")}
    tr = {"obs": zeros(h, n, o), "action": zeros(h, n, 2), "log_prob": zeros(h, n), "value": zeros(h, n),
          "reward": zeros(h, n), "done": jnp.zeros((h, n), bool), "truncated": jnp.zeros((h, n), bool),
          "info": info}
    last_obs = zeros(n, o)
    if poison == "obs":
        tr["obs"] = tr["obs"].at[1, 2, 0].set(jnp.nan)
    elif poison == "reward":
        tr["reward"] = tr["reward"].at[0, 3].set(jnp.inf)
    elif poison == "last_obs":
        last_obs = last_obs.at[0, 1].set(jnp.nan)
    ls = ppo.LearnerState(params=None, opt_state=(), obs_stats=None, value_stats=None, lr=jnp.float32(0.0))
    _, m = on_policy.finish_iteration(_stub_learner(), 2, ls, tr, last_obs, jnp.array([0, 0, 1, 1]),
                                      jax.random.key(0))
    assert bool(m["nonfinite"]) == (poison is not None)


@pytest.mark.parametrize("field", ["obs", "reward"])
def test_host_path_stops_the_run_on_nan(tmp_path, field):
    env, cfg, init_fn, apply_fn = _setup(horizon=4)
    host = host_loop.make_host_train(cfg, _JaxEnvOnHost(env, nan_field=field), init_fn, apply_fn)
    logger = run_logger.RunLogger(str(tmp_path), _TASKS.task_names, 2, _TASKS.num_envs * cfg.horizon,
                                  tensorboard=False, progress=False)
    ckpt = checkpoint.Checkpointer(str(tmp_path))
    try:
        with pytest.raises(run_loop.NonFiniteError, match="iteration 1"):
            run_loop.drive(host.train_chunk, host.init(jax.random.key(0)), iteration=0, total=2,
                           iters_per_call=1, checkpoint_every=1, logger=logger, ckpt=ckpt, config={})
        assert ckpt.latest_step() is None  # stopped before saving the poisoned iteration
    finally:
        logger.close()
        ckpt.close()
