"""Multi-task gradient transforms: optax Aggregators over task-stacked gradients ``[T, ...]``.

Baselines ``mean``/``sum``; methods ``pcgrad``, ``cagrad``, ``famo``, ``imtl_g``, ``aligned_mtl``, ``upgrad``,
``nash_mtl``;
``make_mtrl`` applies one to the critic/actor/all parameters; ``diagnostics`` reads their logged statistics.
"""

from mtjax.transforms.aligned_mtl import AlignedMTLState, aligned_mtl
from mtjax.transforms.base import Aggregator, MeanState, mean, process, sum
from mtjax.transforms.cagrad import CAGradState, cagrad
from mtjax.transforms.diagnostics import diagnostics
from mtjax.transforms.famo import FAMOState, famo
from mtjax.transforms.imtl_g import IMTLGState, imtl_g
from mtjax.transforms.nash_mtl import NashMTLState, nash_mtl
from mtjax.transforms.pcgrad import PCGradState, pcgrad
from mtjax.transforms.registry import make_method, make_mtrl, method_names
from mtjax.transforms.upgrad import UPGradState, upgrad

__all__ = [
    "Aggregator",
    "AlignedMTLState",
    "CAGradState",
    "FAMOState",
    "IMTLGState",
    "MeanState",
    "NashMTLState",
    "PCGradState",
    "UPGradState",
    "aligned_mtl",
    "cagrad",
    "diagnostics",
    "famo",
    "imtl_g",
    "make_method",
    "make_mtrl",
    "mean",
    "method_names",
    "nash_mtl",
    "pcgrad",
    "process",
    "sum",
    "upgrad",
]
