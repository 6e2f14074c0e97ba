"""Layer builders shared by the course's networks, for 2D images or 3D volumes."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from medai_edu.validation import Options, check_option

__all__ = [
    "SPATIAL_DIMS",
    "conv_bn_relu_block",
    "conv_layer",
    "norm_layer",
    "pool_layer",
]

#: The networks take images (2) or volumes (3).
SPATIAL_DIMS = Options([2, 3], {2: "images", 3: "volumes"})


def conv_layer(spatial_dims: int, in_ch: int, out_ch: int, kernel_size: int = 3, bias: bool = True) -> nn.Module:
    """A ``spatial_dims``-D convolution with 'same' padding (odd kernel sizes)."""
    check_option(spatial_dims, "spatial_dims", SPATIAL_DIMS)
    conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
    return conv(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=bias)


def norm_layer(spatial_dims: int, channels: int) -> nn.Module:
    return (nn.BatchNorm2d if spatial_dims == 2 else nn.BatchNorm3d)(channels)


def pool_layer(spatial_dims: int) -> nn.Module:
    return (nn.MaxPool2d if spatial_dims == 2 else nn.MaxPool3d)(2)


def conv_bn_relu_block(spatial_dims: int, in_ch: int, out_ch: int, n_convs: int, kernel_size: int = 3) -> nn.Sequential:
    """``n_convs`` x (conv + BN + ReLU), children named conv1, bn1, relu1, conv2, ..."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i in range(1, n_convs + 1):
        layers[f"conv{i}"] = conv_layer(spatial_dims, in_ch if i == 1 else out_ch, out_ch, kernel_size, bias=False)
        layers[f"bn{i}"] = norm_layer(spatial_dims, out_ch)
        layers[f"relu{i}"] = nn.ReLU()
    return nn.Sequential(layers)
