"""Segmentation networks of lesson 3 (design §3.5): one answer, or many plausible answers.

- :class:`UNetSegmenter`: a deterministic U-Net (MONAI's ``UNet``): one segmentation per image.
- :class:`ProbUNet`: the Probabilistic U-Net: a U-Net plus one *global* latent vector (6 numbers)
  that a prior net guesses from the image; each draw of the vector gives another segmentation.
- :class:`PHiSeg`: a hierarchy of ``L`` *latent maps* (2 channels each), from coarse (2 x 2 in the
  lesson's L = 5 model) to fine (32 x 32): coarse levels vary the whole outline, fine levels its border.

All share one interface (images ``x`` are ``[B, channels, H, W]``, or ``[B, C, D, H, W]`` with
``spatial_dims=3``; masks ``s`` are label maps ``[B, H, W]`` of class numbers):

    model.sample(x, n)  -> logits of n segmentations, [n, B, classes, H, W] (no gradients)
    model.loss(x, s)    -> {"loss": total to minimise, "ce": ..., "kl": ..., ...}
    model(x)            -> logits of one segmentation, [B, classes, H, W]

Loss conventions (as in the PHiSeg code): cross-entropy is summed over the pixels of an image and
averaged over images; KL divergences are summed over the latent numbers of an image and averaged
over images. The Probabilistic U-Net minimises ``CE + beta * KL`` with ``beta = 1`` (the
original's setting). PHiSeg minimises ``sum_l CE(level l) + sum_l 4**l * KL_l`` (``l = 0`` the
finest level): every level's cumulative logits must already segment the image (deep supervision),
and the factor ``4**l`` makes up for coarser maps having 4 times fewer pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medai_edu.models.layers import SPATIAL_DIMS, conv_bn_relu_block, conv_layer
from medai_edu.validation import Interval, Options, check_images, check_option, check_scalar

__all__ = [
    "LATENT_SCALES",
    "MODELS",
    "PHISEG_MULTIPLIERS",
    "PHiSeg",
    "ProbUNet",
    "SEGMENTERS",
    "SegmentationModel",
    "UNET_CHANNELS",
    "UNetSegmenter",
    "build_segmenter",
    "kl_diagonal_gaussians",
    "sample_gaussian",
]

#: Channels of the U-Nets (deterministic U-Net and the Probabilistic U-Net's U-Net), top first.
UNET_CHANNELS = (16, 32, 64, 128)
#: PHiSeg feature channels per resolution level, in units of ``n0`` (the original's 1, 2, 4, 6, 6, ...).
PHISEG_MULTIPLIERS = (1, 2, 4, 6)
#: PHiSeg's ratios of image size to finest latent map size.
LATENT_SCALES = Options((1, 2, 4, 8))


def kl_diagonal_gaussians(
    mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, sigma_p: torch.Tensor
) -> torch.Tensor:
    """KL(q || p) of diagonal Gaussians, per element: sum it over the latent numbers yourself.

    ``log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 sigma_p**2) - 1/2``; 0 when
    q and p are the same Gaussian. Standard deviations are clamped to at least 1e-8.
    """
    sigma_q, sigma_p = sigma_q.clamp_min(1e-8), sigma_p.clamp_min(1e-8)
    return torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


def sample_gaussian(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The reparameterisation trick: ``z = mu + sigma * eps`` with ``eps ~ N(0, 1)`` (gradients reach mu, sigma)."""
    return mu + sigma * torch.randn_like(mu)


def _cross_entropy(logits: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Pixel-wise cross-entropy summed over an image's pixels, averaged over the images."""
    return F.cross_entropy(logits, s, reduction="sum") / len(s)


def _upsample(spatial_dims: int) -> nn.Module:
    return nn.Upsample(scale_factor=2, mode="bilinear" if spatial_dims == 2 else "trilinear", align_corners=False)


def _resize(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear" if x.ndim == 4 else "trilinear", align_corners=False)


def _monai_unet(
    spatial_dims: int, in_channels: int, out_channels: int, channels: Sequence[int], num_res_units: int
) -> nn.Module:
    from monai.networks.nets import UNet  # imported here: `import monai` takes seconds

    return UNet(
        spatial_dims=spatial_dims,
        in_channels=in_channels,
        out_channels=out_channels,
        channels=tuple(channels),
        strides=(2,) * (len(channels) - 1),
        num_res_units=num_res_units,
        norm="batch",
    )


class _Encoder(nn.Module):
    """Conv blocks at halving resolutions (average pooling in between); returns every level's features."""

    def __init__(self, spatial_dims: int, in_channels: int, widths: Sequence[int], n_convs: int = 2) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            conv_bn_relu_block(spatial_dims, c_in, c_out, n_convs)
            for c_in, c_out in zip([in_channels, *widths[:-1]], widths)
        )
        self.pool = (nn.AvgPool2d if spatial_dims == 2 else nn.AvgPool3d)(2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for i, block in enumerate(self.blocks):
            x = block(x if i == 0 else self.pool(x))
            features.append(x)
        return features


class _GaussianHead(nn.Module):
    """1x1 convolutions to the mean and (via softplus) the standard deviation of a diagonal Gaussian."""

    def __init__(self, spatial_dims: int, in_channels: int, latent_channels: int) -> None:
        super().__init__()
        self.mu = conv_layer(spatial_dims, in_channels, latent_channels, kernel_size=1)
        self.sigma = conv_layer(spatial_dims, in_channels, latent_channels, kernel_size=1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(h), F.softplus(self.sigma(h))


class SegmentationModel(nn.Module):
    """Shared checks and sampling; subclasses define ``_condition``, ``_draw`` and ``_loss``."""

    kind = ""  # name for medai_edu.pretrained.build_model
    divisor = 1  # spatial sizes must be multiples of this

    def __init__(self, spatial_dims: int, in_channels: int, num_classes: int) -> None:
        super().__init__()
        check_option(spatial_dims, "spatial_dims", SPATIAL_DIMS)
        check_scalar(num_classes, "num_classes", Interval(2, integer=True), note="background + at least one structure")
        self.spatial_dims, self.in_channels, self.num_classes = spatial_dims, in_channels, num_classes
        self.config: dict[str, Any] = {}

    def _check(self, x: torch.Tensor, s: torch.Tensor | None = None) -> None:
        name = type(self).__name__
        check_images(
            x, f"{name}'s input", spatial_dims=self.spatial_dims, channels=self.in_channels, divisor=self.divisor
        )
        if s is None:
            return
        if not isinstance(s, torch.Tensor) or s.is_floating_point() or s.dtype == torch.bool:
            raise TypeError(
                f"{name}: the mask must be an integer tensor of class numbers, got {getattr(s, 'dtype', type(s).__name__)}."
            )
        if tuple(s.shape) != (x.shape[0], *x.shape[2:]):
            raise ValueError(
                f"{name}: the mask must be a label map per image, shape {(x.shape[0], *x.shape[2:])} "
                f"(no channel axis), got {tuple(s.shape)}."
            )
        if s.numel() and (int(s.min()) < 0 or int(s.max()) >= self.num_classes):
            raise ValueError(
                f"{name}: mask values must be classes 0 .. {self.num_classes - 1}, got {int(s.min())} .. {int(s.max())}."
            )

    def _posterior_input(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(s, self.num_classes).movedim(-1, 1).to(x.dtype)
        return torch.cat([x, onehot - 0.5], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of one segmentation per image, [B, classes, *S] (random for the probabilistic models)."""
        self._check(x)
        return self._draw(self._condition(x), 1)

    @torch.no_grad()
    def sample(self, x: torch.Tensor, n: int = 1) -> torch.Tensor:
        """Logits of ``n`` segmentations per image, ``[n, B, classes, *S]`` (softmax over axis 2).

        The image is encoded once; the draws are computed in chunks of at most 64 images.
        """
        self._check(x)
        _check_count(n)
        state = self._condition(x)
        chunk = max(1, 64 // len(x))
        draws = [self._draw(state, min(chunk, n - start)) for start in range(0, n, chunk)]
        return torch.cat(draws).reshape(n, *x.shape[:1], self.num_classes, *x.shape[2:])

    def loss(self, x: torch.Tensor, s: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training loss for images ``x`` and one rater's label maps ``s`` [B, *S]: ``{"loss": ..., parts}``."""
        self._check(x, s)
        return self._loss(x, s)

    def _condition(self, x: torch.Tensor) -> Any:
        raise NotImplementedError

    def _draw(self, state: Any, n: int) -> torch.Tensor:
        raise NotImplementedError

    def _loss(self, x: torch.Tensor, s: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError


def _check_count(n: Any) -> None:
    check_scalar(n, "n", Interval(1, integer=True), note="the number of samples")


def _repeat(t: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` copies of a batch along the batch axis: sample k of image b lands at row k * B + b."""
    return t.repeat(n, *([1] * (t.ndim - 1)))


class UNetSegmenter(SegmentationModel):
    """Deterministic U-Net (MONAI ``UNet``, batch norm): ``sample(x, n)`` repeats its one answer n times.

    Args:
        channels: feature channels per resolution, top first (each further entry halves the size).
        num_res_units: residual units per block (MONAI's option; 0 = plain convolutions).
    """

    kind = "unet_segmenter"

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 3,
        channels: Sequence[int] = UNET_CHANNELS,
        num_res_units: int = 1,
    ) -> None:
        super().__init__(spatial_dims, in_channels, num_classes)
        self.config = dict(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            num_classes=num_classes,
            channels=list(channels),
            num_res_units=num_res_units,
        )
        self.divisor = 2 ** (len(channels) - 1)
        self.unet = _monai_unet(spatial_dims, in_channels, num_classes, channels, num_res_units)

    def _condition(self, x: torch.Tensor) -> torch.Tensor:
        return self.unet(x)

    def _draw(self, logits: torch.Tensor, n: int) -> torch.Tensor:
        return _repeat(logits, n)

    def _loss(self, x: torch.Tensor, s: torch.Tensor) -> dict[str, torch.Tensor]:
        ce = _cross_entropy(self.unet(x), s)
        return {"loss": ce, "ce": ce.detach()}


class _GlobalGaussian(nn.Module):
    """Encoder + Gaussian head, averaged over the image: one latent vector [B, latent_dim] per image."""

    def __init__(self, spatial_dims: int, in_channels: int, widths: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.encoder = _Encoder(spatial_dims, in_channels, widths)
        self.head = _GaussianHead(spatial_dims, widths[-1], latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, sigma = self.head(self.encoder(x)[-1])
        return mu.flatten(2).mean(-1), sigma.flatten(2).mean(-1)


class ProbUNet(SegmentationModel):
    """Probabilistic U-Net: U-Net features + one global latent vector -> segmentation.

    The prior net sees the image ``x``, the posterior net the image and a rater's mask ``(x, s)``;
    both give a diagonal Gaussian over ``latent_dim`` numbers. A drawn vector is copied to every
    pixel, concatenated with the U-Net's features and mapped to logits by three 1x1 convolutions.
    Training minimises ``CE + beta * KL(posterior || prior)`` (``beta = 1`` as in the original).

    Args:
        latent_dim: size of the latent vector (6 in the design).
        channels: channels of the U-Net and of the prior/posterior encoders, top first.
        features: channels of the U-Net's output features.
        beta: weight of the KL term.
    """

    kind = "prob_unet"

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 3,
        latent_dim: int = 6,
        channels: Sequence[int] = UNET_CHANNELS,
        num_res_units: int = 1,
        features: int = 16,
        beta: float = 1.0,
    ) -> None:
        super().__init__(spatial_dims, in_channels, num_classes)
        self.config = dict(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            num_classes=num_classes,
            latent_dim=latent_dim,
            channels=list(channels),
            num_res_units=num_res_units,
            features=features,
            beta=beta,
        )
        self.divisor, self.beta = 2 ** (len(channels) - 1), float(beta)
        self.unet = _monai_unet(spatial_dims, in_channels, features, channels, num_res_units)
        self.prior = _GlobalGaussian(spatial_dims, in_channels, channels, latent_dim)
        self.posterior = _GlobalGaussian(spatial_dims, in_channels + num_classes, channels, latent_dim)
        self.combine = nn.Sequential(
            conv_layer(spatial_dims, features + latent_dim, features, kernel_size=1),
            nn.ReLU(),
            conv_layer(spatial_dims, features, features, kernel_size=1),
            nn.ReLU(),
            conv_layer(spatial_dims, features, num_classes, kernel_size=1),
        )

    def _logits(self, features: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        tiled = z.reshape(*z.shape, *([1] * self.spatial_dims)).expand(-1, -1, *features.shape[2:])
        return self.combine(torch.cat([features, tiled], dim=1))

    def _condition(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (self.unet(x), *self.prior(x))

    def _draw(self, state: tuple[torch.Tensor, ...], n: int) -> torch.Tensor:
        features, mu, sigma = (_repeat(t, n) for t in state)
        return self._logits(features, sample_gaussian(mu, sigma))

    def _loss(self, x: torch.Tensor, s: torch.Tensor) -> dict[str, torch.Tensor]:
        mu_q, sigma_q = self.posterior(self._posterior_input(x, s))
        mu_p, sigma_p = self.prior(x)
        ce = _cross_entropy(self._logits(self.unet(x), sample_gaussian(mu_q, sigma_q)), s)
        kl = kl_diagonal_gaussians(mu_q, sigma_q, mu_p, sigma_p).sum(1).mean()
        return {"loss": ce + self.beta * kl, "ce": ce.detach(), "kl": kl.detach()}


class _LatentLadder(nn.Module):
    """PHiSeg's prior or posterior net: an encoder, then latent maps from the coarsest level down.

    Level ``l`` (0 = finest) is a diagonal Gaussian computed from the encoder's features at its
    resolution and, below the top, the latent map of level ``l + 1`` (upsampled 2x, two convs).
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        widths: Sequence[int],
        latent_levels: int,
        latent_channels: int,
        z_width: int,
    ) -> None:
        super().__init__()
        self.offset = len(widths) - latent_levels  # resolution level of latent level 0
        at = [widths[level + self.offset] for level in range(latent_levels)]
        self.encoder = _Encoder(spatial_dims, in_channels, widths)
        self.up = nn.ModuleList(
            nn.Sequential(_upsample(spatial_dims), conv_bn_relu_block(spatial_dims, latent_channels, z_width, 2))
            for _ in range(latent_levels - 1)
        )
        self.merge = nn.ModuleList(
            conv_bn_relu_block(spatial_dims, at[l] + z_width, at[l], 2) for l in range(latent_levels - 1)
        )
        self.heads = nn.ModuleList(_GaussianHead(spatial_dims, at[l], latent_channels) for l in range(latent_levels))

    def latents(
        self,
        features: list[torch.Tensor],
        given: list[torch.Tensor] | None = None,
        noise: list[torch.Tensor | None] | None = None,
    ) -> tuple[list[torch.Tensor], ...]:
        """Latent maps ``z`` with their ``mu`` and ``sigma``, finest first. With ``given`` (the
        posterior's samples, at training), level ``l`` is conditioned on ``given[l + 1]``;
        ``noise[l]``, where given, replaces the random ``eps`` of level ``l`` (``z = mu + sigma * eps``)."""
        levels = len(self.heads)
        z: list[torch.Tensor] = [None] * levels  # type: ignore[list-item]
        mu, sigma = list(z), list(z)
        for l in reversed(range(levels)):
            h = features[l + self.offset]
            if l < levels - 1:
                coarser = (given if given is not None else z)[l + 1]
                h = self.merge[l](torch.cat([h, self.up[l](coarser)], dim=1))
            mu[l], sigma[l] = self.heads[l](h)
            fixed = None if noise is None else noise[l]
            z[l] = sample_gaussian(mu[l], sigma[l]) if fixed is None else mu[l] + sigma[l] * fixed
        return z, mu, sigma


class _PHiSegLikelihood(nn.Module):
    """Latent maps -> logits of every level (finest first), each at the image size.

    Each latent map is processed and upsampled 4x (to 1/2**l of the image size); from the coarsest
    level down, each level's features are combined with the upsampled features of the level above;
    a 1x1 convolution gives the level's logits, which are resized to the image size.
    """

    def __init__(
        self, spatial_dims: int, widths: Sequence[int], latent_levels: int, latent_channels: int, num_classes: int
    ) -> None:
        super().__init__()
        offset = len(widths) - latent_levels

        def process(level: int) -> nn.Sequential:  # latent map at resolution level+offset -> features at level
            layers: list[nn.Module] = [conv_bn_relu_block(spatial_dims, latent_channels, widths[level + offset], 2)]
            for r in reversed(range(level, level + offset)):
                layers += [_upsample(spatial_dims), conv_bn_relu_block(spatial_dims, widths[r + 1], widths[r], 1)]
            return nn.Sequential(*layers)

        self.process = nn.ModuleList(process(level) for level in range(latent_levels))
        self.up = nn.ModuleList(
            nn.Sequential(_upsample(spatial_dims), conv_bn_relu_block(spatial_dims, widths[l + 1], widths[l], 1))
            for l in range(latent_levels - 1)
        )
        self.combine = nn.ModuleList(
            conv_bn_relu_block(spatial_dims, 2 * widths[l], widths[l], 2) for l in range(latent_levels - 1)
        )
        self.to_logits = nn.ModuleList(
            conv_layer(spatial_dims, widths[l], num_classes, kernel_size=1) for l in range(latent_levels)
        )

    def forward(self, z: list[torch.Tensor], size: Sequence[int]) -> list[torch.Tensor]:
        levels = len(z)
        h: torch.Tensor | None = None
        logits: list[torch.Tensor] = [None] * levels  # type: ignore[list-item]
        for l in reversed(range(levels)):
            own = self.process[l](z[l])
            h = own if h is None else self.combine[l](torch.cat([own, self.up[l](h)], dim=1))
            logits[l] = _resize(self.to_logits[l](h), size)
        return logits


class PHiSeg(SegmentationModel):
    """PHiSeg: a hierarchy of ``latent_levels`` latent maps; output logits = sum of every level's logits.

    The finest latent map has ``1 / latent_scale`` of the image size, each further level half the
    size of the one below. The original used ``latent_scale=4``: 32², 16², 8², 4² and 2² for its
    128 x 128 images, which gives 16² .. 1² for the lesson's 64 x 64 images. The lesson's L = 5
    model (:data:`MODELS`) uses ``latent_scale=2`` and so keeps the design's sizes 32² .. 2²: with
    16² .. 1² its average outline lost the thin oedema rim (validation Dice 0.56 against the
    U-Net's 0.62; 0.59 with 32² .. 2²). Prior ``p(z_l | z_{l+1}, x)`` and posterior
    ``q(z_l | z_{l+1}, x, s)`` are diagonal Gaussians (sigma via softplus); at training the prior
    is fed the posterior's samples. The likelihood sees only the latent maps, not the image.

    With ``latent_levels=1`` the single map sits at the finest position (16² for 64 x 64), so
    that PHiSeg L = 1 can still outline small structures; the original's L = 1 used its coarsest
    (2² of 128²), which only works for crops centred on the structure.

    Args:
        latent_levels: number of latent maps L (1 and 5 in the lesson).
        latent_channels: channels of each latent map (2 in the design).
        n0: feature channels at full resolution; deeper levels use ``n0 * (2, 4, 6, 6, ...)``.
        latent_scale: image size / size of the finest latent map (4 as in the original, or 2).
    """

    kind = "phiseg"

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 3,
        latent_levels: int = 5,
        latent_channels: int = 2,
        n0: int = 12,
        latent_scale: int = 4,
    ) -> None:
        super().__init__(spatial_dims, in_channels, num_classes)
        check_scalar(latent_levels, "latent_levels", Interval(1, 8, integer=True))
        check_option(latent_scale, "latent_scale", LATENT_SCALES, note="image size / finest latent map size")
        self.config = dict(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            num_classes=num_classes,
            latent_levels=latent_levels,
            latent_channels=latent_channels,
            n0=n0,
            latent_scale=latent_scale,
        )
        self.latent_scale = latent_scale
        resolutions = latent_levels + latent_scale.bit_length() - 1
        widths = [n0 * PHISEG_MULTIPLIERS[min(r, len(PHISEG_MULTIPLIERS) - 1)] for r in range(resolutions)]
        self.divisor, self.latent_levels = 2 ** (resolutions - 1), latent_levels
        ladder: dict[str, Any] = dict(
            widths=widths, latent_levels=latent_levels, latent_channels=latent_channels, z_width=latent_channels * n0
        )
        self.prior = _LatentLadder(spatial_dims, in_channels, **ladder)
        self.posterior = _LatentLadder(spatial_dims, in_channels + num_classes, **ladder)
        self.likelihood = _PHiSegLikelihood(spatial_dims, widths, latent_levels, latent_channels, num_classes)

    def latent_sizes(self, image_size: Sequence[int]) -> list[tuple[int, ...]]:
        """Spatial size of each latent map (finest first) for an image of ``image_size``."""
        return [tuple(s // (self.latent_scale * 2**l) for s in image_size) for l in range(self.latent_levels)]

    def _condition(self, x: torch.Tensor) -> tuple[list[torch.Tensor], tuple[int, ...]]:
        return self.prior.encoder(x), tuple(x.shape[2:])

    def _draw(
        self, state: tuple[list[torch.Tensor], tuple[int, ...]], n: int, noise: list[torch.Tensor | None] | None = None
    ) -> torch.Tensor:
        features, size = state
        z, _, _ = self.prior.latents([_repeat(f, n) for f in features], noise=noise)
        return torch.stack(self.likelihood(z, size)).sum(0)

    @torch.no_grad()
    def sample_level(self, x: torch.Tensor, level: int, n: int = 1) -> torch.Tensor:
        """Logits ``[n, B, classes, *S]`` in which only latent ``level`` (0 = finest) is drawn afresh
        for each sample, while every other level keeps one shared draw: what that level varies."""
        self._check(x)
        check_scalar(level, "level", Interval(0, self.latent_levels - 1, integer=True), note="0 = the finest")
        _check_count(n)
        size = tuple(x.shape[2:])
        shared = [
            torch.randn(len(x), self.config["latent_channels"], *s, device=x.device) for s in self.latent_sizes(size)
        ]
        noise = [None if l == level else _repeat(eps, n) for l, eps in enumerate(shared)]
        return self._draw(self._condition(x), n, noise).reshape(n, len(x), self.num_classes, *size)

    def _loss(self, x: torch.Tensor, s: torch.Tensor) -> dict[str, torch.Tensor]:
        z_q, mu_q, sigma_q = self.posterior.latents(self.posterior.encoder(self._posterior_input(x, s)))
        _, mu_p, sigma_p = self.prior.latents(self.prior.encoder(x), given=z_q)
        levels = self.likelihood(z_q, x.shape[2:])
        parts: dict[str, torch.Tensor] = {}
        total = cumulative = ce_sum = kl_sum = x.new_zeros(())
        for l in reversed(range(self.latent_levels)):
            cumulative = cumulative + levels[l]  # logits of levels l .. L-1
            ce = _cross_entropy(cumulative, s)
            kl = kl_diagonal_gaussians(mu_q[l], sigma_q[l], mu_p[l], sigma_p[l]).flatten(1).sum(1).mean()
            total = total + ce + 4**l * kl
            ce_sum, kl_sum = ce_sum + ce.detach(), kl_sum + 4**l * kl.detach()
            parts[f"ce_level{l}"], parts[f"kl_level{l}"] = ce.detach(), kl.detach()
        return {"loss": total, "ce": ce_sum, "kl": kl_sum, **parts}


#: Model kind (as stored in weight manifests) -> class.
SEGMENTERS: dict[str, type[SegmentationModel]] = {cls.kind: cls for cls in (UNetSegmenter, ProbUNet, PHiSeg)}
#: The lesson's four models: name -> (kind, constructor arguments).
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "unet": ("unet_segmenter", {}),
    "prob_unet": ("prob_unet", {}),
    "phiseg_l1": ("phiseg", {"latent_levels": 1}),
    "phiseg_l5": ("phiseg", {"latent_levels": 5, "latent_scale": 2}),  # the design's latent sizes 32² .. 2²
}


def build_segmenter(name: str, **overrides: Any) -> SegmentationModel:
    """A fresh model of the lesson by ``name`` ('unet', 'prob_unet', 'phiseg_l1', 'phiseg_l5').

    ``overrides`` change constructor arguments, e.g. ``spatial_dims=3`` or ``n0=4``.
    """
    check_option(name, "name", Options(MODELS), note="the segmentation model")
    kind, config = MODELS[name]
    return SEGMENTERS[kind](**{**config, **overrides})
