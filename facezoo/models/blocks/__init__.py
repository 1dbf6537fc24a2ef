"""Building blocks shared by more than one facezoo network."""

from facezoo.models.blocks.began import BeganDecoder, BeganEncoder
from facezoo.models.blocks.mlp import MLP
from facezoo.models.blocks.resnet import BasicBlock, ResNetTrunk
