"""The typed run config: a run's ConfigDict (or its ``config.json``) parsed and validated once.

``parse(d)`` turns the nested dict of an ``experiments/configs/*.py`` file (after command-line overrides) into a
frozen ``RunConfig``; every later step (env, networks, trainer, run directory, logging) reads the typed object.
Errors are one line: an unknown key names the valid keys of its section, a bad value names the valid range or
choices, a ``mtrl_kwargs`` / ``net.*_kwargs`` key is checked against the method's or network's signature.
``RunConfig.to_json()`` is what ``config.json`` and every checkpoint record (``parse(rc.to_json()) == rc``).
Every learner section (``ppo``, ``sac``, ``td3``, ``pqn``) is parsed, validated and recorded; only the one of the selected
``algo`` is read (``ALGO_SECTION``). How runs use it: ``docs/runs.md``.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Mapping
from typing import Any

from mtjax.algos import fasttd3, ppo, pqn, sac
from mtjax.nets import registry as net_registry
from mtjax.transforms import base as tx_base
from mtjax.transforms import registry as tx_registry

__all__ = ["ALGOS", "ALGO_SECTION", "OFF_POLICY", "ON_POLICY", "EnvConfig", "NetConfig", "RunConfig",
           "method_options", "net_options", "parse"]

BACKENDS = ("jax", "isaacgym")
ON_POLICY = ("ppo", "grpo", "pqn")  # mtjax.algos.on_policy.LEARNERS
OFF_POLICY = ("sac", "fasttd3")  # mtjax.algos.off_policy learners (mtjax.algos.sac, mtjax.algos.fasttd3)
ALGOS = ON_POLICY + OFF_POLICY
ALGO_SECTION = {"ppo": "ppo", "grpo": "ppo", "pqn": "pqn", "sac": "sac", "fasttd3": "td3"}  # the section read
_MTRL_FIELDS = ("mtrl", "mtrl_target", "mtrl_kwargs")  # top-level keys; fields of PPOConfig, PQNConfig, SACConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnvConfig:
    """The environment section.

    Attributes:
      name: registered env name (``envs_bridge.registry``). num_envs: envs over all tasks.
      kwargs: options forwarded to ``make_env``, as sorted ``(name, value)`` pairs.
    """

    name: str
    num_envs: int
    kwargs: tuple = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class NetConfig:
    """The actor-critic section (``mtjax.nets.make_actor_critic``).

    Attributes:
      actor_net, critic_net: registered network names (``critic_net="shared"``: a value head on the actor trunk).
      preset: MTBench size preset suite ("mt10", "mt50", "go1") or "" for none.
      actor_kwargs, critic_kwargs: network options as sorted ``(name, value)`` pairs; they override the preset.
    """

    actor_net: str = "mlp"
    critic_net: str = "mlp"
    preset: str = ""
    actor_kwargs: tuple = ()
    critic_kwargs: tuple = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """One training run.

    Attributes:
      name: run name (default directory ``runs/<name>-s<seed>``). seed: PRNG seed.
      algo: the learner: on-policy "ppo" (MT-PPO) or "grpo" (MT-GRPO, critic-free), both reading the ``ppo``
        section, and "pqn" (MT-PQN on the on-policy trainer, the ``pqn`` section, the Q-network is
        ``net.critic_net``); off-policy "sac" (MT-SAC, the ``sac`` section) or "fasttd3" (FastTD3, ``td3``).
      env: ``EnvConfig``. ppo: MT-PPO hyper-parameters including the gradient method (``mtrl*``). sac: MT-SAC's
        (``sac.SACConfig``; the top-level ``mtrl*`` keys fill its gradient-method fields when ``algo="sac"``). td3: FastTD3's
        (``fasttd3.TD3Config``). pqn: MT-PQN's (``pqn.PQNConfig``, ``mtrl*`` from the top level). net: networks (off-policy: actor and twin critics; empty ``*_kwargs`` and no
        preset give the learner's MTBench networks).
      run_dir: run directory ("" for the default). env_backend: "jax" or "isaacgym".
      init_params_from: a run directory whose newest checkpoint's network parameters start this run (MTBench's
        two-stage Go1 protocol: flat ground, then the terrains); optimiser, normalisers and envs start fresh.
        MT-PPO / MT-GRPO / MT-PQN; the networks must have the same shapes.
      isaacgym: IsaacGym options as ``(name, value)`` pairs (validated by ``experiments.isaacgym_run``).
      total_iterations: iterations the run trains, exactly. iters_per_call: iterations per jitted call.
      checkpoint_every: iterations between checkpoints (and one at the end).
      max_abs_loss: the divergence guard stops a run whose ``|loss/total|`` exceeds this.
      num_devices: devices of this host the envs are split over (``mtjax.sharding``; 0 = all visible).
      num_seeds: seeds ``seed .. seed + num_seeds - 1`` trained side by side as one XLA program
        (``mtjax.multi_seed``); each logs into ``<run_dir>/seed_<seed>/``, one checkpoint holds them all.
      tensorboard, progress, plot: TensorBoard events, terminal progress line, ``task_success.png``.
    """

    name: str
    seed: int
    algo: str = "ppo"
    env: EnvConfig
    ppo: ppo.PPOConfig = dataclasses.field(default_factory=ppo.PPOConfig)
    sac: sac.SACConfig = dataclasses.field(default_factory=sac.SACConfig)
    td3: fasttd3.TD3Config = dataclasses.field(default_factory=fasttd3.TD3Config)
    pqn: pqn.PQNConfig = dataclasses.field(default_factory=pqn.PQNConfig)
    net: NetConfig = dataclasses.field(default_factory=NetConfig)
    run_dir: str = ""
    init_params_from: str = ""
    env_backend: str = "jax"
    isaacgym: tuple = ()
    total_iterations: int
    iters_per_call: int = 10
    checkpoint_every: int = 100
    max_abs_loss: float = 1e12
    num_devices: int = 0
    num_seeds: int = 1
    tensorboard: bool = True
    progress: bool = True
    plot: bool = True

    @property
    def learner_config(self) -> ppo.PPOConfig | sac.SACConfig | fasttd3.TD3Config:
        """The section the selected ``algo`` reads (``ALGO_SECTION``)."""
        return getattr(self, ALGO_SECTION[self.algo])

    @property
    def directory(self) -> str:
        return self.run_dir or os.path.join("runs", f"{self.name}-s{self.seed}")

    def to_json(self) -> dict:
        """The ConfigDict layout as JSON (``mtrl*`` at the top level, kwargs as dicts, tuples as lists)."""
        out = _jsonable(dataclasses.asdict(self))
        for k in _MTRL_FIELDS:
            out[k] = out["ppo"].pop(k)
            out["sac"].pop(k)
            out["pqn"].pop(k)
        out["mtrl_kwargs"] = _pairs_to_dict(self.ppo.mtrl_kwargs)
        out["env"]["kwargs"] = _pairs_to_dict(self.env.kwargs)
        out["net"]["actor_kwargs"] = _pairs_to_dict(self.net.actor_kwargs)
        out["net"]["critic_kwargs"] = _pairs_to_dict(self.net.critic_kwargs)
        out["isaacgym"] = _pairs_to_dict(self.isaacgym)
        return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _pairs_to_dict(pairs: tuple) -> dict:
    return {k: _jsonable(v) for k, v in pairs}


def _frozen(x: Any) -> Any:
    """Lists -> tuples, recursively (hashable option values)."""
    if isinstance(x, (list, tuple)):
        return tuple(_frozen(v) for v in x)
    if isinstance(x, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in x.items()))
    return x


def _as_dict(x: Any, where: str) -> dict:
    if hasattr(x, "to_dict"):
        x = x.to_dict()
    if not isinstance(x, Mapping):
        raise ValueError(f"config.{where} must be a section (dict), got {x!r}")  # noqa: TRY004 - one error class
    return dict(x)


_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "tuple": tuple}


def _check_value(where: str, value: Any, want: type) -> Any:
    """Type check: bool, int, float (ints accepted), str, or kwargs pairs (``tuple`` fields take a dict)."""
    if want is bool:
        ok = isinstance(value, bool)
    elif want is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif want is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif want is tuple:
        ok = value is None or isinstance(value, Mapping) or hasattr(value, "to_dict")
        value = _frozen(_as_dict(value or {}, where)) if ok else value
    else:
        ok = isinstance(value, want)
    if not ok:
        raise ValueError(f"config.{where}={value!r} must be of type {want.__name__}")
    return value


def _fields(cls: type, d: Mapping, section: str, skip: tuple = (), also: tuple = ()) -> dict:
    """``d`` checked against ``cls``'s fields: unknown keys, missing required keys and wrong types are one-line
    errors naming the valid keys (``also``: more valid keys of the section, parsed elsewhere)."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    prefix = f"{section}." if section else ""
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(prefix + k for k in unknown)} in config{'.' + section if section else ''}; "
                         f"valid: {', '.join(sorted(set(fields) | set(also)))}")
    missing = sorted(k for k, f in fields.items() if k not in d and f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING)
    if missing:
        raise ValueError(f"config is missing the required key(s) {', '.join(prefix + k for k in missing)}")
    out = {}
    for k, v in d.items():
        f = fields[k]
        want = _TYPES.get(f.type) if isinstance(f.type, str) else f.type
        out[k] = v if want is None else _check_value(prefix + k, v, want)  # sections are parsed by the caller
    return out


def _options(fn: Any, drop: tuple = ()) -> set[str]:
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds} - set(drop)


def method_options(method: str) -> set[str]:
    """Valid ``mtrl_kwargs`` keys of a gradient method (its factory's keywords plus ``make_mtrl``'s scales)."""
    if method not in tx_registry.METHODS:
        raise ValueError(f"config.mtrl={method!r} is not a method; valid: {', '.join(tx_registry.method_names())}")
    fn = {"mean": tx_base.mean, "sum": tx_base.sum}.get(method, tx_registry.METHODS[method])
    return _options(fn, ("num_tasks",)) | {"output_scale", "loss_scale"}


def net_options(net: str, role: str) -> set[str]:
    """Valid ``net.<role>_kwargs`` keys of a registered network (``critic_net`` "shared" and "none" take none)."""
    if role == "critic" and net in (net_registry.SHARED, net_registry.NO_CRITIC):
        return set()
    if net not in net_registry.NETS:
        extra = f", {net_registry.SHARED}, {net_registry.NO_CRITIC}" if role == "critic" else ""
        raise ValueError(f"config.net.{role}_net={net!r} is not a network; valid: "
                         f"{', '.join(net_registry.net_names())}{extra}")
    return set(net_registry.NETS[net].__dataclass_fields__) - {"parent", "name", "out_dim", "num_tasks"}


def _check_options(where: str, pairs: tuple, valid: set[str]) -> None:
    bad = sorted(k for k, _ in pairs if k not in valid)
    if bad:
        raise ValueError(f"unknown option(s) {bad} in config.{where}; valid: {', '.join(sorted(valid)) or 'none'}")


def _check_ranges(rc: RunConfig) -> None:
    for key in ("total_iterations", "iters_per_call", "checkpoint_every"):
        if getattr(rc, key) < 1:
            raise ValueError(f"config.{key} must be >= 1, got {getattr(rc, key)}")
    if rc.env.num_envs < 1:
        raise ValueError(f"config.env.num_envs must be >= 1, got {rc.env.num_envs}")
    if rc.init_params_from and (rc.algo not in ON_POLICY or rc.num_seeds > 1):
        raise ValueError(f"config.init_params_from works for algo ppo, grpo or pqn with num_seeds 1 (got "
                         f"{rc.algo!r}, {rc.num_seeds})")
    if rc.num_seeds < 1:
        raise ValueError(f"config.num_seeds must be >= 1, got {rc.num_seeds}")
    if rc.num_seeds > 1 and (rc.env_backend != "jax" or rc.num_devices > 1):
        raise ValueError(f"config.num_seeds={rc.num_seeds} runs on env_backend='jax' with num_devices 0 or 1 "
                         f"(got {rc.env_backend!r}, {rc.num_devices}); start one run per seed instead")
    if rc.num_devices < 0:
        raise ValueError(f"config.num_devices must be >= 0 (0 = all visible devices), got {rc.num_devices}")
    if not rc.max_abs_loss > 0:
        raise ValueError(f"config.max_abs_loss must be > 0, got {rc.max_abs_loss}")
    if rc.env_backend not in BACKENDS:
        raise ValueError(f"config.env_backend={rc.env_backend!r}; valid: {', '.join(BACKENDS)}")
    _check_algo(rc)
    batch, mb = rc.env.num_envs * rc.ppo.horizon, rc.ppo.minibatch_size
    if rc.algo in ("ppo", "grpo") and (mb > batch or batch % mb):
        divs = [d for d in range(1, batch + 1) if batch % d == 0]
        near = sorted(divs, key=lambda d: abs(d - mb))[:3]
        raise ValueError(f"config.ppo.minibatch_size={mb} must divide the batch env.num_envs * ppo.horizon = "
                         f"{rc.env.num_envs} * {rc.ppo.horizon} = {batch}; nearest valid: {sorted(near)}")


def _check_algo(rc: RunConfig) -> None:
    """The learner's requirements on the network, backend and gradient method (one-line errors)."""
    p, critic = rc.ppo, rc.net.critic_net
    if rc.algo not in ALGOS:
        raise ValueError(f"config.algo={rc.algo!r}; valid: {', '.join(ALGOS)}")
    if rc.algo in OFF_POLICY or rc.algo == "pqn":
        _check_off_policy(rc)
        return
    if rc.algo == "ppo" and critic == net_registry.NO_CRITIC:
        raise ValueError("config.net.critic_net='none' is for algo='grpo'; MT-PPO needs a critic (e.g. mlp)")
    if rc.algo == "grpo":
        if rc.env_backend != "jax":
            raise ValueError(f"config.algo='grpo' runs on env_backend='jax' only (got {rc.env_backend!r})")
        if critic == net_registry.NO_CRITIC and p.mtrl != "mean" and p.mtrl_target == "critic":
            raise ValueError(f"config.mtrl={p.mtrl!r} with algo='grpo': MT-GRPO has no critic, set "
                             f"config.mtrl_target to actor or both")
        if p.mtrl == "famo" and not p.grpo_exp_loss:
            raise ValueError("config.mtrl='famo' with algo='grpo' needs config.ppo.grpo_exp_loss=True (FAMO needs "
                             "positive task losses; MTBench's FAMO-GRPO)")
    if p.normalize_value and p.value_norm == "popart" and (rc.algo != "ppo" or critic == net_registry.NO_CRITIC):
        raise ValueError("config.ppo.value_norm='popart' is an MT-PPO critic option (algo='ppo' with a critic)")


def _check_off_policy(rc: RunConfig) -> None:
    """MT-SAC / FastTD3 (the jitted off-policy driver: an actor and twin critics) and MT-PQN (a Q-network, the
    ``critic_net``): JAX envs, registered critic networks."""
    if rc.env_backend != "jax":
        raise ValueError(f"config.algo={rc.algo!r} runs on env_backend='jax' only (the IsaacGym host loop is not "
                         f"wired for it), got {rc.env_backend!r}")
    if rc.net.critic_net in (net_registry.SHARED, net_registry.NO_CRITIC):
        need = "a Q-network (e.g. qnet)" if rc.algo == "pqn" else "twin critic networks (e.g. mlp, simba)"
        raise ValueError(f"config.net.critic_net={rc.net.critic_net!r} with algo={rc.algo!r}: it needs {need}")
    if rc.algo == "fasttd3" and rc.ppo.mtrl != "mean":
        raise ValueError(f"config.mtrl={rc.ppo.mtrl!r} with algo='fasttd3': FastTD3's gradient path is the plain "
                         f"task mean (valid: mean); use algo='sac' for gradient methods")


def parse(d: Any) -> RunConfig:
    """Validates a run config (ConfigDict, dict or ``config.json``) and returns the frozen ``RunConfig``.

    Raises:
      ValueError: one line naming the bad key and its valid keys, range or choices.
    """
    if isinstance(d, RunConfig):
        return d
    top_d = _as_dict(d, "")
    top = _fields(RunConfig, {k: v for k, v in top_d.items() if k not in _MTRL_FIELDS}, "", also=_MTRL_FIELDS)
    env = EnvConfig(**_fields(EnvConfig, _as_dict(top["env"], "env"), "env"))
    net = NetConfig(**_fields(NetConfig, _as_dict(top.get("net", {}), "net"), "net"))
    mtrl = _fields(ppo.PPOConfig, {k: top_d[k] for k in _MTRL_FIELDS if k in top_d}, "")
    pcfg = _fields(ppo.PPOConfig, _as_dict(top.get("ppo", {}), "ppo"), "ppo", skip=_MTRL_FIELDS)
    pc = ppo.PPOConfig(**pcfg, **mtrl)
    method_options(pc.mtrl)  # a bad method name is one line before the SAC section checks it
    algo = top.get("algo")  # the top-level mtrl* fill PPOConfig's (config.json's home) and the selected section's
    sc = sac.SACConfig(**_fields(sac.SACConfig, _as_dict(top.get("sac", {}), "sac"), "sac", skip=_MTRL_FIELDS),
                       **(mtrl if algo == "sac" else {}))
    tc = fasttd3.TD3Config(**_fields(fasttd3.TD3Config, _as_dict(top.get("td3", {}), "td3"), "td3"))
    qc = pqn.PQNConfig(**_fields(pqn.PQNConfig, _as_dict(top.get("pqn", {}), "pqn"), "pqn", skip=_MTRL_FIELDS),
                       **(mtrl if algo == "pqn" else {}))
    top.update(env=env, net=net, ppo=pc, sac=sc, td3=tc, pqn=qc)
    rc = RunConfig(**top)
    _check_ranges(rc)
    _check_options("mtrl_kwargs", pc.mtrl_kwargs, method_options(pc.mtrl))
    _check_options("net.actor_kwargs", net.actor_kwargs, net_options(net.actor_net, "actor"))
    _check_options("net.critic_kwargs", net.critic_kwargs, net_options(net.critic_net, "critic"))
    return rc
