"""Multi-task architectures (mtjax/nets): shapes, jit, determinism and each paper's structural invariant."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from mtjax import nets
from mtjax.nets import care, presets

B = 6


def _key(seed):
    # "rbg" keys: XLA compiles their init programs several times faster on CPU than unrolled threefry.
    return jax.random.key(seed, impl="rbg")


# Tiny sizes per registered network (CPU-friendly); every field is a real option of the module.
TINY = {
    "mlp": {"hidden": (16,)},
    "qnet": {"hidden": 16, "num_blocks": 2},
    "multihead": {"hidden": (16,)},
    "moore": {"num_experts": 3, "expert_hidden": (16, 16), "task_hidden": 8},
    "moore_mh": {"num_experts": 3, "expert_hidden": (16, 16), "task_hidden": 8},
    "paco": {"num_params": 3, "hidden": (16, 16)},
    "care": {
        "num_experts": 3,
        "expert_hidden": 8,
        "attention_hidden": (8, 8),
        "context_hidden": (16,),
        "trunk": (16,),
    },
    "care_mh": {
        "num_experts": 3,
        "expert_hidden": 8,
        "attention_hidden": (8, 8),
        "context_hidden": (16,),
        "trunk": (16,),
    },
    "softmod": {"num_layers": 3, "module_hidden": 16, "state_hidden": (16,), "task_hidden": (16,)},
    "simba": {"hidden": 16, "num_blocks": 2},
    "bro": {"hidden": 16, "num_blocks": 2},
}
MULTI_HEAD = {"multihead": "TaskHeads_0", "moore_mh": "heads", "care_mh": "heads"}
OBS = 5


def _inputs(t, key=0):
    k1, _k2 = jax.random.split(_key(key))
    tid = jnp.arange(B, dtype=jnp.int32) % t
    x = jnp.concatenate([jax.random.normal(k1, (B, OBS)), jax.nn.one_hot(tid, t)], axis=-1)
    return x, tid


def _inter(net, v, x, tid):
    """Jitted apply that also returns the sown intermediates."""
    return jax.jit(lambda v_, x_, t_: net.apply(v_, x_, t_, mutable=["intermediates"])[1])(v, x, tid)


def _net(name, t, out_dim=3, **extra):
    return nets.make_net(name, out_dim=out_dim, num_tasks=t, **{**TINY[name], **extra})


def test_every_registered_net_has_a_tiny_case():
    assert set(TINY) == set(nets.net_names())


@pytest.mark.parametrize("name", sorted(TINY))
def test_output_shapes_for_every_task_count(name):
    # Abstract evaluation (no compilation): every module at T = 1, 3, 10, 50 and out_dim 1 / 4.
    for t in (1, 3, 10, 50):
        for out_dim in (1, 4):
            net = _net(name, t, out_dim=out_dim)
            x, tid = _inputs(t)
            v = jax.eval_shape(net.init, _key(0), x, tid)
            y = jax.eval_shape(net.apply, v, x, tid)
            assert y.shape == (B, out_dim) and y.dtype == jnp.float32, (t, out_dim)


@pytest.mark.parametrize("name", sorted(TINY))
def test_values_jit_and_determinism(name):
    t = 3
    net = _net(name, t)
    x, tid = _inputs(t)
    init, apply = jax.jit(net.init), jax.jit(net.apply)
    v1 = init(_key(1), x, tid)
    v2 = init(_key(1), x, tid)
    v3 = init(_key(2), x, tid)
    y = apply(v1, x, tid)
    assert y.shape == (B, 3) and bool(jnp.isfinite(y).all())
    # Same key -> bitwise-equal params and outputs; another key -> other params.
    assert all(bool((a == b).all()) for a, b in zip(jax.tree.leaves(v1), jax.tree.leaves(v2)))
    assert bool((apply(v2, x, tid) == y).all())
    assert any(not bool((a == b).all()) for a, b in zip(jax.tree.leaves(v1), jax.tree.leaves(v3)))
    # The same observation under different tasks gives different outputs (PaCo excepted: its K copies start
    # identical, so every task's compositional layer is the same at init as in MTBench's code).
    x_same = x.at[:, :OBS].set(x[:1, :OBS])
    y_t = apply(v1, x_same, tid)
    if name != "paco":
        assert float(jnp.abs(y_t - y_t[:1]).max()) > 1e-6
    # jit / no-jit agreement
    np.testing.assert_allclose(net.apply(v1, x, tid), y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(MULTI_HEAD))
def test_multi_head_output_ignores_other_heads(name):
    t = 4
    net = _net(name, t)
    x, tid = _inputs(t)
    params = jax.jit(net.init)(_key(0), x, tid)
    task = 2
    mask = tid == task

    def out_for_task(p):
        return jnp.sum(jnp.where(mask[:, None], net.apply(p, x, tid), 0.0))

    grads = traverse_util.flatten_dict(jax.jit(jax.grad(out_for_task))(params)["params"])
    head_grads = {k: g for k, g in grads.items() if k[0] == MULTI_HEAD[name]}
    assert head_grads, f"no head params under {MULTI_HEAD[name]}"
    for g in head_grads.values():  # [T, ...]: only row `task` receives gradient
        others = np.delete(np.asarray(g), task, axis=0)
        assert np.all(others == 0.0)
        assert np.abs(np.asarray(g)[task]).sum() > 0
    # Changing the other heads' parameters leaves task 2's outputs unchanged.
    flat = traverse_util.flatten_dict(params["params"])
    flat = {
        k: (v.at[jnp.arange(t) != task].add(1.0) if k[0] == MULTI_HEAD[name] else v) for k, v in flat.items()
    }
    moved = {"params": traverse_util.unflatten_dict(flat)}
    apply = jax.jit(net.apply)
    np.testing.assert_array_equal(apply(moved, x, tid)[mask], apply(params, x, tid)[mask])


@pytest.mark.parametrize("name", ["moore", "moore_mh"])
def test_moore_basis_is_orthonormal_per_sample(name):
    net = _net(name, 10)
    x, tid = _inputs(10)
    v = jax.jit(net.init)(_key(0), x, tid)
    inter = _inter(net, v, x, tid)
    u = inter["intermediates"]["basis"][0]  # [B, E, H]
    assert u.shape == (B, 3, 16)
    gram = jnp.einsum("beh,bfh->bef", u, u)
    np.testing.assert_allclose(gram, jnp.broadcast_to(jnp.eye(3), gram.shape), atol=1e-5)


def test_gram_schmidt_matches_hand_case_and_qr():
    # v1 = (3, 4, 0) -> u1 = (0.6, 0.8, 0); v2 = (1, 0, 0) - 0.6 * u1 = (0.64, -0.48, 0) -> |.| = 0.8 -> (0.8, -0.6, 0)
    v = jnp.array([[[3.0, 4.0, 0.0], [1.0, 0.0, 0.0]]])
    np.testing.assert_allclose(nets.gram_schmidt(v)[0], [[0.6, 0.8, 0.0], [0.8, -0.6, 0.0]], atol=1e-6)
    r = jax.random.normal(_key(3), (4, 3, 7))
    q = jnp.linalg.qr(jnp.swapaxes(r, 1, 2))[
        0
    ]  # same span, same order -> equal up to the sign of each vector
    np.testing.assert_allclose(jnp.abs(jnp.einsum("beh,bhe->be", nets.gram_schmidt(r), q)), 1.0, atol=1e-5)


def test_paco_weights_on_simplex_and_compositional_layer():
    net = _net("paco", 10)
    x, tid = _inputs(10)
    v = jax.jit(net.init)(_key(0), x, tid)
    inter = _inter(net, v, x, tid)
    w = inter["intermediates"]["body"]["weights"][0]
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert bool((w > 0).all())
    # MTBench initialises all K copies identically.
    kern = v["params"]["body"]["CompositionalDense_0"]["kernel"]
    np.testing.assert_array_equal(kern[0], kern[1])
    # y = sum_k w_k (x V_k + b_k), checked against the explicit loop with random (distinct) copies.
    layer = nets.paco.CompositionalDense(5, 3, identical_init=False)
    xs, ws = jax.random.normal(_key(1), (4, 6)), jax.nn.softmax(jax.random.normal(_key(2), (4, 3)))
    p = jax.jit(layer.init)(_key(3), xs, ws)
    p = jax.tree.map(lambda a: a + jax.random.normal(_key(4), a.shape), p)
    vv, bb = p["params"]["kernel"], p["params"]["bias"]
    ref = sum(ws[:, k : k + 1] * (xs @ vv[k] + bb[k]) for k in range(3))
    np.testing.assert_allclose(jax.jit(layer.apply)(p, xs, ws), ref, rtol=1e-5, atol=1e-5)


def test_care_attention_sums_to_one_and_uses_packaged_embeddings():
    net = _net("care", 10)  # T=10 -> the packaged MT10 MiniLM embeddings (frozen, not params)
    x, tid = _inputs(10)
    v = jax.jit(net.init)(_key(0), x, tid)
    assert "task_embedding" not in v["params"]
    inter = _inter(net, v, x, tid)
    a = inter["intermediates"]["attention"][0]
    assert a.shape == (B, 3)
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-6)
    v3 = jax.eval_shape(_net("care", 3).init, _key(0), *_inputs(3))  # no file for T=3 -> learned fallback
    assert v3["params"]["task_embedding"]["embedding"].shape == (3, 384)


def test_care_embedding_files_are_real_sentence_vectors():
    e50, e10 = care.load_task_embeddings("mt50"), care.load_task_embeddings("mt10")
    assert e50.shape == (50, 384) and e10.shape == (10, 384)
    np.testing.assert_allclose(np.linalg.norm(e50, axis=1), 1.0, atol=1e-4)
    mt10_ids = [4, 16, 17, 18, 28, 31, 38, 40, 48, 49]
    np.testing.assert_array_equal(e10, e50[mt10_ids])
    sub = care.load_task_embeddings("mt50", ["drawer-open", "drawer_close", "reach"])
    # A real encoder puts the two drawer tasks closer to each other than to "reach".
    assert sub[0] @ sub[1] > sub[0] @ sub[2] + 0.1
    with pytest.raises(ValueError, match="valid"):
        care.load_task_embeddings("mt50", ["not-a-task"])
    with pytest.raises(ValueError, match="num_tasks"):
        _net("care", 3, embedding="mt10").init(_key(0), *_inputs(3))


def test_softmod_routing_rows_sum_to_one():
    net = _net("softmod", 4)
    x, tid = _inputs(4)
    v = jax.jit(net.init)(_key(0), x, tid)
    inter = _inter(net, v, x, tid)
    probs = inter["intermediates"]["routing"][0]
    assert len(probs) == 2  # L - 1 mixing steps for L = 3
    for p in probs:
        assert p.shape == (B, 2, 2)
        np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-6)


def test_simba_hyperdense_is_scale_invariant():
    net = _net("simba", 4)
    x, tid = _inputs(4)
    v = jax.jit(net.init)(_key(0), x, tid)
    flat = traverse_util.flatten_dict(v["params"])
    scaled = {k: (a * 3.7 if "_HyperDense" in "/".join(k) else a) for k, a in flat.items()}
    apply = jax.jit(net.apply)
    y2 = apply({"params": traverse_util.unflatten_dict(scaled)}, x, tid)
    np.testing.assert_allclose(y2, apply(v, x, tid), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["simba", "bro"])
def test_learned_task_embedding_replaces_one_hot(name):
    net = _net(name, 4, task_embedding_dim=5)
    x, tid = _inputs(4)
    v = jax.jit(net.init)(_key(0), x, tid)
    assert v["params"]["task_embedding"]["embedding"].shape == (4, 5)
    x_no_onehot = x.at[:, OBS:].set(0.0)  # the one-hot is ignored: only task_id matters
    apply = jax.jit(net.apply)
    np.testing.assert_array_equal(apply(v, x_no_onehot, tid), apply(v, x, tid))
    assert float(jnp.abs(apply(v, x, (tid + 1) % 4) - apply(v, x, tid)).max()) > 1e-6


def test_shared_actor_critic_param_tree_and_gradients():
    init, apply = nets.make_actor_critic(
        actor_net="paco", critic_net="shared", action_size=2, num_tasks=3, actor_kwargs=TINY["paco"]
    )
    x, tid = _inputs(3)
    v = jax.jit(init)(_key(0), x, tid)
    p = v["params"]
    assert set(p) == {"actor", "critic", "log_std"} and set(p["actor"]) == {"body", "head"}
    mu, log_std, value = apply(v, x, tid)
    assert mu.shape == (B, 2) and log_std.shape == (2,) and value.shape == (B,)
    g = jax.jit(jax.grad(lambda q: apply({"params": q}, x, tid)[2].sum()))(p)
    # The value loss trains the shared trunk (actor/body) and the value head, never the policy head.
    assert float(jnp.abs(g["actor"]["body"]["CompositionalDense_0"]["kernel"]).sum()) > 0
    assert all(float(jnp.abs(a).sum()) == 0 for a in jax.tree.leaves(g["actor"]["head"]))
    assert float(jnp.abs(g["critic"]["CompositionalDense_0"]["kernel"]).sum()) > 0


def test_registry_errors_list_valid_choices():
    with pytest.raises(ValueError, match="moore"):
        nets.make_net("nope", out_dim=1, num_tasks=2)
    with pytest.raises(ValueError, match="num_experts"):
        nets.make_net("moore", out_dim=1, num_tasks=2, hidden=(4,))
    with pytest.raises(ValueError, match="paco"):
        nets.make_actor_critic(actor_net="moore", critic_net="shared", action_size=2, num_tasks=2)
    with pytest.raises(ValueError, match="critic_kwargs"):
        nets.make_actor_critic(
            actor_net="paco", critic_net="shared", action_size=2, num_tasks=2, critic_kwargs={"hidden": (4,)}
        )
    with pytest.raises(ValueError, match="mt10"):
        presets.preset("moore", "mt20")
    x, tid = _inputs(3)
    moore = _net("moore", 3)
    with pytest.raises(AssertionError):  # task_id must be [B]
        jax.eval_shape(moore.init, _key(0), x, tid[:2])
    with pytest.raises(ValueError, match="num_tasks"):  # no room for a one-hot of width 8
        jax.eval_shape(_net("moore", 8).init, _key(0), x[:, :8], tid)


@pytest.mark.parametrize("suite", ["mt10", "mt50"])
def test_preset_param_counts_match_mtbench(suite):
    d, t, a = presets.SUITE_DIMS[suite]
    x, tid = jnp.zeros((2, d + t)), jnp.zeros((2,), jnp.int32)
    for net in ["mlp", "multihead", "moore", "moore_mh", "paco", "care", "care_mh", "softmod"]:
        critic = "shared" if net == "paco" else net
        init, _ = nets.make_actor_critic(
            actor_net=net,
            critic_net=critic,
            action_size=a,
            num_tasks=t,
            actor_kwargs=presets.preset(net, suite),
            critic_kwargs={} if critic == "shared" else presets.preset(net, suite, "critic"),
        )
        p = jax.eval_shape(init, _key(0), x, tid)["params"]
        ours = {
            "actor": sum(l.size for l in jax.tree.leaves(p["actor"])) + a,
            "critic": sum(l.size for l in jax.tree.leaves(p["critic"])),
        }
        for role in ("actor", "critic"):
            theirs = presets.mtbench_param_count(net, suite, role)
            # CARE: MiniLM vectors are 384-d, RoBERTa 768-d -> the first context layer is 384 x 1536 smaller.
            gap = (768 - 384) * 1536 if net.startswith("care") else 0
            assert ours[role] == theirs - gap, (net, role)


@pytest.mark.parametrize("name", sorted(TINY))
def test_mtrl_critic_labels_select_exactly_the_critic(name):
    # MT-PPO's "critic" target labels leaves by name ("critic"/"value" in the path): no actor leaf may match.
    from mtjax.transforms import registry as tr_registry

    critic = "shared" if name == "paco" else name
    init, _ = nets.make_actor_critic(
        actor_net=name,
        critic_net=critic,
        action_size=2,
        num_tasks=3,
        actor_kwargs=TINY[name],
        critic_kwargs={} if critic == "shared" else TINY[name],
    )
    p = jax.eval_shape(init, _key(0), *_inputs(3))["params"]
    labels = tr_registry.critic_labels(p)
    assert set(jax.tree.leaves(labels["critic"])) == {"critic"}
    assert set(jax.tree.leaves(labels["actor"])) == {"actor"} and labels["log_std"] == "actor"
