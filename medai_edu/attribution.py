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

Examples
--------
A tiny untrained classifier and VA-GAN map generator, two of the methods:

>>> import torch
>>> from medai_edu import attribution
>>> from medai_edu.models.classifier import SonoNet
>>> from medai_edu.models.vagan import MapGenerator
>>> _ = torch.manual_seed(0)
>>> classifier = SonoNet(k=2).eval()
>>> generator = MapGenerator(widths=(2, 4, 8, 16)).eval()
>>> images = torch.rand(3, 1, 32, 32)
>>> maps = attribution.attribute_all(
...     classifier, generator, images, methods=["integrated_gradients", "vagan"],
...     options={"integrated_gradients": {"steps": 4}},
... )
>>> {name: tuple(m.shape) for name, m in maps.items()}
{'integrated_gradients': (3, 32, 32), 'vagan': (3, 32, 32)}
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import ClassVar

import torch
from torch import nn

from medai_edu.validation import Options, check_images, check_option

__all__ = [
    "METHODS",
    "SALIENCY_METHODS",
    "TOY_OCCLUSION_PATCH",
    "Attribution",
    "GradCAM",
    "GuidedBackprop",
    "IntegratedGradients",
    "Occlusion",
    "VAGANMap",
    "VanillaGradient",
    "attribute_all",
    "compared_with",
    "make",
]

TOY_OCCLUSION_PATCH = 16  # pixels; a bit smaller than the toy boxes (20 px)


def _check_eval(model: nn.Module, role: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{role} must be a torch.nn.Module, got {type(model).__name__}.")
    if model.training:
        raise ValueError(
            f"The {role} is in training mode: batch normalisation would then use the statistics of the batch and "
            f"the map would depend on which other images are in it. Call model.eval() first."
        )


class Attribution:
    """Base class of the methods: build one on a model, then call :meth:`attribute`.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier whose decision is explained (for :class:`VAGANMap`, the VA-GAN map
        generator). It must be in evaluation mode (``model.eval()``) when maps are computed.

    Examples
    --------
    Every method is a subclass; :data:`METHODS` lists them by name:

    >>> sorted(METHODS) == sorted(cls.name for cls in Attribution.__subclasses__())
    True
    """

    name: ClassVar[str]

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def attribute(self, images: torch.Tensor, target: int = 1) -> torch.Tensor:
        """Maps of where ``images`` hold evidence for class ``target``; high means important.

        Parameters
        ----------
        images : torch.Tensor
            A batch ``[batch, channels, H, W]`` (or ``[batch, channels, D, H, W]``) of
            floating-point, finite values; it may live on another device than the model.
        target : int, default 1
            The class whose evidence is mapped (1 = diseased in the course's data).

        Returns
        -------
        torch.Tensor
            float32 maps ``[batch, H, W]`` (or ``[batch, D, H, W]``) on the device of ``images``.

        Raises
        ------
        TypeError
            ``images`` is not a floating-point tensor, or the model is not a ``torch.nn.Module``.
        ValueError
            ``images`` lacks the batch or channel axis or holds NaN or infinite values, or the
            model is in training mode.

        Examples
        --------
        >>> import torch
        >>> from medai_edu.models.classifier import SonoNet
        >>> _ = torch.manual_seed(0)
        >>> method = IntegratedGradients(SonoNet(k=2).eval(), steps=4)
        >>> method.attribute(torch.rand(2, 1, 32, 32), target=1).shape
        torch.Size([2, 32, 32])
        >>> method.attribute(torch.rand(1, 32, 32))
        Traceback (most recent call last):
        ...
        ValueError: images must be a 4-D tensor [batch, channels, H, W] or a 5-D tensor [batch, channels, D, H, W], got shape (1, 32, 32). For a single image add a batch axis: image[None].
        """
        check_images(images, finite=True)
        _check_eval(self.model, "model")
        device = next(self.model.parameters()).device
        maps = self._attribute(images.detach().to(device), int(target))
        return maps.detach().to(images.device).float()

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__})"


def _per_image(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """MONAI's gradient and occlusion tools take one image at a time."""
    return torch.cat([fn(images[i : i + 1]) for i in range(len(images))])


class VanillaGradient(Attribution):
    """The size of the gradient of the class score with respect to each pixel (MONAI ``VanillaGrad``).

    The map is the absolute gradient, the largest over the channels.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier.

    Examples
    --------
    >>> from medai_edu.models.classifier import SonoNet
    >>> VanillaGradient(SonoNet(k=2).eval())
    VanillaGradient(SonoNet)
    """

    name = "vanilla_gradient"

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from monai.visualize import VanillaGrad

        grad = VanillaGrad(self.model)
        return _per_image(lambda x: grad(x.clone(), index=target).abs().amax(1), images)


def _relu_names(model: nn.Module) -> tuple[list[str], list[str]]:
    """Names of the model's nn.ReLU modules: (those MONAI can find by name, those it cannot)."""
    named: list[str] = []
    unnamed: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            (named if "relu" in name.rsplit(".", 1)[-1].lower() else unnamed).append(name)
    return named, unnamed


class GuidedBackprop(Attribution):
    """Guided backpropagation (MONAI ``GuidedBackpropGrad``): the gradient with only positive signals passed back.

    MONAI swaps ReLUs by *name*: a model whose ReLUs are not named "relu..." is refused, because
    the result would silently be the vanilla gradient.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier; every ``nn.ReLU`` registered under a name containing "relu", none in place.

    Raises
    ------
    ValueError
        A ReLU MONAI cannot find by name, no ReLU at all, or a ReLU with ``inplace=True``.

    Examples
    --------
    >>> from torch import nn
    >>> GuidedBackprop(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
    Traceback (most recent call last):
    ...
    ValueError: Guided backprop needs every nn.ReLU to be registered under a name containing 'relu' (MONAI finds them by name); these are not: ['1']. Name them, e.g. nn.Sequential(OrderedDict(conv=..., relu=nn.ReLU())).
    """

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
    """Grad-CAM (MONAI ``GradCAM``) on a convolutional feature layer, upsampled to the image size.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier.
    layer : str, optional
        Name of the feature layer, as in ``model.named_modules()``; default the model's
        ``gradcam_layer`` attribute (SonoNet names its last one).

    Raises
    ------
    ValueError
        No such layer in the model (or no ``layer`` given and no ``gradcam_layer`` attribute).

    Examples
    --------
    >>> from medai_edu.models.classifier import SonoNet
    >>> GradCAM(SonoNet(k=2)).layer
    'features.block5.relu3'
    """

    name = "grad_cam"

    def __init__(self, model: nn.Module, layer: str | None = None) -> None:
        super().__init__(model)
        layer = layer or getattr(model, "gradcam_layer", None)
        if not isinstance(layer, str) or layer not in dict(model.named_modules()):
            raise ValueError(
                f"Grad-CAM needs the name of a convolutional feature layer of the model; got {layer!r}. "
                f"Pass layer=... with one of the names from model.named_modules()."
            )
        self.layer = layer

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from monai.visualize import GradCAM as MonaiGradCAM

        # MONAI's default postprocessing maps (min, max) to (1, 0), i.e. flips importance: keep the raw map.
        cam = MonaiGradCAM(nn_module=self.model, target_layers=self.layer, postprocessing=lambda m: m)
        return cam(images, class_idx=target)[:, 0]


class Occlusion(Attribution):
    """Occlusion (MONAI ``OcclusionSensitivity``): the drop in the class probability when a patch is hidden.

    The map can dip below 0 where hiding a patch *raises* the class probability.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier.
    patch : int, default TOY_OCCLUSION_PATCH
        Side of the hidden square, in pixels.
    overlap : float, default 0.5
        Overlap of neighbouring patches (0 = side by side).
    batch : int, default 32
        Occluded images per forward pass.

    Examples
    --------
    >>> from medai_edu.models.classifier import SonoNet
    >>> method = Occlusion(SonoNet(k=2).eval(), patch=8)
    >>> method.patch, method.overlap
    (8, 0.5)
    """

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
    """Integrated gradients (captum) from a black (all-zero) image; the map is the absolute attribution.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier.
    steps : int, default 100
        Steps from the black image to the image (the original used 100).
    internal_batch : int, default 50
        Steps computed per forward pass.

    Examples
    --------
    >>> from medai_edu.models.classifier import SonoNet
    >>> method = IntegratedGradients(SonoNet(k=2).eval(), steps=20)
    >>> method, method.steps
    (IntegratedGradients(SonoNet), 20)
    """

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
    """VA-GAN's disease effect ``-M(x)``, averaged over the channels; signed, and ``target`` is ignored.

    Parameters
    ----------
    model : medai_edu.models.vagan.MapGenerator
        The VA-GAN *map generator* (not the classifier).

    Examples
    --------
    >>> import torch
    >>> from medai_edu.models.vagan import MapGenerator
    >>> _ = torch.manual_seed(0)
    >>> generator = MapGenerator(widths=(2, 4, 8, 16)).eval()
    >>> images = torch.rand(2, 1, 32, 32)
    >>> effect = VAGANMap(generator).attribute(images)
    >>> torch.allclose(effect, -generator(images)[:, 0])
    True
    """

    name = "vagan"

    def _attribute(self, images: torch.Tensor, target: int) -> torch.Tensor:
        from medai_edu.models.vagan import disease_effect

        return disease_effect(self.model, images).mean(1)


#: The saliency methods by name.
SALIENCY_METHODS: dict[str, type[Attribution]] = {
    cls.name: cls for cls in (VanillaGradient, GuidedBackprop, GradCAM, Occlusion, IntegratedGradients)
}
#: Every method by name: the saliency methods and ``"vagan"``.
METHODS: dict[str, type[Attribution]] = {**SALIENCY_METHODS, VAGANMap.name: VAGANMap}


def make(method: str, model: nn.Module, **options: object) -> Attribution:
    """Build an attribution method by name.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`: ``"vanilla_gradient"``, ``"guided_backprop"``, ``"grad_cam"``,
        ``"occlusion"``, ``"integrated_gradients"`` or ``"vagan"``.
    model : torch.nn.Module
        The classifier; for ``"vagan"`` the VA-GAN map generator.
    **options
        Settings of the method's class, e.g. ``steps=20`` for integrated gradients.

    Returns
    -------
    Attribution
        The method, ready for ``.attribute(images, target)``.

    Raises
    ------
    ValueError
        ``method`` is not one of :data:`METHODS` (or the method refuses ``model``).

    Examples
    --------
    >>> from medai_edu.models.classifier import SonoNet
    >>> make("grad_cam", SonoNet(k=2))
    GradCAM(SonoNet)
    >>> make("lime", SonoNet(k=2))
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'vanilla_gradient', 'guided_backprop', 'grad_cam', 'occlusion', 'integrated_gradients', 'vagan', got 'lime'.
    """
    check_option(method, "method", Options(METHODS))
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
    """Maps of several methods for the same ``images``.

    Parameters
    ----------
    classifier : torch.nn.Module
        The classifier the saliency methods explain (in evaluation mode).
    generator : torch.nn.Module or None
        The VA-GAN map generator, or None to leave out ``"vagan"``.
    images : torch.Tensor
        A batch ``[batch, channels, H, W]`` (see :meth:`Attribution.attribute`).
    methods : list of str, optional
        Names from :data:`METHODS`; default all (``"vagan"`` only if a ``generator`` is given).
    options : dict, optional
        Settings per method, e.g. ``{"integrated_gradients": {"steps": 20}}``.
    target : int, default 1
        The class whose evidence is mapped.
    seconds : dict, optional
        If given, the seconds each method took are added to it, per method name.

    Returns
    -------
    dict of str to torch.Tensor
        Method name -> maps ``[batch, H, W]``, in the order of ``methods``.

    Raises
    ------
    ValueError
        ``"vagan"`` is asked for without a ``generator``, or an unknown method name.

    Examples
    --------
    >>> import torch
    >>> from medai_edu.models.classifier import SonoNet
    >>> _ = torch.manual_seed(0)
    >>> timings = {}
    >>> maps = attribute_all(
    ...     SonoNet(k=2).eval(), None, torch.rand(1, 1, 32, 32), methods=["integrated_gradients"],
    ...     options={"integrated_gradients": {"steps": 4}}, seconds=timings,
    ... )
    >>> list(maps), list(timings)
    (['integrated_gradients'], ['integrated_gradients'])
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
    """What a method's map is compared with: the signed effect for VA-GAN, its size for saliency.

    Parameters
    ----------
    method : str
        A name from :data:`METHODS`.
    effect : torch.Tensor
        The ground-truth disease effect (signed: negative where the disease darkens).

    Returns
    -------
    torch.Tensor
        ``effect`` itself for ``"vagan"``, ``effect.abs()`` for the saliency methods, whose maps
        only say *how much* a pixel matters.

    Examples
    --------
    >>> import torch
    >>> effect = torch.tensor([-0.5, 0.0, 0.25])
    >>> compared_with("vagan", effect)
    tensor([-0.5000,  0.0000,  0.2500])
    >>> compared_with("grad_cam", effect)
    tensor([0.5000, 0.0000, 0.2500])
    """
    return effect if method == VAGANMap.name else effect.abs()
