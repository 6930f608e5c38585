"""mtjax: JAX-first massively parallel multi-task reinforcement learning (MTBench re-implementation)."""

__version__ = "0.1.0"
