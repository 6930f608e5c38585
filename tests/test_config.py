"""mtjax.config: the typed run config is built and validated once, with one-line errors naming the valid choices."""

import dataclasses
import re

import pytest

from experiments.configs import (
    mt10_arch,
    mt10_fasttd3,
    mt10_grpo,
    mt10_mtrl,
    mt10_ppo,
    mt10_ppo_floating,
    mt10_pqn,
    mt10_sac,
    mt50_arch,
    mt50_ppo,
    toy_offpolicy,
    toy_ppo,
)
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
                                          (mt10_grpo, "famo,smoke"), (toy_ppo, "grpo"), (mt50_ppo, ""),
                                          (mt50_ppo, "smoke"), (mt50_ppo, "floating,smoke"), (mt10_ppo, "24k_warp"),
                                          (mt10_ppo_floating, "24k")])
def test_every_shipped_config_parses_and_its_json_round_trips(make, variant):
    c = make.get_config(variant)
    rc = config.parse(c)
    assert config.parse(rc.to_json()) == rc  # config.json describes exactly the typed config
    assert rc.ppo.mtrl == c.mtrl and dict(rc.ppo.mtrl_kwargs) == {k: v for k, v in c.mtrl_kwargs.items()}
    assert rc.env.num_envs == c.env.num_envs and rc.ppo.lr == c.ppo.lr


def test_mt10_configs_run_the_arm_and_mt10_ppo_floating_differs_only_in_physics():
    """The faithful physics (the arm, four substeps, Newton 4 + 4) is every MT10 config's default, written out in
    ``env.kwargs`` (so ``config.json`` records it); ``mt10_ppo_floating`` changes exactly those four keys."""
    arm_keys = {"hand": "arm", "frame_skip": 4, "iterations": 4, "ls_iterations": 4}
    base, fast = config.parse(mt10_ppo.get_config("24k")), config.parse(mt10_ppo_floating.get_config("24k"))
    assert dict(base.env.kwargs) == {"episode_length": 150, "reward_scale": 100.0, **arm_keys, "physics_impl": "jax",
                                     "warp_graph_mode": "default", "physics_graphs": 0}
    assert dict(fast.env.kwargs) == {**dict(base.env.kwargs), "hand": "floating", "frame_skip": 1, "iterations": 4,
                                     "ls_iterations": 4}
    assert (fast.ppo, fast.net, fast.total_iterations, fast.env.num_envs) == (base.ppo, base.net, 1272, 24576)
    warp = config.parse(mt10_ppo.get_config("24k_warp"))  # the same physics, stepped by MuJoCo Warp in 4 calls
    assert dict(warp.env.kwargs) == {**dict(base.env.kwargs), "physics_impl": "warp", "physics_graphs": 1}
    assert (warp.ppo, warp.net, warp.total_iterations, warp.env.num_envs) == (base.ppo, base.net, 1272, 24576)
    clamp = config.parse(mt10_ppo.get_config("24k_warp_clamp"))  # the same run with rl_games' observation clamp
    assert (clamp.env, clamp.net, clamp.total_iterations) == (warp.env, warp.net, 1272)
    assert (clamp.ppo.obs_norm_clip, clamp.ppo.obs_norm_eps, warp.ppo.obs_norm_clip, warp.ppo.obs_norm_eps) == (
        5.0, 1e-5, 0.0, 1e-8)
    assert dataclasses.replace(clamp.ppo, obs_norm_clip=0.0, obs_norm_eps=1e-8) == warp.ppo
    assert config.parse(mt10_ppo_floating.get_config("smoke")).env.num_envs == 40
    for make, variant in ((mt10_mtrl, "cagrad"), (mt10_arch, "moore_mh"), (mt10_grpo, ""), (mt10_sac, ""),
                          (mt10_fasttd3, ""), (mt10_pqn, "")):
        kw = dict(config.parse(make.get_config(variant)).env.kwargs)
        assert {k: kw.get(k) for k in arm_keys} == arm_keys, make.__name__
    # the algorithm-specific env options survive next to the physics keys
    assert dict(config.parse(mt10_pqn.get_config("")).env.kwargs)["action_scale"] == 0.005
    assert dict(config.parse(mt10_fasttd3.get_config("")).env.kwargs)["reward_scale"] == 1.0
    # MT50's configs: the same arm, stepped by MuJoCo Warp in one call per skeleton
    for make, variant in ((mt50_ppo, ""), (mt50_ppo, "smoke"), (mt50_arch, ""), (mt50_arch, "paco,smoke")):
        kw = dict(config.parse(make.get_config(variant)).env.kwargs)
        assert {k: kw[k] for k in arm_keys} == arm_keys and (kw["physics_impl"], kw["physics_graphs"]) == ("warp", 1)


def test_mt50_ppo_follows_mtbenchs_mt50_vanilla_row():
    rc = config.parse(mt50_ppo.get_config(""))
    # MTBench meta-world-mt50-vanilla-PPO: 24,576 envs, horizon 32, 24 minibatches of 32,768, 1,272 iterations
    assert (rc.env.name, rc.env.num_envs, rc.total_iterations) == ("mt50", 24576, 1272)
    assert rc.ppo.horizon * rc.env.num_envs // rc.ppo.minibatch_size == 24 and rc.net.preset == "mt50"
    smoke = config.parse(mt50_ppo.get_config("smoke"))
    assert smoke.env.num_envs == 100 and (smoke.env.num_envs * smoke.ppo.horizon) % smoke.ppo.minibatch_size == 0
    with pytest.raises(ValueError, match="valid: '<row>', 'smoke'"):
        mt50_ppo.get_config("moore")
    # the floating row changes only the physics keys: the floating hand on MJX-JAX with 20 shared graphs
    fl = config.parse(mt50_ppo.get_config("floating"))
    assert dict(fl.env.kwargs) == {**dict(rc.env.kwargs), "hand": "floating", "frame_skip": 1, "iterations": 4,
                                   "ls_iterations": 4, "physics_impl": "jax", "physics_graphs": 20}
    assert (fl.ppo, fl.net, fl.total_iterations, fl.env.num_envs) == (rc.ppo, rc.net, 1272, 24576)


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
    ("algo", "nope", r"config\.algo='nope'; valid: ppo, grpo, pqn, sac, fasttd3"),
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
    assert config.net_options("mlp", "actor") == {"hidden", "act", "layer_norm", "zero_bias"}
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


@pytest.mark.parametrize("make,variant,algo", [(mt10_sac, "", "sac"), (mt10_sac, "g32,smoke", "sac"),
                                               (mt10_fasttd3, "", "fasttd3"), (mt10_fasttd3, "smoke", "fasttd3"),
                                               (toy_offpolicy, "", "sac"), (toy_offpolicy, "fasttd3,smoke", "fasttd3")])
def test_off_policy_configs_parse_into_their_section_and_round_trip(make, variant, algo):
    c = make.get_config(variant)
    rc = config.parse(c)
    assert rc.algo == algo and config.parse(rc.to_json()) == rc
    section = c.sac if algo == "sac" else c.td3
    assert rc.learner_config is (rc.sac if algo == "sac" else rc.td3)
    assert all(getattr(rc.learner_config, k) == v for k, v in section.items())
    if make is mt10_fasttd3:  # the cosine decay spans the run: iterations x gradient steps (toy: constant lr)
        assert rc.td3.lr_decay_steps == rc.total_iterations * rc.td3.gradient_steps


def test_mtbench_budgets_of_the_off_policy_configs():
    sac_rc, td3_rc = config.parse(mt10_sac.get_config("")), config.parse(mt10_fasttd3.get_config(""))
    # MT-SAC: 122,071 iterations x 4,096 envs x 1 step = 500,002,816 frames (500 M); FastTD3: 12,208 x 4,096 = 50 M
    assert sac_rc.total_iterations * sac_rc.env.num_envs * sac_rc.sac.horizon == 500_002_816
    assert td3_rc.total_iterations * td3_rc.env.num_envs * td3_rc.td3.horizon == 50_003_968
    assert dict(sac_rc.net.actor_kwargs) == dict(sac_rc.net.critic_kwargs) == {"hidden": (512, 256, 128),
                                                                              "act": "relu", "zero_bias": True}
    assert (sac_rc.sac.n_step, sac_rc.sac.gradient_steps, sac_rc.sac.buffer_size) == (4, 4, 5_000_000)
    assert (td3_rc.td3.n_step, td3_rc.td3.gamma, td3_rc.td3.buffer_size) == (8, 0.97, 8_388_608)
    assert dict(td3_rc.env.kwargs)["reward_scale"] == 1.0 and td3_rc.net.actor_net == "simba"


def test_off_policy_sections_and_requirements():
    d = toy_offpolicy.get_config("").to_dict()
    rc = config.parse({**d, "mtrl": "pcgrad", "mtrl_target": "both"})
    assert (rc.sac.mtrl, rc.sac.mtrl_target) == ("pcgrad", "both")  # the top-level mtrl* keys fill SAC's too
    j = rc.to_json()
    assert "mtrl" not in j["sac"] and j["mtrl"] == "pcgrad" and config.parse(j) == rc
    assert config.parse({**d, "env": {**d["env"], "num_envs": 7}}).env.num_envs == 7  # no PPO minibatch check
    valid = r"unknown key\(s\) sac\.lrr in config\.sac; valid: actor_lr, .*warmup_steps$"
    for over, pattern in (({"sac": {**d["sac"], "lrr": 1.0}}, valid),
                          ({"sac": {**d["sac"], "mtrl": "pcgrad"}}, r"unknown key\(s\) sac\.mtrl in config\.sac"),
                          ({"td3": {"num_atom": 5}}, r"unknown key\(s\) td3\.num_atom in config\.td3; valid: .*v_min"),
                          ({"sac": {"tau": 0.0}}, r"SACConfig\.tau must lie in \(0, 1\]"),
                          ({"td3": {"num_atoms": 1}}, r"TD3Config needs num_atoms >= 2"),
                          ({"env_backend": "isaacgym"}, r"algo='sac' runs on env_backend='jax' only"),
                          ({"net": {**d["net"], "critic_net": "shared"}}, r"critic_net='shared' with algo='sac': it needs twin critic"),
                          ({"algo": "fasttd3", "mtrl": "cagrad"}, r"mtrl='cagrad' with algo='fasttd3'")):
        with pytest.raises(ValueError, match=pattern):
            config.parse({**d, **over})


def test_pqn_reads_its_section_and_the_top_level_mtrl_keys():
    for make, variant in ((mt10_pqn, ""), (mt10_pqn, "mtbench_eps,smoke"), (toy_ppo, "pqn"), (toy_ppo, "pqn,smoke")):
        c = make.get_config(variant)
        rc = config.parse(c)
        assert rc.algo == "pqn" and rc.learner_config is rc.pqn and config.parse(rc.to_json()) == rc
        assert rc.pqn.total_iterations == rc.total_iterations  # a FieldReference in the config file
    d = toy_ppo.get_config("pqn").to_dict()
    rc = config.parse({**d, "mtrl": "pcgrad", "mtrl_target": "both"})
    assert (rc.pqn.mtrl, rc.pqn.mtrl_target) == ("pcgrad", "both") and "mtrl" not in rc.to_json()["pqn"]
    assert config.parse(toy_ppo.get_config("grpo")).pqn.mtrl_target == "critic"  # unused sections keep defaults
    for over, pattern in (({"mtrl_target": "actor"}, r"PQNConfig\.mtrl_target='actor'; valid: critic, both"),
                          ({"net": {**d["net"], "critic_net": "none"}}, r"algo='pqn': it needs a Q-network"),
                          ({"pqn": {"epoch": 2}}, r"unknown key\(s\) pqn\.epoch in config\.pqn; valid: .*epochs")):
        with pytest.raises(ValueError, match=pattern):
            config.parse({**d, **over})
