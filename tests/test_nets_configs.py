"""MTBench architecture-row configs build the right networks through the trainer's config path."""

import types

import jax
import jax.numpy as jnp
import pytest

from experiments import common
from experiments.configs import mt10_arch, mt50_arch
from mtjax.nets import presets


@pytest.mark.parametrize("module,suite", [(mt10_arch, "mt10"), (mt50_arch, "mt50")])
def test_every_row_builds_through_build_networks(module, suite):
    d, t, a = presets.SUITE_DIMS[suite]
    env = types.SimpleNamespace(num_tasks=t, action_size=a, obs_size=d + t)
    x, tid = jnp.zeros((2, d + t)), jnp.zeros((2,), jnp.int32)
    for row, (actor, critic, minibatch, entropy, _) in module.ROWS.items():
        c = module.get_config(row)
        assert (c.net.actor_net, c.net.critic_net) == (actor, critic)
        assert c.ppo.minibatch_size == minibatch and c.ppo.entropy_coef == entropy
        assert c.env.num_envs == 24576 and c.total_iterations == 1272
        init_fn, _ = common.build_networks(c, env)
        p = jax.eval_shape(init_fn, jax.random.key(0), x, tid)["params"]
        n_actor = sum(leaf.size for leaf in jax.tree.leaves(p["actor"])) + a
        if actor in ("moore", "moore_mh", "paco", "softmod", "multihead"):
            assert n_actor == presets.mtbench_param_count(actor, suite, "actor"), row
        if row.endswith("_te"):
            assert p["critic"]["task_embedding"]["embedding"].shape == (t, 32)
    smoke = module.get_config("moore_sh,smoke")
    assert smoke.env.num_envs < 200 and smoke.net.actor_net == "moore"
    with pytest.raises(ValueError, match="moore_sh"):
        module.get_config("nope")
