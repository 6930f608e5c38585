"""Config -> objects: presets follow the chosen network, row configs build, bad options are clear errors."""

import jax
import jax.numpy as jnp
import pytest

from envs_bridge import registry
from experiments import common
from experiments.configs import mt10_ppo, toy_ppo
from mtjax import nets
from mtjax.nets import presets


@pytest.fixture(scope="module")
def env10():
    return registry.make_env("toy", 20, num_tasks=10)


def _count(tree):
    return sum(int(x.size) for x in jax.tree.leaves(tree))


def test_switching_the_network_picks_its_mtbench_sizes(env10):
    c = mt10_ppo.get_config("")
    c.net.actor_net = "moore"
    c.net.critic_net = "multihead"
    init_fn, _ = common.build_networks(c, env10)
    x = jnp.zeros((20, env10.obs_size))
    tid = jnp.asarray(env10.task_set.task_ids)
    params = jax.eval_shape(init_fn, jax.random.key(0), x, tid)["params"]
    moore = nets.make_net("moore", out_dim=env10.action_size, num_tasks=10, **presets.preset("moore", "mt10"))
    expect = jax.eval_shape(moore.init, jax.random.key(0), x, tid)
    assert _count(params["actor"]) == _count(expect) > 1_000_000  # MOORE's 4 x [400]^3 experts
    heads = [x.shape for x in jax.tree.leaves(params["critic"])]
    assert (10, 64, 1) in heads  # one [64 -> 1] value head per task on the [256, 128, 64] trunk


def test_explicit_kwargs_override_the_preset(env10):
    c = toy_ppo.get_config("")
    c.net.preset = "mt10"
    c.net.actor_kwargs = {"hidden": (8,)}
    init_fn, _ = common.build_networks(c, env10)
    params = jax.eval_shape(init_fn, jax.random.key(0), jnp.zeros((20, env10.obs_size)),
                            jnp.zeros((20,), jnp.int32))["params"]
    widths = {s[-1] for s in jax.tree.leaves(jax.tree.map(lambda a: a.shape, params["actor"]),
                                             is_leaf=lambda v: isinstance(v, tuple))}
    assert 8 in widths and 256 not in widths


def test_unknown_network_option_is_a_clear_error(env10):
    c = toy_ppo.get_config("")
    c.net.actor_kwargs = {"hiddn": (8,)}
    with pytest.raises(ValueError, match="hiddn.*valid"):
        common.build_networks(c, env10)
