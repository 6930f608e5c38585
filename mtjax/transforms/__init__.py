"""Multi-task gradient transforms (optax Aggregators over task-stacked gradients)."""

from mtjax.transforms.base import Aggregator, MeanState, mean, process, sum  # noqa: A004

__all__ = ["Aggregator", "MeanState", "mean", "process", "sum"]
