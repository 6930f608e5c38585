"""CARE: contextual attention-based representations (Sodhani, Zhang and Pineau, "Multi-Task Reinforcement
Learning with Context-based Representations", ICML 2021, arXiv 2102.06177), as configured in MTBench
(``care_a2c``).

* ``E`` encoders (experts) on the true observation, each Linear(D->50) -> ReLU -> Linear(50->50)
  (MTBench's ``moe_layer.FeedForward``; ``ExpertMLP``).
* Context: a frozen sentence embedding of the task's description -> ReLU -> Linear(->1536) -> ReLU ->
  Linear(->768) -> ReLU -> MLP [50, 50] ReLU = ``z_ctx``. MTBench uses 768-d RoBERTa vectors; we ship
  384-d all-MiniLM-L6-v2 vectors of our own task descriptions (``scripts/make_care_embeddings.py``, computed
  offline; ``care_embeddings/metaworld-mt{10,50}.json``), so the first context layer has
  ``(768 - 384) * 1536 = 589,824`` weights fewer than MTBench's; ``embedding_file=`` reads MTBench's own
  768-d JSON (``{task-name: vector}``) and restores its exact parameter count. ``embedding="learned"``
  replaces them by a learned ``Embed(T, embedding_dim)`` (for task sets without descriptions: toy env, Go1).
* Attention: ``alpha = softmax(stop_gradient(z_ctx) . expert_e / temperature)`` over the ``E`` encoders;
  ``z_enc = sum_e alpha_e expert_e`` -> MLP [50, 50] ReLU.
* Trunk on ``[z_enc, z_ctx]``: MLP [400, 400, 400] ReLU -> one linear head (SH-CARE) or one per task (MH-CARE).

Initialisation follows the code MTBench executes (``care_a2c_builder.CAREPPONetwork``; the YAML
``initializer`` keys are never read): encoders as MOORE's experts (``ExpertMLP``: xavier over the whole
``[E, in, out]`` tensor, ``torch.rand`` biases; ``init_scheme="per_expert"`` is the fix); the two context
projections keep PyTorch's default; the context MLP is xavier gain ``sqrt 2`` with PyTorch's default bias;
the mixture (attention) MLP and the trunk are xavier gain 1 with zero bias
(``soft_modularized_network.weight_init``); the head(s) xavier gain 1 with PyTorch's default bias. See
docs/deviations.md, "Network initialisation (MTBench parity)".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from mtjax.nets.layers import MLP, RELU_GAIN, ExpertMLP, TaskHeads, TorchDense, xavier_uniform_torch
from mtjax.nets.moore import check_inputs, split_obs

__all__ = ["EMBEDDING_FILES", "CARENet", "MultiHeadCARENet", "load_embedding_file", "load_task_embeddings"]

EMBEDDING_FILES = {"mt10": "metaworld-mt10.json", "mt50": "metaworld-mt50.json"}


@functools.cache
def _read(suite: str) -> dict:
    if suite not in EMBEDDING_FILES:
        raise ValueError(f"unknown embedding suite {suite!r}; valid: {sorted(EMBEDDING_FILES)}")
    text = resources.files("mtjax.nets.care_embeddings").joinpath(EMBEDDING_FILES[suite]).read_text()
    return json.loads(text)


def load_task_embeddings(suite: str = "mt50", task_names: Sequence[str] | None = None) -> np.ndarray:
    """Frozen task embeddings ``[T, 384]`` from the packaged JSON (no network access).

    Args:
      suite: "mt10" or "mt50" (rows in one-hot order, i.e. ascending Meta-World task id).
      task_names: if given, the rows for these names in this order (looked up in the suite's file; "-" and "_"
        are interchangeable).

    Raises:
      ValueError: unknown suite or task name (lists the valid names).
    """
    data = _read(suite)
    emb = np.asarray(data["embeddings"], np.float32)
    if task_names is None:
        return emb
    names = data["task_names"]
    rows = []
    for n in task_names:
        key = n.replace("-", "_")
        if key not in names:
            raise ValueError(f"no CARE embedding for task {n!r}; valid: {', '.join(names)}")
        rows.append(names.index(key))
    return emb[np.asarray(rows)]


def _suite_names(suite: str) -> list[str]:
    return list(_read(suite)["task_names"])


@functools.cache
def _read_file(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def load_embedding_file(path: str, task_names: Sequence[str]) -> np.ndarray:
    """Rows ``[T, d]`` of a JSON ``{task-name: vector}`` (MTBench's ``metadata/task_embedding`` format).

    Args:
      path: the JSON file, e.g. MTBench's ``roberta_small/metaworld-mt10.json`` (768-d).
      task_names: the rows to take, in one-hot order ("-" and "_" are interchangeable).

    Raises:
      ValueError: a task name missing from the file (lists the file's names).
    """
    data = {k.replace("-", "_"): v for k, v in _read_file(path).items()}
    rows = []
    for n in task_names:
        key = n.replace("-", "_")
        if key not in data:
            raise ValueError(f"no embedding for task {n!r} in {path}; valid: {', '.join(sorted(data))}")
        rows.append(np.asarray(data[key], np.float32))
    return np.stack(rows)


class CARENet(nn.Module):
    """CARE ``(x [B, D + T], task_id [B]) -> [B, out_dim]``; sows ``intermediates/attention`` ``[B, E]``.

    Attributes:
      out_dim: output size.
      num_tasks: ``T``.
      num_experts: encoders ``E`` (MTBench 6).
      expert_hidden: encoder width (MTBench 50 Meta-World, 128 Go1).
      attention_hidden: MLP widths after the mixture and at the end of the context encoder (50, 50).
      context_hidden: widths of the context encoder's first layers (MTBench 1536, 768 for 768-d RoBERTa).
      trunk: trunk widths (400, 400, 400).
      temperature: attention softmax temperature (1.0).
      embedding: "auto" (the packaged MT10/MT50 file when T is 10/50, else learned), "mt10", "mt50" or "learned".
      task_names: rows to take from the MT50 file (any task subset), in one-hot order.
      embedding_dim: width of the learned fallback embedding.
      embedding_file: a JSON ``{task-name: vector}`` to read instead of the packaged vectors (MTBench's 768-d
        RoBERTa file gives MTBench's exact parameter count); rows follow ``task_names``, else the packaged
        suite's order (``embedding`` "mt10"/"mt50", or "auto" with T = 10/50).
      multi_head: one head per task (MH-CARE).
      init_scheme: encoder initialisation, "mtbench" (parity, default) or "per_expert" (see ``ExpertMLP``).
    """

    out_dim: int
    num_tasks: int
    num_experts: int = 6
    expert_hidden: int = 50
    attention_hidden: Sequence[int] = (50, 50)
    context_hidden: Sequence[int] = (1536, 768)
    trunk: Sequence[int] = (400, 400, 400)
    temperature: float = 1.0
    embedding: str = "auto"
    task_names: Sequence[str] | None = None
    embedding_dim: int = 384
    embedding_file: str | None = None
    multi_head: bool = False
    init_scheme: str = "mtbench"

    def _task_embedding(self, task_id: jax.Array) -> jax.Array:
        mode = self.embedding
        if mode == "auto":
            mode = "names" if self.task_names else {10: "mt10", 50: "mt50"}.get(self.num_tasks, "learned")
        if self.embedding_file is not None:
            if mode not in ("names", "mt10", "mt50"):
                raise ValueError(
                    "embedding_file needs task_names (or T = 10/50 for the packaged order), "
                    f"num_tasks={self.num_tasks}"
                )
            names = list(self.task_names) if self.task_names else _suite_names(mode)
            table = load_embedding_file(self.embedding_file, names)
            if table.shape[0] != self.num_tasks:
                raise ValueError(f"embedding_file has {table.shape[0]} rows but num_tasks={self.num_tasks}")
            return jnp.asarray(table)[task_id]
        if mode == "learned":
            return nn.Embed(self.num_tasks, self.embedding_dim, name="task_embedding")(task_id)
        if mode in ("names", "mt10", "mt50"):
            table = (
                load_task_embeddings("mt50", self.task_names)
                if self.task_names
                else load_task_embeddings(mode)
            )
            if table.shape[0] != self.num_tasks:
                raise ValueError(
                    f"CARE embedding {mode!r} has {table.shape[0]} tasks but num_tasks={self.num_tasks}"
                )
            return jnp.asarray(table)[task_id]
        raise ValueError(f"unknown CARE embedding {self.embedding!r}; valid: auto, learned, mt10, mt50")

    @nn.compact
    def __call__(self, x: jax.Array, task_id: jax.Array) -> jax.Array:
        check_inputs(x, task_id, self.num_tasks)
        obs, _ = split_obs(x, self.num_tasks)
        enc = ExpertMLP(self.num_experts, (self.expert_hidden,) * 2, self.init_scheme, name="encoders")(obs)
        ctx = nn.relu(self._task_embedding(task_id))  # [B, d]
        for i, width in enumerate(self.context_hidden):
            ctx = nn.relu(TorchDense(width, name=f"context_{i}")(ctx))
        relu_xavier = xavier_uniform_torch(RELU_GAIN)
        z_ctx = MLP(tuple(self.attention_hidden), "relu", kernel_init=relu_xavier, name="context_mlp")(ctx)
        if z_ctx.shape[-1] != self.expert_hidden:
            raise ValueError(
                f"attention_hidden[-1]={z_ctx.shape[-1]} must equal expert_hidden={self.expert_hidden}"
            )
        scores = jnp.einsum("bh,beh->be", jax.lax.stop_gradient(z_ctx), enc) / self.temperature
        alpha = jax.nn.softmax(scores, axis=-1)
        self.sow("intermediates", "attention", alpha)
        xavier, zeros = xavier_uniform_torch(1.0), nn.initializers.zeros
        z_enc = MLP(tuple(self.attention_hidden), "relu", xavier, zeros, name="mixture_mlp")(
            jnp.einsum("be,beh->bh", alpha, enc)
        )
        h = jnp.concatenate([z_enc, z_ctx], axis=-1)
        for i, width in enumerate(self.trunk):
            h = nn.relu(nn.Dense(width, kernel_init=xavier, bias_init=zeros, name=f"trunk_{i}")(h))
        if self.multi_head:  # head bias: PyTorch's default
            return TaskHeads(self.num_tasks, self.out_dim, kernel_init=xavier, name="heads")(h, task_id)
        return TorchDense(self.out_dim, kernel_init=xavier, name="head")(h)


class MultiHeadCARENet(CARENet):
    """MH-CARE: ``CARENet`` with one linear head per task (same attributes, ``multi_head=True``)."""

    multi_head: bool = True
