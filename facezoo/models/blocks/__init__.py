"""Building blocks shared by more than one facezoo network."""

from facezoo.models.blocks.resnet import BasicBlock, ResNetTrunk
