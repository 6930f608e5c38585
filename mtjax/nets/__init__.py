"""Flax Linen networks for multi-task RL; ``make_net``/``make_actor_critic`` build them by name."""

from mtjax.nets.bro import BroNet
from mtjax.nets.care import CARENet, MultiHeadCARENet, load_task_embeddings
from mtjax.nets.layers import MLP, TaskHeads, TorchDense
from mtjax.nets.mlp import MLPNet, MultiHeadNet
from mtjax.nets.moore import MOORENet, MultiHeadMOORENet, gram_schmidt
from mtjax.nets.paco import PaCoNet
from mtjax.nets.presets import preset
from mtjax.nets.qnet import QNetwork
from mtjax.nets.registry import (
                                 NETS,
                                 SHARED_BODIES,
                                 ActorCritic,
                                 SharedActorCritic,
                                 make_actor_critic,
                                 make_net,
                                 make_q_network,
                                 net_names,
                                 register_net,
)
from mtjax.nets.simba import SimbaV2Net
from mtjax.nets.softmod import SoftModularNet

__all__ = [
                                 "MLP",
                                 "NETS",
                                 "SHARED_BODIES",
                                 "ActorCritic",
                                 "BroNet",
                                 "CARENet",
                                 "MLPNet",
                                 "MOORENet",
                                 "MultiHeadCARENet",
                                 "MultiHeadMOORENet",
                                 "MultiHeadNet",
                                 "PaCoNet",
                                 "QNetwork",
                                 "SharedActorCritic",
                                 "SimbaV2Net",
                                 "SoftModularNet",
                                 "TaskHeads",
                                 "TorchDense",
                                 "gram_schmidt",
                                 "load_task_embeddings",
                                 "make_actor_critic",
                                 "make_net",
                                 "make_q_network",
                                 "net_names",
                                 "preset",
                                 "register_net",
]
