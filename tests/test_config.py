"""mtjax.config: the typed run config is built and validated once, with one-line errors naming the valid choices."""

import dataclasses
import re

import pytest

from experiments.configs import mt10_arch, mt10_grpo, mt10_mtrl, mt10_ppo, toy_ppo
from mtjax import config


def _toy(**over):
    d = toy_ppo.get_config("").to_dict()
    for path, v in over.items():
        *head, last = path.split("__")
        node = d
        for k in head:
            node = node[k]
        node[last] = v
    return d


@pytest.mark.parametrize("make,variant", [(mt10_ppo, ""), (mt10_ppo, "24k"), (mt10_ppo, "smoke"), (toy_ppo, ""),
                                          (toy_ppo, "smoke"), (mt10_mtrl, "cagrad"), (mt10_mtrl, "famo,smoke"),
                                          (mt10_arch, "moore_mh"), (mt10_arch, "paco,smoke"), (mt10_grpo, ""),
                                          (mt10_grpo, "famo,smoke"), (toy_ppo, "grpo")])
def test_every_shipped_config_parses_and_its_json_round_trips(make, variant):
    c = make.get_config(variant)
    rc = config.parse(c)
    assert config.parse(rc.to_json()) == rc  # config.json describes exactly the typed config
    assert rc.ppo.mtrl == c.mtrl and dict(rc.ppo.mtrl_kwargs) == {k: v for k, v in c.mtrl_kwargs.items()}
    assert rc.env.num_envs == c.env.num_envs and rc.ppo.lr == c.ppo.lr


def test_the_typed_config_is_frozen_and_json_keeps_the_configdict_layout():
    rc = config.parse(_toy())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rc.seed = 1
    j = rc.to_json()
    assert j["mtrl"] == "mean" and "mtrl" not in j["ppo"] and j["net"]["actor_kwargs"] == {"hidden": [64, 64]}
    assert rc.net.actor_kwargs == (("hidden", (64, 64)),) and rc.directory == "runs/toy_ppo-s42"


def test_unknown_keys_list_the_valid_keys_of_their_section():
    with pytest.raises(ValueError) as e:
        config.parse(_toy(foo=1))
    msg = str(e.value)
    assert "\n" not in msg and "unknown key(s) foo in config; valid:" in msg
    assert all(k in msg for k in ("checkpoint_every", "mtrl_kwargs", "total_iterations", "ppo", "env"))
    with pytest.raises(ValueError, match=r"unknown key\(s\) ppo\.lrr in config\.ppo; valid: .*\blr\b"):
        config.parse(_toy(ppo__lrr=1e-3))
    with pytest.raises(ValueError, match=r"env\.nm in config\.env; valid: kwargs, name, num_envs"):
        config.parse(_toy(env__nm="toy"))


@pytest.mark.parametrize("path,value,pattern", [
    ("checkpoint_every", 0, r"config\.checkpoint_every must be >= 1, got 0"),
    ("total_iterations", 0, r"config\.total_iterations must be >= 1, got 0"),
    ("iters_per_call", -1, r"config\.iters_per_call must be >= 1, got -1"),
    ("max_abs_loss", 0.0, r"config\.max_abs_loss must be > 0"),
    ("env_backend", "torch", r"env_backend='torch'; valid: jax, isaacgym"),
    ("seed", "x", r"config\.seed='x' must be of type int"),
    ("ppo__epochs", 2.5, r"config\.ppo\.epochs=2\.5 must be of type int"),
    ("ppo__lr_schedule", "cosine", r"lr_schedule='cosine'; valid: fixed, adaptive"),
    # batch = 256 envs * 16 steps = 4096; 1000 does not divide it, 8192 exceeds it
    ("ppo__minibatch_size", 1000, (r"minibatch_size=1000 must divide the batch .* = 4096; nearest valid: "
                                   r"\[256, 512, 1024\]")),
    ("ppo__minibatch_size", 8192, r"minibatch_size=8192 must divide the batch .* = 4096"),
    ("mtrl", "nope", r"config\.mtrl='nope' is not a method; valid: .*pcgrad"),
    ("net__actor_net", "nope", r"actor_net='nope' is not a network; valid: .*moore"),
    ("net__critic_net", "nope", r"critic_net='nope' is not a network; valid: .*, shared, none"),
    ("algo", "sac", r"config\.algo='sac'; valid: ppo, grpo"),
    ("net__critic_net", "none", r"critic_net='none' is for algo='grpo'"),
    ("ppo__value_norm", "pop", r"value_norm='pop'; valid: running, popart"),
    ("ppo__popart_beta", 0.0, r"popart_beta must lie in \(0, 1\]"),
])
def test_bad_values_name_the_valid_range_or_choices(path, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        config.parse(_toy(**{path: value}))


def test_method_and_network_options_are_checked_against_their_signatures():
    rc = config.parse(_toy(mtrl="cagrad", mtrl_kwargs={"c": 0.5, "output_scale": 2.0}))
    assert dict(rc.ppo.mtrl_kwargs) == {"c": 0.5, "output_scale": 2.0}
    with pytest.raises(ValueError) as e:
        config.parse(_toy(mtrl="cagrad", mtrl_kwargs={"cc": 0.5}))
    assert re.search(r"unknown option\(s\) \['cc'\] in config\.mtrl_kwargs; valid: c, ", str(e.value))
    assert "num_iters" in str(e.value) and "num_tasks" not in str(e.value)  # num_tasks comes from the env
    with pytest.raises(ValueError, match=r"\['hiddn'\] in config\.net\.actor_kwargs; valid: act, hidden"):
        config.parse(_toy(net__actor_kwargs={"hiddn": (8,)}))
    with pytest.raises(ValueError, match=r"config\.net\.critic_kwargs; valid: none"):
        config.parse(_toy(net__actor_net="paco", net__critic_net="shared", net__critic_kwargs={"hidden": (8,)}))


def test_option_lists_follow_the_registries():
    assert {"c", "num_iters", "rescale", "reduction", "output_scale", "loss_scale"} <= config.method_options("cagrad")
    assert config.method_options("mean") == {"output_scale", "loss_scale"}  # mean() takes no options
    assert config.net_options("mlp", "actor") == {"hidden", "act", "layer_norm"}
    assert config.net_options("none", "critic") == set()


def test_grpo_and_popart_requirements():
    assert config.parse(_toy(ppo__value_norm="popart")).ppo.value_norm == "popart"
    g = toy_ppo.get_config("grpo").to_dict()
    assert config.parse(g).algo == "grpo"
    for over, pattern in (({"mtrl": "pcgrad", "mtrl_target": "critic"},
                           r"MT-GRPO has no critic, set config\.mtrl_target to actor or both"),
                          ({"mtrl": "famo", "mtrl_target": "actor"}, r"needs config\.ppo\.grpo_exp_loss=True"),
                          ({"env_backend": "isaacgym"}, r"algo='grpo' runs on env_backend='jax' only"),
                          ({"ppo": {**g["ppo"], "value_norm": "popart"}}, r"value_norm='popart' is an MT-PPO")):
        with pytest.raises(ValueError, match=pattern):
            config.parse({**g, **over})


def test_layer_norm_is_a_critic_option_of_the_mlp_nets_only():
    import jax
    import jax.numpy as jnp
    import numpy as np

    from experiments import common
    from mtjax.nets import mlp

    rc = config.parse(_toy(net__critic_kwargs={"hidden": (8, 4), "layer_norm": True}))
    env = common.build_env(rc, num_envs=4)
    init_fn, _ = common.build_networks(rc, env)
    params = init_fn(jax.random.key(0), jnp.zeros((4, env.obs_size)), jnp.arange(4))["params"]
    crit = jax.tree.map(jnp.shape, params["critic"])
    # One LayerNorm (scale and shift of the layer's width) after each hidden Dense; the Dense shapes as before.
    assert crit["LayerNormMLP_0"]["LayerNorm_0"] == {"scale": (8,), "bias": (8,)}
    assert crit["LayerNormMLP_0"]["LayerNorm_1"] == {"scale": (4,), "bias": (4,)}
    assert crit["LayerNormMLP_0"]["TorchDense_1"]["Dense_0"]["kernel"] == (8, 4)
    assert "MLP_0" in jax.tree.map(jnp.shape, params["actor"])  # the actor keeps MTBench's plain MLP
    # By hand: a Dense giving (1, 3) -> mean 2, variance 1 -> LayerNorm (-1, 1) / sqrt(1 + 1e-5); identity act.
    net = mlp.LayerNormMLP(hidden=(2,), act="identity")
    p = net.init(jax.random.key(0), jnp.zeros((1, 1)))
    p = jax.tree.map(lambda x: x, p)
    p["params"]["TorchDense_0"]["Dense_0"] = {"kernel": jnp.array([[1.0, 3.0]]), "bias": jnp.zeros(2)}
    out = net.apply(p, jnp.ones((1, 1)))
    np.testing.assert_allclose(out, [[-1 / np.sqrt(1 + 1e-5), 1 / np.sqrt(1 + 1e-5)]], rtol=1e-6)
    with pytest.raises(ValueError, match=r"\['layer_norm'\] in config\.net\.critic_kwargs; valid: "):
        config.parse(_toy(net__critic_net="moore", net__critic_kwargs={"layer_norm": True}))
