"""Multi-task gradient transforms: optax Aggregators over task-stacked gradients ``[T, ...]``.

Baselines ``mean``/``sum``; methods ``pcgrad``, ``cagrad``, ``famo``, ``imtl_g``, ``aligned_mtl``, ``upgrad``;
``make_mtrl`` applies one to the critic/actor/all parameters; ``diagnostics`` reads their logged statistics.
"""

from mtjax.transforms.aligned_mtl import AlignedMTLState, aligned_mtl
from mtjax.transforms.base import Aggregator, MeanState, mean, process, sum  # noqa: A004
from mtjax.transforms.cagrad import CAGradState, cagrad
from mtjax.transforms.diagnostics import diagnostics
from mtjax.transforms.famo import FAMOState, famo
from mtjax.transforms.imtl_g import IMTLGState, imtl_g
from mtjax.transforms.pcgrad import PCGradState, pcgrad
from mtjax.transforms.registry import make_method, make_mtrl, method_names
from mtjax.transforms.upgrad import UPGradState, upgrad

__all__ = [
    "Aggregator", "MeanState", "mean", "process", "sum",
    "pcgrad", "PCGradState", "cagrad", "CAGradState", "famo", "FAMOState",
    "imtl_g", "IMTLGState", "aligned_mtl", "AlignedMTLState", "upgrad", "UPGradState",
    "make_mtrl", "make_method", "method_names", "diagnostics",
]
