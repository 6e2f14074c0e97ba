"""A SonoNet-style fully convolutional classifier (design §3.6), for 2D images or 3D volumes.

Layout: five VGG-like blocks of conv3x3 + batch norm + ReLU with ``k, 2k, 4k, 8k, 8k`` channels
and a max-pool after each of the first four; an "adaptation" 1x1 conv (+BN+ReLU) to half the
channels; a 1x1 conv to one *class map* per class; global average pooling gives the logits.
Because the logits are plain averages of the class maps, the maps show where the network
finds evidence for each class (like CAM).

Names matter for saliency methods: every ReLU module's name contains ``relu`` (MONAI's guided
backprop only swaps modules whose name contains "relu"), and :attr:`SonoNet.gradcam_layer`
names the last convolutional feature layer for Grad-CAM.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from medai_edu.models.layers import conv_bn_relu_block, conv_layer, norm_layer, pool_layer
from medai_edu.validation import Interval, check_images, check_scalar

__all__ = [
    "SONONET_BLOCKS",
    "SonoNet",
]

#: The published SonoNet block depths (convs per block), also the course's default.
SONONET_BLOCKS = (2, 2, 3, 3, 3)


class SonoNet(nn.Module):
    """SonoNet-style classifier. ``forward(x) -> logits [B, num_classes]``.

    Args:
        spatial_dims: 2 for images ``[B, C, H, W]``, 3 for volumes ``[B, C, D, H, W]``.
        in_channels: image channels (1 for grey-scale scans).
        num_classes: number of classes (2 for healthy / diseased).
        k: channels of the first block (SonoNet used 16, 32 or 64; the toy model uses 8 so that
            it trains in about a minute on one CPU core).
        blocks: convs per block, five entries (SonoNet: 2, 2, 3, 3, 3).
    """

    kind = "sononet"  # name for medai_edu.pretrained.build_model

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 2,
        k: int = 8,
        blocks: Sequence[int] = SONONET_BLOCKS,
    ) -> None:
        super().__init__()
        if len(blocks) != 5 or any(int(b) < 1 for b in blocks):
            raise ValueError(
                f"blocks must list five positive conv counts (e.g. {SONONET_BLOCKS}), got {tuple(blocks)}."
            )
        check_scalar(num_classes, "num_classes", Interval(2, integer=True))
        self.config: dict[str, Any] = dict(
            spatial_dims=spatial_dims, in_channels=in_channels, num_classes=num_classes, k=k, blocks=list(blocks)
        )
        widths = (k, 2 * k, 4 * k, 8 * k, 8 * k)
        features: OrderedDict[str, nn.Module] = OrderedDict()
        in_ch = in_channels
        for i, (width, n_convs) in enumerate(zip(widths, blocks), start=1):
            features[f"block{i}"] = conv_bn_relu_block(spatial_dims, in_ch, width, int(n_convs))
            if i < 5:
                features[f"pool{i}"] = pool_layer(spatial_dims)
            in_ch = width
        self.features = nn.Sequential(features)
        adapt = widths[-1] // 2
        self.adaptation = nn.Sequential(
            OrderedDict(
                conv=conv_layer(spatial_dims, in_ch, adapt, kernel_size=1, bias=False),
                bn=norm_layer(spatial_dims, adapt),
                relu=nn.ReLU(),
            )
        )
        self.class_conv = conv_layer(spatial_dims, adapt, num_classes, kernel_size=1)
        self.spatial_dims = spatial_dims
        #: name (as in ``named_modules()``) of the last conv feature layer, for Grad-CAM
        self.gradcam_layer = f"features.block5.relu{int(blocks[-1])}"

    def class_maps(self, x: torch.Tensor) -> torch.Tensor:
        """One map per class before pooling: ``[B, num_classes, h, w(, d)]`` at 1/16 resolution."""
        check_images(x, "SonoNet's input", spatial_dims=self.spatial_dims, channels=self.config["in_channels"])
        return self.class_conv(self.adaptation(self.features(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.class_maps(x).flatten(2).mean(-1)
