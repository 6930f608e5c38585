"""Flax Linen networks for multi-task RL; ``make_net``/``make_actor_critic`` build them by name."""

from mtjax.nets.layers import MLP, TaskHeads, TorchDense
from mtjax.nets.mlp import MLPNet, MultiHeadNet
from mtjax.nets.registry import NETS, ActorCritic, make_actor_critic, make_net, net_names, register_net

__all__ = [
    "MLP", "TaskHeads", "TorchDense", "MLPNet", "MultiHeadNet", "NETS", "ActorCritic",
    "make_actor_critic", "make_net", "net_names", "register_net",
]
