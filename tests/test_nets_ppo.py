"""Every multi-task architecture trains inside MT-PPO on the toy env (success rises within 40 iterations).

The runs are tiny (96 envs, 3 tasks, widths 16-32) so the file stays CPU-friendly; they check the wiring
(``make_actor_critic`` -> ``ppo.make_learner`` -> jitted ``train_chunk``) and that each network can learn a
task-conditioned policy, not MTBench-scale performance. SH/MH variants differ only in the head, so MOORE is run
multi-head and CARE single-head; PaCo runs as MTBench's shared actor-critic (``critic_net="shared"``).
"""

import jax
import numpy as np
import pytest

from envs_bridge import registry
from mtjax import nets
from mtjax.algos import on_policy, ppo

T = 3
TINY = {
    "moore_mh": {"num_experts": 2, "expert_hidden": (32, 32), "task_hidden": 16},
    "paco": {"num_params": 3, "hidden": (32, 32)},
    "care": {
        "num_experts": 2,
        "expert_hidden": 16,
        "attention_hidden": (16, 16),
        "context_hidden": (32,),
        "trunk": (32,),
    },
    "softmod": {"num_layers": 2, "module_hidden": 32, "state_hidden": (32,), "task_hidden": (32,)},
    "simba": {"hidden": 32, "num_blocks": 1},
    "bro": {"hidden": 32, "num_blocks": 1},
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_mt_ppo_with_architecture_learns_toy_env(name):
    env = registry.make_env("toy", 96, num_tasks=T)
    cfg = ppo.PPOConfig(horizon=16, epochs=4, minibatch_size=768, lr=2e-3, entropy_coef=0.0)
    critic = "shared" if name == "paco" else name
    init_fn, apply_fn = nets.make_actor_critic(
        actor_net=name,
        critic_net=critic,
        action_size=env.action_size,
        num_tasks=T,
        actor_kwargs=TINY[name],
        critic_kwargs={} if critic == "shared" else TINY[name],
    )
    tr = on_policy.make_train(cfg, env, init_fn, apply_fn)
    # "rbg" keys: several times faster XLA compilation of the init program on CPU than threefry.
    state = jax.jit(tr.init)(jax.random.key(0, impl="rbg"))
    chunk = jax.jit(tr.train_chunk, static_argnums=1)
    success = []
    for _ in range(4):
        state, m = chunk(state, 10)
        assert not bool(np.asarray(m["nonfinite"]).any())
        success.append(float(np.nanmean(np.asarray(m["success"]))))
    assert success[-1] > success[0] + 0.2, success
