"""The network: timm ``vit_small_patch16_384`` with its ImageNet head replaced by
``Linear(384, 1)``. Built from code only (``pretrained=False``: no download, ever)."""

from __future__ import annotations

from functools import cache

import timm
import torch
from torch import nn

ARCHITECTURE = "vit_small_patch16_384"
INPUT_SIDE = 384  # the network takes 384x384 pixels


def build_network() -> nn.Module:
    model = timm.create_model(ARCHITECTURE, pretrained=False, num_classes=1)
    model.eval()
    return model


@cache
def expected_shapes() -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        model = timm.create_model(ARCHITECTURE, pretrained=False, num_classes=1)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}
