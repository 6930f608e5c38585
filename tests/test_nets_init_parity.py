"""MOORE, CARE and Soft-Modularization start where MTBench's executed code starts (issue 11, item 3).

Expected numbers are hand-computed from the rule MTBench executes (docs/deviations.md, "Network
initialisation (MTBench parity)"), with the arithmetic in the comments. Each was also checked against MTBench's
own networks built with torch 2.13.0 on CPU (MTBench commit ed2e2b5, rl_games v1.6.1, seed 0); those recorded
values are quoted as "torch" (max |w| of the layer).

torch's xavier_uniform_ draws U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); for a weight of more than
two dims (torch/nn/init.py ``_calculate_fan_in_and_fan_out``) fan_in = size(1) * rf, fan_out = size(0) * rf,
rf = prod(size[2:]). MTBench's ``moe_layer.Linear`` weight is [E, in, out], so fan_in = in * out and
fan_out = E * out.
"""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from compile_options import OPTIMISED
from flax import traverse_util

from mtjax import nets
from mtjax.nets import care, layers, presets

R2 = math.sqrt(2.0)  # torch.nn.init.calculate_gain("relu")
MT10_NAMES = [  # MTBench's ordered_task_names for MT10 (ascending task id), hyphenated as in its JSON
    "button-press-topdown", "door-open", "drawer-close", "drawer-open", "peg-insert-side",
    "pick-place", "push", "reach", "window-close", "window-open",
]


def _key(seed):
    return jax.random.key(seed, impl="rbg")  # faster CPU compiles of large inits


def _inputs(t, d=39):
    tid = jnp.arange(t, dtype=jnp.int32)
    x = jnp.concatenate([jnp.zeros((t, d)), jax.nn.one_hot(tid, t)], axis=-1)
    return x, tid


def _params(name, t=10, **kw):
    net = nets.make_net(name, out_dim=4, num_tasks=t, **kw)
    p = jax.jit(net.init)(_key(0), *_inputs(t))["params"]
    return {"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(p).items()}


def _uniform(w, lo, hi):
    """``w`` looks like iid U(lo, hi): inside the range, fills it, right mean and std.

    Tolerances: with n draws, P(no draw in the top 30/n of the range) = (1 - 30/n)^n < e^-30; mean and std
    are within 6 standard errors (SE(mean) = (hi - lo) / sqrt(12 n); relative SE(std) = sqrt(0.2 / n), since
    Var(w^2) / E[w^2]^2 = 4/5 for a centred uniform and the std's relative SE is half the variance's).
    """
    w, n, width = np.asarray(w, np.float64).ravel(), np.asarray(w).size, hi - lo
    assert w.min() >= lo - 1e-7 and w.max() <= hi + 1e-7, (w.min(), w.max(), lo, hi)
    if n >= 1000:
        assert w.max() >= hi - 30 * width / n and w.min() <= lo + 30 * width / n
        assert abs(w.mean() - (lo + hi) / 2) <= 6 * width / math.sqrt(12 * n)
        assert abs(w.std() / (width / math.sqrt(12)) - 1) <= 6 * math.sqrt(0.2 / n)


def _sym(w, a):
    _uniform(w, -a, a)


def _zero(w):
    assert not np.any(w), "expected zeros"


def test_torch_fan_rule_for_a_3d_tensor():
    torch = pytest.importorskip("torch")  # a declared test dependency (pyproject [test])
    # moe_layer.Linear(4 experts, 39 -> 400): weight [4, 39, 400]; rf = 400, fan_in = 39 * 400 = 15600,
    # fan_out = 4 * 400 = 1600 (not 39 and 400 as for one expert's matrix).
    assert torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(4, 39, 400)) == (15600, 1600)
    assert torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(400, 39)) == (39, 400)  # nn.Linear
    # torch's own draw over the 3-D tensor, gain sqrt 2, stays within sqrt(12 / 17200) and fills it.
    w = torch.nn.init.xavier_uniform_(torch.empty(4, 39, 400), gain=torch.nn.init.calculate_gain("relu"))
    _sym(w.numpy(), math.sqrt(12 / 17200))


def test_our_xavier_initializer_uses_the_same_fans():
    # gain sqrt 2: a = sqrt(2) * sqrt(6 / 17200) = sqrt(12 / 17200) = 0.026414 (torch: max|w| 0.02641).
    a = math.sqrt(12 / 17200)
    assert abs(a - 0.026414) < 1e-6
    w = layers.xavier_uniform_torch(R2, num_experts=4)(_key(1), (39, 400))
    _sym(w, a)
    # The per-matrix rule (no num_experts) gives sqrt(12 / (39 + 400)) = 0.16533, 6.3x larger.
    _sym(layers.xavier_uniform_torch(R2)(_key(1), (39, 400)), math.sqrt(12 / 439))
    # Per-task heads [T, in, out]: each [in, out] matrix is one torch nn.Linear(in, out).
    _sym(layers.xavier_uniform_torch(1.0)(_key(2), (10, 400, 4)), math.sqrt(6 / 404))


def test_moore_mt10_starts_where_mtbench_starts():
    p = _params("moore", **presets.preset("moore", "mt10"))
    e = "experts/experts/TorchDense_{}/Dense_0/{}"
    # Experts [4, in, out], 3-D xavier: layer 0 gain sqrt 2, fan 39*400 + 4*400 = 17200 -> 0.026414;
    # layer 1 gain sqrt 2, fan 400*400 + 4*400 = 161600 -> sqrt(12/161600) = 0.0086174 (torch 0.00862);
    # layer 2 gain 1 -> sqrt(6/161600) = 0.0060933 (torch 0.00609). Biases torch.rand: U[0, 1).
    for i, a in enumerate([math.sqrt(12 / 17200), math.sqrt(12 / 161600), math.sqrt(6 / 161600)]):
        assert p[e.format(i, "kernel")].shape[0] == 4
        _sym(p[e.format(i, "kernel")], a)
        _uniform(p[e.format(i, "bias")], 0.0, 1.0)
    # Task encoder, no biases: Linear(10 -> 256) gain sqrt 2: sqrt(12/266) = 0.21240 (torch 0.21229);
    # Linear(256 -> 4) gain 1: sqrt(6/260) = 0.15191 (torch 0.15151).
    assert set(k for k in p if k.startswith("task_encoder")) == {
        "task_encoder_0/Dense_0/kernel", "task_encoder_1/Dense_0/kernel"}
    _sym(p["task_encoder_0/Dense_0/kernel"], math.sqrt(12 / 266))
    _sym(p["task_encoder_1/Dense_0/kernel"], math.sqrt(6 / 260))
    # SH head Linear(400 + 10 -> 4): xavier sqrt(6/414) = 0.12039 (torch 0.12037); PyTorch's default bias
    # U(+-1/sqrt(410)) = +-0.049386.
    _sym(p["head/Dense_0/kernel"], math.sqrt(6 / 414))
    _sym(p["head/Dense_0/bias"], 1 / math.sqrt(410))

    mh = _params("moore_mh", **presets.preset("moore_mh", "mt10"))
    # Per-task heads Linear(400 -> 4): sqrt(6/404) = 0.12187 (torch 0.12185); bias +-1/sqrt(400) = 0.05.
    _sym(mh["heads/kernel"], math.sqrt(6 / 404))
    _sym(mh["heads/bias"], 0.05)


def test_moore_per_expert_fix_option():
    p = _params("moore", num_experts=4, expert_hidden=(400, 400), task_hidden=16, init_scheme="per_expert")
    e = "experts/experts/TorchDense_{}/Dense_0/{}"
    # One expert's matrix: sqrt(2) * sqrt(6 / (39 + 400)) = 0.16533, then sqrt(6 / 800) = 0.086603; zero bias.
    _sym(p[e.format(0, "kernel")], math.sqrt(12 / 439))
    _sym(p[e.format(1, "kernel")], math.sqrt(6 / 800))
    _zero(p[e.format(0, "bias")])
    _zero(p[e.format(1, "bias")])
    with pytest.raises(ValueError, match="per_expert"):
        _params("moore", num_experts=2, expert_hidden=(8,), task_hidden=4, init_scheme="torch")


def test_deep_experts_keep_torch_rand_weights_past_mtbench_init_loop():
    # MTBench loops ``for i in range(num_layers)`` over FeedForward._model = [L0, ReLU, L1, ReLU, L2, ReLU, L3]
    # (num_layers = 4), so it re-initialises _model[0] = L0, _model[2] = L1 and then _model[-1] = L3; L2 keeps
    # torch.rand weights in [0, 1) (checked on MTBench's MOOREPPONetwork: _model.4.weight in [8e-5, 0.9989]).
    # E = 2, input 40, width 64: L0 fan 40*64 + 2*64 = 2688 -> sqrt(12/2688) = 0.066815; L1 fan
    # 64*64 + 2*64 = 4224 -> sqrt(12/4224) = 0.053300; L3 gain 1 -> sqrt(6/4224) = 0.037689.
    mlp = layers.ExpertMLP(2, (64, 64, 64, 64))
    p = jax.jit(mlp.init)(_key(0), jnp.zeros((1, 40)))["params"]["experts"]
    k = [np.asarray(p[f"TorchDense_{i}"]["Dense_0"]["kernel"]) for i in range(4)]
    _sym(k[0], math.sqrt(12 / 2688))
    _sym(k[1], math.sqrt(12 / 4224))
    _uniform(k[2], 0.0, 1.0)
    _sym(k[3], math.sqrt(6 / 4224))


@pytest.fixture(scope="module")
def roberta_like_file(tmp_path_factory):
    """A 768-d embedding JSON in MTBench's format ({task-name: vector}); values are arbitrary test data."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("care") / "metaworld-mt10.json"
    path.write_text(json.dumps({n: rng.normal(size=768).round(4).tolist() for n in MT10_NAMES}))
    return str(path)


def _count(tree):
    return sum(leaf.size for leaf in jax.tree.leaves(tree))


@pytest.mark.parametrize("net", ["care", "care_mh"])
def test_care_parameter_count_matches_mtbench_exactly_with_768d_vectors(net, roberta_like_file):
    # MTBench's CARE actor (torch, counting requires_grad parameters; its frozen 10 x 768 embedding is not
    # trained and is a constant here):
    #   encoders   6 * ((39*50 + 50) + (50*50 + 50))                   =    27,300
    #   context    (768*1536 + 1536) + (1536*768 + 768)                = 2,361,600
    #              + context MLP (768*50 + 50) + (50*50 + 50)          =    40,000
    #   mixture    2 * (50*50 + 50)                                    =     5,100
    #   trunk      (100*400 + 400) + 2 * (400*400 + 400)               =   361,200
    #   head       SH 400*4 + 4 = 1,604        MH 10 * 1,604 = 16,040
    # actor SH = 2,797,804 (torch: 2797804), + log-std 4 = 2,797,808; critic SH: head 401 -> 2,796,601.
    # actor MH = 2,812,240 (torch: 2812240) + 4 = 2,812,244; critic MH: heads 4,010 -> 2,800,210.
    expected = {"care": (2_797_808, 2_796_601), "care_mh": (2_812_244, 2_800_210)}[net]
    kw = presets.preset(net, "mt10", embedding_file=roberta_like_file)
    init, _ = nets.make_actor_critic(
        actor_net=net, critic_net=net, action_size=4, num_tasks=10, actor_kwargs=kw, critic_kwargs=kw
    )
    p = jax.eval_shape(init, _key(0), *_inputs(10))["params"]
    got = (_count(p["actor"]) + _count(p["log_std"]), _count(p["critic"]))
    assert got == expected
    assert expected == (presets.mtbench_param_count(net, "mt10", "actor"),
                        presets.mtbench_param_count(net, "mt10", "critic"))
    # With the packaged 384-d vectors only the first context layer shrinks: (768 - 384) * 1536 = 589,824.
    kw384 = presets.preset(net, "mt10")
    init, _ = nets.make_actor_critic(
        actor_net=net, critic_net=net, action_size=4, num_tasks=10, actor_kwargs=kw384, critic_kwargs=kw384
    )
    p = jax.eval_shape(init, _key(0), *_inputs(10))["params"]
    assert _count(p["critic"]) == expected[1] - 589_824
    assert p["critic"]["context_0"]["Dense_0"]["kernel"].shape == (384, 1536)


def test_care_mt10_starts_where_mtbench_starts(roberta_like_file):
    p = _params("care", **presets.preset("care", "mt10", embedding_file=roberta_like_file))
    # Encoders [6, in, 50], 3-D xavier: layer 0 gain sqrt 2, fan 39*50 + 6*50 = 2250 -> sqrt(12/2250)
    # = 0.073030 (torch 0.07303); layer 1 gain 1, fan 50*50 + 6*50 = 2800 -> sqrt(6/2800) = 0.046291
    # (torch 0.04629). Biases U[0, 1).
    e = "encoders/experts/TorchDense_{}/Dense_0/{}"
    _sym(p[e.format(0, "kernel")], math.sqrt(12 / 2250))
    _sym(p[e.format(1, "kernel")], math.sqrt(6 / 2800))
    _uniform(p[e.format(0, "bias")], 0.0, 1.0)
    _uniform(p[e.format(1, "bias")], 0.0, 1.0)
    # Context projections keep PyTorch's default: +-1/sqrt(768) = 0.036084 (torch 0.03608), then
    # +-1/sqrt(1536) = 0.025516 (torch 0.02552), weight and bias alike.
    for i, fan_in in [(0, 768), (1, 1536)]:
        _sym(p[f"context_{i}/Dense_0/kernel"], 1 / math.sqrt(fan_in))
        _sym(p[f"context_{i}/Dense_0/bias"], 1 / math.sqrt(fan_in))
    # Context MLP: xavier gain sqrt 2 -- sqrt(12/818) = 0.12112 (torch 0.12111) and sqrt(12/100) = 0.34641
    # (torch 0.34639) -- with PyTorch's default bias +-1/sqrt(768), +-1/sqrt(50) = 0.14142.
    _sym(p["context_mlp/TorchDense_0/Dense_0/kernel"], math.sqrt(12 / 818))
    _sym(p["context_mlp/TorchDense_0/Dense_0/bias"], 1 / math.sqrt(768))
    _sym(p["context_mlp/TorchDense_1/Dense_0/kernel"], math.sqrt(12 / 100))
    _sym(p["context_mlp/TorchDense_1/Dense_0/bias"], 1 / math.sqrt(50))
    # Mixture (attention) MLP and trunk: weight_init = xavier gain 1, zero bias: sqrt(6/100) = 0.24495
    # (torch 0.24480), sqrt(6/500) = 0.10954 (torch 0.10954), sqrt(6/800) = 0.086603 (torch 0.08660).
    for i in (0, 1):
        _sym(p[f"mixture_mlp/TorchDense_{i}/Dense_0/kernel"], math.sqrt(6 / 100))
        _zero(p[f"mixture_mlp/TorchDense_{i}/Dense_0/bias"])
    for i, a in enumerate([math.sqrt(6 / 500), math.sqrt(6 / 800), math.sqrt(6 / 800)]):
        _sym(p[f"trunk_{i}/kernel"], a)
        _zero(p[f"trunk_{i}/bias"])
    # Head Linear(400 -> 4): xavier sqrt(6/404) = 0.12187 (torch 0.12186), bias +-1/sqrt(400) = 0.05.
    _sym(p["head/Dense_0/kernel"], math.sqrt(6 / 404))
    _sym(p["head/Dense_0/bias"], 0.05)


def test_care_embedding_file_rows_and_errors(roberta_like_file, tmp_path):
    table = care.load_embedding_file(roberta_like_file, ["reach", "door_open"])
    raw = json.loads(open(roberta_like_file).read())
    np.testing.assert_array_equal(table, np.asarray([raw["reach"], raw["door-open"]], np.float32))
    with pytest.raises(ValueError, match="valid"):
        care.load_embedding_file(roberta_like_file, ["not-a-task"])
    tiny = {"num_experts": 2, "expert_hidden": 4, "attention_hidden": (4,), "context_hidden": (8,),
            "trunk": (8,)}
    with pytest.raises(ValueError, match="embedding_file"):  # T = 3: no packaged order, no task_names
        nets.make_net("care", out_dim=1, num_tasks=3, embedding_file=roberta_like_file, **tiny).init(
            _key(0), *_inputs(3))
    with pytest.raises(ValueError, match="per_expert"):
        nets.make_net("care", out_dim=1, num_tasks=3, init_scheme="xavier", **tiny).init(_key(0), *_inputs(3))


def test_softmod_mt10_starts_where_mtbench_starts():
    p = _params("softmod", **presets.preset("softmod", "mt10"))
    # actor.apply(weight_init): every nn.Linear xavier gain 1 and zero bias; every module layer xavier of its
    # own [in, out] matrix (weight_init_moe_layer) and zero bias. Hand values (torch max|w| in brackets):
    # 39->256 sqrt(6/295) = 0.14262 [0.14257]; 10->256 sqrt(6/266) = 0.15019 [0.15018];
    # 256->256 sqrt(6/512) = 0.10825 [0.10825]; 256<->4 sqrt(6/260) = 0.15191 [0.15189].
    expected = {
        "Dense_0": math.sqrt(6 / 295), "Dense_1": math.sqrt(6 / 512), "state_out": math.sqrt(6 / 512),
        "Dense_2": math.sqrt(6 / 266), "task_out": math.sqrt(6 / 512),
        **{f"route_down_{i}": math.sqrt(6 / 260) for i in range(3)},
        **{f"route_up_{i}": math.sqrt(6 / 260) for i in (1, 2)},
        **{f"modules_{i}": math.sqrt(6 / 512) for i in range(3)},
        "out_modules": math.sqrt(6 / 260),
    }
    seen = set()
    for path, w in p.items():
        top = path.split("/")[0]
        seen.add(top)
        if path.endswith("bias"):
            _zero(w)
        else:
            _sym(w, expected[top])
    assert seen == set(expected)
    assert p["out_modules/VmapDense_0/kernel"].shape == (2, 256, 4)  # one [256, 4] matrix per module


def _action_mean_square(k, **overrides):
    """Mean over K inits of mean(mu^2) for the MT10 Soft-Mod actor on a fixed batch (one sample per task):
    obs[b, j] = cos(0.7 j + 1.3 b), b = 0..9 (task b, one-hot b), j = 0..38."""
    net = nets.make_net("softmod", out_dim=4, num_tasks=10, **presets.preset("softmod", "mt10", **overrides))
    b, j = jnp.arange(10.0)[:, None], jnp.arange(39.0)[None, :]
    x, tid = jnp.concatenate([jnp.cos(0.7 * j + 1.3 * b), jnp.eye(10)], axis=1), jnp.arange(10)
    mu = jax.jit(jax.vmap(lambda key: net.apply(net.init(key, x, tid), x, tid)), compiler_options=OPTIMISED)(
        jax.random.split(_key(3), k))
    return float(jnp.mean(mu**2)), float(jnp.mean(jnp.abs(mu) > 1.0))


def test_softmod_initial_action_mean_scale_matches_mtbench():
    # Recorded from MTBench's executed actor (SoftModularizedA2CBuilder, meta-world-mt-soft-modularization-PPO
    # config, torch.manual_seed(s) for s = 0..399, same batch as _action_mean_square): mean(mu^2) = 1.7463e-05
    # (RMS 0.0041789), seed-to-seed coefficient of variation 0.64, no |mu| > 1.
    ref_ms, ref_cv, ref_n = 1.7463e-05, 0.64, 400
    k = 64
    ms, frac = _action_mean_square(k)
    # Relative SE of the two means: ours cv ~ 0.8 (the same statistic; 0.79 measured) over 64 inits, the
    # reference's 0.64 over 400: sqrt(0.8^2/64 + 0.64^2/400) = 0.105; allow 4 SE.
    assert abs(ms / ref_ms - 1) <= 4 * math.sqrt(0.8**2 / k + ref_cv**2 / ref_n), ms
    assert frac == 0.0
    # The YAML-named kaiming_normal (our previous init) starts ~100x larger in RMS (0.49 measured) and puts
    # a few per cent of the means beyond the action bound 1.
    ms_k, frac_k = _action_mean_square(16, init_scheme="kaiming_normal")
    assert math.sqrt(ms_k / ref_ms) > 30 and frac_k > 0.01
    with pytest.raises(ValueError, match="kaiming_normal"):
        _params("softmod", t=3, num_layers=2, module_hidden=4, state_hidden=(4,), task_hidden=(4,),
                init_scheme="xavier")


@pytest.mark.parametrize("name", ["mlp", "multihead"])
@pytest.mark.parametrize("suite", ["mt10", "go1"])
def test_mtbench_mlp_presets_start_with_zero_biases_and_torch_weights(name, suite):
    # rl_games 1.6.1's A2CBuilder (MTBench's "actor_critic") and MTBench's multihead_a2c_builder run
    # zeros_(m.bias) on every nn.Linear; the weights keep PyTorch's default U(+-1/sqrt(fan_in)) ("default")
    t = 10 if suite == "mt10" else 21
    d = 39 if suite == "mt10" else 212
    net = nets.make_net(name, out_dim=4, num_tasks=t, **presets.preset(name, suite))
    p = jax.jit(net.init)(_key(0), *_inputs(t, d))["params"]
    flat = {"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(p).items()}
    biases = [v for k, v in flat.items() if k.endswith("bias")]
    kernels = {k: v for k, v in flat.items() if k.endswith("kernel")}
    assert len(biases) == len(kernels) == 4 and all(np.all(b == 0.0) for b in biases)
    first = min(kernels, key=lambda k: (len(k), k))
    fan_in = kernels[first].shape[-2]
    _uniform(kernels[first], -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
