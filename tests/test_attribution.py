"""The attribution API: high means important for every method, and MONAI's pitfalls are guarded."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

from medai_edu import attribution
from medai_edu.metrics import ncc
from medai_edu.models.classifier import SonoNet
from medai_edu.models.vagan import MapGenerator

SIZE = 32


class BoxScorer(nn.Module):
    """A model with a known answer: the class-1 score is the brightness inside one square."""

    gradcam_layer = "relu"

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        nn.init.ones_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.relu = nn.ReLU()
        region = torch.zeros(1, 1, SIZE, SIZE)
        region[..., 8:16, 8:16] = 1
        self.register_buffer("region", region)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = (self.relu(self.conv(x)) * self.region).flatten(1).sum(1) / self.region.sum() * 5
        return torch.stack([-score, score], dim=1)


@pytest.fixture
def box_images():
    x = torch.full((2, 1, SIZE, SIZE), 0.1)
    x[..., 8:16, 8:16] = 1.0
    return x


@pytest.mark.parametrize("method", sorted(attribution.SALIENCY_METHODS))
def test_every_saliency_method_marks_the_evidence_as_important(method, box_images):
    options = {"patch": 8} if method == "occlusion" else {}
    maps = attribution.make(method, BoxScorer().eval(), **options).attribute(box_images, target=1)
    assert maps.shape == (2, SIZE, SIZE) and torch.isfinite(maps).all()
    region = BoxScorer().region[0, 0]
    assert ncc(maps[0], region) > 0.6, f"{method}: the important square should stand out as high values"
    assert maps[0][region.bool()].mean() > maps[0][~region.bool()].mean()


@pytest.fixture
def sononet():
    torch.manual_seed(0)
    return SonoNet(k=4).eval()


def test_guided_backprop_really_differs_from_the_vanilla_gradient(sononet):
    torch.manual_seed(1)
    x = torch.randn(1, 1, SIZE, SIZE)
    vanilla = attribution.make("vanilla_gradient", sononet).attribute(x)
    guided = attribution.make("guided_backprop", sononet).attribute(x)
    assert not torch.allclose(vanilla, guided), "guided backprop silently fell back to the vanilla gradient"
    assert ncc(vanilla, guided) < 0.95


def test_guided_backprop_refuses_relus_it_cannot_find():
    anonymous = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    with pytest.raises(ValueError, match="name containing 'relu'.*'1'"):
        attribution.make("guided_backprop", anonymous)
    named = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 2, 3), relu=nn.ReLU(inplace=True)))
    with pytest.raises(ValueError, match="inplace=True"):
        attribution.make("guided_backprop", named)


def test_grad_cam_is_not_flipped_like_monais_default(sononet):
    from monai.visualize import GradCAM

    x = torch.randn(1, 1, SIZE, SIZE)
    ours = attribution.make("grad_cam", sononet).attribute(x)
    monai_default = GradCAM(nn_module=sononet, target_layers=sononet.gradcam_layer)(x, class_idx=1)[:, 0]
    assert ours.max() > 0
    assert ncc(ours, monai_default) < -0.99, "MONAI's default maps high importance to 0; ours must not"


def test_grad_cam_needs_a_real_layer(sononet):
    with pytest.raises(ValueError, match="named_modules"):
        attribution.make("grad_cam", sononet, layer="no.such.layer")


def test_vagan_map_is_minus_the_generated_map():
    generator = MapGenerator().eval()
    x = torch.randn(2, 1, SIZE, SIZE)
    with torch.no_grad():
        expected = -generator(x)[:, 0]
    assert torch.allclose(attribution.make("vagan", generator).attribute(x), expected)


def test_model_in_training_mode_is_refused(sononet):
    sononet.train()
    with pytest.raises(ValueError, match="training mode.*model.eval\\(\\)"):
        attribution.make("vanilla_gradient", sononet).attribute(torch.randn(1, 1, SIZE, SIZE))


@pytest.mark.parametrize(
    "images, error, message",
    [
        (torch.randn(1, SIZE, SIZE), ValueError, "4-D tensor \\[batch, channels, H, W\\].*image\\[None\\]"),
        (torch.zeros(1, 1, SIZE, SIZE, dtype=torch.int64), TypeError, "floating-point.*int64"),
        (torch.full((1, 1, SIZE, SIZE), float("nan")), ValueError, "NaN"),
        ([[0.0]], TypeError, "torch.Tensor"),
    ],
)
def test_bad_images_are_explained(sononet, images, error, message):
    with pytest.raises(error, match=message):
        attribution.make("grad_cam", sononet).attribute(images)


def test_unknown_method_lists_the_choices(sononet):
    with pytest.raises(ValueError, match="method must be one of 'vanilla_gradient', 'guided_backprop'.*got 'lime'"):
        attribution.make("lime", sononet)
