"""One API over saliency methods and VA-GAN maps (design §3.3).

Each method is a class built on a model with one ``attribute(images, target=1)`` method (the
captum style) returning maps of shape ``[batch, *spatial]`` in which **high means important**,
whatever the convention of the library underneath:

| method | library | what the map holds |
|---|---|---|
| ``vanilla_gradient`` | ``monai.visualize.VanillaGrad`` | absolute gradient of the class score, max over channels |
| ``guided_backprop`` | ``monai.visualize.GuidedBackpropGrad`` | absolute guided gradient, max over channels |
| ``grad_cam`` | ``monai.visualize.GradCAM`` | Grad-CAM (already >= 0), upsampled, *without* MONAI's default flip |
| ``occlusion`` | ``monai.visualize.OcclusionSensitivity`` | drop in the class probability when a patch is hidden (MONAI reports the probability itself: lower = more important) |
| ``integrated_gradients`` | ``captum.attr.IntegratedGradients`` | absolute attribution, zero (black) baseline, max over channels |
| ``vagan`` | this course's VA-GAN | the disease effect ``-M(x)``, signed: negative where the disease darkens, positive where it brightens |

Saliency maps are importance maps (>= 0 except occlusion, which can dip below 0 where hiding a
patch *raises* the class score); VA-GAN's map is a signed effect. The NCC metric compares both
with the ground-truth effect as they are.
"""

from __future__ import annotations

import time
import warnings
from typing import ClassVar

import torch
from torch import nn

TOY_OCCLUSION_PATCH = 16  # pixels; a bit smaller than the toy boxes (20 px)


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor [batch, channels, *spatial], got {type(images).__name__}.")
    if images.ndim not in (4, 5):
        raise ValueError(
            f"images must have a batch and a channel axis, [batch, channels, H, W] or [batch, channels, D, H, W]; "
            f"got shape {tuple(images.shape)}. For a single image use images[None]."
        )
    if not images.is_floating_point():
        raise TypeError(f"images must hold floating-point values, got dtype {images.dtype}; use images.float().")
    if torch.isnan(images).any():
        raise ValueError(
            f"images contain {int(torch.isnan(images).sum())} NaN value(s); a map of NaN pixels means nothing."
        )


def _check_eval(model: nn.Module, role: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{role} must be a torch.nn.Module, got {type(model).__name__}.")
    if model.training:
        raise ValueError(
            f"The {role} is in training mode: batch normalisation would then use the statistics of the batch and "
            f"the map would depend on which other images are in it. Call model.eval() first."
        )


class Attribution:
    """Base class: build on a model, then ``attribute(images, target)``."""

    name: ClassVar[str]

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def attribute(self, images: torch.Tensor, target: int = 1) -> torch.Tensor:
        """Maps ``[batch, *spatial]`` (high = important) for class ``target`` on ``images``."""
        _check_images(images)
        _check_eval(self.model, "model")
        device = next(self.model.parameters()).device
        maps = self._attribute(images.detach().to(device), int(target))
        return maps.detach().to(images.device).float()

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__})"


def _per_image(fn, images: torch.Tensor) -> torch.Tensor:
    """MONAI's gradient and occlusion tools take one image at a time."""
    return torch.cat([fn(images[i : i + 1]) for i in range(len(images))])


class VanillaGradient(Attribution):
    name = "vanilla_gradient"

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from monai.visualize import VanillaGrad

        grad = VanillaGrad(self.model)
        return _per_image(lambda x: grad(x.clone(), index=target).abs().amax(1), images)


def _relu_names(model: nn.Module) -> tuple[list[str], list[str]]:
    """Names of the model's nn.ReLU modules: (those MONAI can find by name, those it cannot)."""
    named, unnamed = [], []
    for name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            (named if "relu" in name.rsplit(".", 1)[-1].lower() else unnamed).append(name)
    return named, unnamed


class GuidedBackprop(Attribution):
    """MONAI swaps ReLUs by *name*: a model whose ReLUs are not named "relu..." is refused,
    because the result would silently be the vanilla gradient."""

    name = "guided_backprop"

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        named, unnamed = _relu_names(model)
        if unnamed or not named:
            raise ValueError(
                "Guided backprop needs every nn.ReLU to be registered under a name containing 'relu' "
                f"(MONAI finds them by name); these are not: {unnamed or 'the model has no nn.ReLU at all'}. "
                "Name them, e.g. nn.Sequential(OrderedDict(conv=..., relu=nn.ReLU()))."
            )
        if any(m.inplace for m in model.modules() if isinstance(m, nn.ReLU)):
            raise ValueError(
                "Guided backprop cannot work with nn.ReLU(inplace=True); build the model with inplace=False."
            )

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from monai.visualize import GuidedBackpropGrad

        grad = GuidedBackpropGrad(self.model)
        return _per_image(lambda x: grad(x.clone(), index=target).abs().amax(1), images)


class GradCAM(Attribution):
    """Grad-CAM on ``layer`` (default: the model's ``gradcam_layer`` attribute)."""

    name = "grad_cam"

    def __init__(self, model: nn.Module, layer: str | None = None) -> None:
        super().__init__(model)
        self.layer = layer or getattr(model, "gradcam_layer", None)
        layers = dict(model.named_modules())
        if self.layer not in layers:
            raise ValueError(
                f"Grad-CAM needs the name of a convolutional feature layer of the model; got {self.layer!r}. "
                f"Pass layer=... with one of the names from model.named_modules()."
            )

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from monai.visualize import GradCAM as MonaiGradCAM

        # MONAI's default postprocessing maps (min, max) to (1, 0), i.e. flips importance: keep the raw map.
        cam = MonaiGradCAM(nn_module=self.model, target_layers=self.layer, postprocessing=lambda m: m)
        return cam(images, class_idx=target)[:, 0]


class Occlusion(Attribution):
    """Drop in the class probability when a patch of ``patch`` pixels is blurred out."""

    name = "occlusion"

    def __init__(
        self, model: nn.Module, patch: int = TOY_OCCLUSION_PATCH, overlap: float = 0.5, batch: int = 32
    ) -> None:
        super().__init__(model)
        self.patch, self.overlap, self.batch = int(patch), float(overlap), int(batch)

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from monai.visualize import OcclusionSensitivity

        occlusion = OcclusionSensitivity(
            nn_module=self.model, mask_size=self.patch, n_batch=self.batch, overlap=self.overlap, verbose=False
        )

        def one(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                original = torch.softmax(self.model(x), dim=1)[0, target]
            with warnings.catch_warnings():  # MONAI's indexing style triggers a torch deprecation notice
                warnings.simplefilter("ignore", UserWarning)
                occluded, _ = occlusion(x)  # [1, classes, *spatial]: the probability with each patch hidden
            return original - occluded[:, target]

        return _per_image(one, images)


class IntegratedGradients(Attribution):
    """Integrated gradients from a black (zero) image, ``steps`` steps (the original used 100)."""

    name = "integrated_gradients"

    def __init__(self, model: nn.Module, steps: int = 100, internal_batch: int = 50) -> None:
        super().__init__(model)
        self.steps, self.internal_batch = int(steps), int(internal_batch)

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from captum.attr import IntegratedGradients as CaptumIG

        ig = CaptumIG(self.model)
        maps = ig.attribute(
            images,
            baselines=torch.zeros_like(images),
            target=target,
            n_steps=self.steps,
            internal_batch_size=self.internal_batch,
        )
        return maps.abs().amax(1)


class VAGANMap(Attribution):
    """VA-GAN's disease effect ``-M(x)``; built on the *map generator*, it ignores ``target``."""

    name = "vagan"

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from medai_edu.models.vagan import disease_effect

        return disease_effect(self.model, images).mean(1)


SALIENCY_METHODS: dict[str, type[Attribution]] = {
    cls.name: cls for cls in (VanillaGradient, GuidedBackprop, GradCAM, Occlusion, IntegratedGradients)
}
METHODS: dict[str, type[Attribution]] = {**SALIENCY_METHODS, VAGANMap.name: VAGANMap}


def make(method: str, model: nn.Module, **options) -> Attribution:
    """Build an attribution method by name, e.g. ``make("grad_cam", classifier)``.

    For ``"vagan"`` pass the VA-GAN map generator as ``model``; for the others, the classifier.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown attribution method {method!r}; choose one of {', '.join(METHODS)}.")
    return METHODS[method](model, **options)


def attribute_all(
    classifier: nn.Module,
    generator: nn.Module | None,
    images: torch.Tensor,
    methods: list[str] | None = None,
    options: dict[str, dict] | None = None,
    target: int = 1,
    seconds: dict[str, float] | None = None,
) -> dict[str, torch.Tensor]:
    """Maps of every method (default: all; VA-GAN only if a ``generator`` is given) for ``images``.

    ``options`` passes settings per method, e.g. ``{"integrated_gradients": {"steps": 20}}``;
    if a ``seconds`` dictionary is given, the time each method took is added to it.
    """
    methods = list(methods or [m for m in METHODS if m != VAGANMap.name or generator is not None])
    maps = {}
    for name in methods:
        model = generator if name == VAGANMap.name else classifier
        if model is None:
            raise ValueError("The 'vagan' method needs the VA-GAN map generator: pass generator=...")
        start = time.perf_counter()
        maps[name] = make(name, model, **(options or {}).get(name, {})).attribute(images, target=target)
        if seconds is not None:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
    return maps


def compared_with(method: str, effect: torch.Tensor) -> torch.Tensor:
    """What a method's map is compared with: the signed effect for VA-GAN, its size for saliency."""
    return effect if method == VAGANMap.name else effect.abs()
