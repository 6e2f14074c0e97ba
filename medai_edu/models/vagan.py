"""VA-GAN networks (design §3.2): a U-Net *map generator* and a Wasserstein *critic*, 2D or 3D.

The generator looks at a diseased image ``x`` and proposes an additive map ``M(x)``; the image
``y = x + M(x)`` should look healthy to the critic. The disease effect is therefore ``-M(x)``.
The critic gives a real-valued score per image (no sigmoid, no batch norm — WGAN-GP needs
neither); a *lower* score means "more like the real healthy images" (see :class:`Critic`).
Training lives in :mod:`medai_edu.training.vagan`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from medai_edu.models.inference import predict
from medai_edu.models.layers import conv_bn_relu_block, conv_layer, pool_layer
from medai_edu.validation import Options, check_images, check_option

__all__ = [
    "CRITIC_WIDTHS",
    "Critic",
    "GENERATOR_WIDTHS",
    "MapGenerator",
    "disease_effect",
]

GENERATOR_WIDTHS = (16, 32, 64, 128)
CRITIC_WIDTHS = (16, 32, 64, 128, 256)


def _up_layer(spatial_dims: int, in_ch: int, out_ch: int) -> nn.Module:
    up = nn.ConvTranspose2d if spatial_dims == 2 else nn.ConvTranspose3d
    return up(in_ch, out_ch, kernel_size=2, stride=2)


class MapGenerator(nn.Module):
    """U-Net with 3 poolings (``widths`` 16/32/64/128), conv+BN+ReLU, a linear 1x1 output.

    ``forward(x)`` returns the map ``M(x)`` (same shape as ``x``); :meth:`translate` returns
    ``y = x + M(x)`` or, with ``output="tanh"``, ``y = tanh(x + M(x))`` (the original's variant).
    Spatial sizes must be divisible by 8.
    """

    kind = "vagan_generator"  # name for medai_edu.pretrained.build_model

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        widths: Sequence[int] = GENERATOR_WIDTHS,
        output: str = "linear",
    ) -> None:
        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"widths must list 4 channel counts (3 poolings), got {tuple(widths)}.")
        check_option(output, "output", Options(["linear", "tanh"], {"linear": "y = x + M", "tanh": "y = tanh(x + M)"}))
        self.config: dict[str, Any] = dict(
            spatial_dims=spatial_dims, in_channels=in_channels, widths=list(widths), output=output
        )
        self.spatial_dims, self.in_channels, self.output = spatial_dims, in_channels, output
        w = [int(v) for v in widths]
        self.down = nn.ModuleList()
        in_ch = in_channels
        for width in w[:3]:
            self.down.append(conv_bn_relu_block(spatial_dims, in_ch, width, 2))
            in_ch = width
        self.pool = pool_layer(spatial_dims)
        self.bottom = conv_bn_relu_block(spatial_dims, w[2], w[3], 2)
        self.up = nn.ModuleList()
        self.decode = nn.ModuleList()
        for deep, shallow in ((w[3], w[2]), (w[2], w[1]), (w[1], w[0])):
            self.up.append(_up_layer(spatial_dims, deep, shallow))
            self.decode.append(conv_bn_relu_block(spatial_dims, 2 * shallow, shallow, 2))
        self.out = conv_layer(spatial_dims, w[0], in_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "MapGenerator's input", spatial_dims=self.spatial_dims, channels=self.in_channels, divisor=8)
        skips = []
        h = x
        for block in self.down:
            h = block(h)
            skips.append(h)
            h = self.pool(h)
        h = self.bottom(h)
        for up, block, skip in zip(self.up, self.decode, reversed(skips)):
            h = block(torch.cat([up(h), skip], dim=1))
        return self.out(h)

    def translate(self, x: torch.Tensor, m: torch.Tensor | None = None) -> torch.Tensor:
        """The "healthy-looking" image ``y`` for ``x`` (pass ``m`` if already computed)."""
        m = self(x) if m is None else m
        return torch.tanh(x + m) if self.output == "tanh" else x + m


class Critic(nn.Module):
    """Fully convolutional WGAN critic without batch norm: one score per image.

    Layout (``widths`` 16/32/64/128/256): 16, pool, 32, pool, 64 x2, pool, 128 x2, pool,
    256 x2, 256, 1x1 conv -> 1 channel, global average pool.

    Sign convention (the one the losses in :mod:`medai_edu.training.vagan` implement, WGAN-GP
    as in design §3.2): the critic is trained to give *low* scores to real healthy images and
    *high* scores to the generator's translated images ``y`` (critic loss
    ``mean(D(x0)) - mean(D(y))`` + penalty); the generator lowers ``D(y)``. So a **lower**
    score means "looks more like the real healthy images", a higher one "looks generated".
    """

    kind = "vagan_critic"  # name for medai_edu.pretrained.build_model

    def __init__(self, spatial_dims: int = 2, in_channels: int = 1, widths: Sequence[int] = CRITIC_WIDTHS) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"widths must list 5 channel counts, got {tuple(widths)}.")
        self.config: dict[str, Any] = dict(spatial_dims=spatial_dims, in_channels=in_channels, widths=list(widths))
        self.spatial_dims, self.in_channels = spatial_dims, in_channels
        w = [int(v) for v in widths]
        plan: list[tuple[int, int] | str] = [
            (w[0], 1),
            "pool",
            (w[1], 1),
            "pool",
            (w[2], 2),
            "pool",
            (w[3], 2),
            "pool",
            (w[4], 3),
        ]
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        in_ch, n_conv, n_pool = in_channels, 0, 0
        for step in plan:
            if isinstance(step, str):  # "pool"
                n_pool += 1
                layers[f"pool{n_pool}"] = pool_layer(spatial_dims)
                continue
            width, repeats = step
            for _ in range(repeats):
                n_conv += 1
                layers[f"conv{n_conv}"] = conv_layer(spatial_dims, in_ch, width)
                layers[f"relu{n_conv}"] = nn.ReLU()
                in_ch = width
        layers["score"] = conv_layer(spatial_dims, in_ch, 1, kernel_size=1)
        self.body = nn.Sequential(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "Critic's input", spatial_dims=self.spatial_dims, channels=self.in_channels)
        return self.body(x).flatten(1).mean(1)


def disease_effect(
    generator: nn.Module, images: torch.Tensor, device: torch.device | None = None, batch_size: int = 32
) -> torch.Tensor:
    """VA-GAN's attribution map ``-M(x)`` (the disease effect) for ``images`` [N, 1, H, W], on the CPU."""
    device = device or next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    effect = -predict(generator, images, device, batch_size)
    generator.train(was_training)
    return effect
