"""Segmentation networks (design §3.5): shapes, latent sizes, sampling, KL, learning, 3D, input checks."""

import math

import pytest
import torch

from medai_edu.models.segmentation import PHiSeg, ProbUNet, UNetSegmenter, build_segmenter, kl_diagonal_gaussians

TINY_UNET = dict(channels=(4, 8, 16, 32), num_res_units=0)


def tiny(name, **kw):
    sizes = {
        "unet": TINY_UNET,
        "prob_unet": dict(TINY_UNET, features=4),
        "phiseg_l1": dict(n0=2),
        "phiseg_l5": dict(n0=2),
    }
    return build_segmenter(name, **sizes[name], **kw)


@pytest.mark.parametrize(
    "levels, scale, sizes",
    [
        (1, 4, [(16, 16)]),
        (5, 4, [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1)]),
        (5, 2, [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]),
    ],
)
def test_phiseg_shapes_and_latent_sizes(levels, scale, sizes):
    torch.manual_seed(0)
    model = PHiSeg(latent_levels=levels, n0=2, latent_scale=scale).eval()
    x = torch.randn(2, 1, 64, 64)
    assert model.sample(x, 3).shape == (3, 2, 3, 64, 64)
    assert model(x).shape == (2, 3, 64, 64)
    assert model.latent_sizes((64, 64)) == sizes
    z, mu, sigma = model.prior.latents(model.prior.encoder(x))
    assert [tuple(t.shape) for t in z] == [(2, 2, *s) for s in sizes]  # 2 channels per latent map
    assert all(bool((s > 0).all()) for s in sigma)  # softplus
    parts = model.loss(x, torch.randint(0, 3, (2, 64, 64)))
    expected = sum(parts[f"ce_level{l}"] + 4**l * parts[f"kl_level{l}"] for l in range(levels))
    torch.testing.assert_close(parts["loss"].detach(), expected)


@pytest.mark.parametrize("name", ["prob_unet", "phiseg_l1", "phiseg_l5"])
def test_probabilistic_models_give_different_samples(name):
    torch.manual_seed(0)
    model = tiny(name).eval()
    samples = model.sample(torch.randn(1, 1, 64, 64), 4)
    assert samples.shape == (4, 1, 3, 64, 64)
    assert not torch.allclose(samples[0], samples[1])
    assert {"loss", "ce", "kl"} <= set(model.loss(torch.randn(2, 1, 64, 64), torch.zeros(2, 64, 64, dtype=torch.long)))


def test_sample_level_varies_one_latent_level_only():
    torch.manual_seed(0)
    model = tiny("phiseg_l5").eval()
    x = torch.randn(2, 1, 64, 64)
    coarse, fine = model.sample_level(x, 4, 3), model.sample_level(x, 0, 3)
    assert coarse.shape == fine.shape == (3, 2, 3, 64, 64)
    assert not torch.allclose(coarse[0], coarse[1]) and not torch.allclose(fine[0], fine[1])
    # with the noise of every level fixed, the ladder is deterministic: sample_level's recipe, done by hand
    features = model.prior.encoder(x)
    noise = [torch.randn(2, 2, *s) for s in model.latent_sizes((64, 64))]
    z1, _, _ = model.prior.latents(features, noise=noise)
    z2, _, _ = model.prior.latents(features, noise=noise)
    assert all(torch.equal(a, b) for a, b in zip(z1, z2))
    with pytest.raises(ValueError, match="level must be a whole number from 0 to 4"):
        model.sample_level(x, 5)


def test_unet_repeats_its_one_answer():
    model = tiny("unet").eval()
    x = torch.randn(2, 1, 32, 32)
    samples = model.sample(x, 5)
    assert samples.shape == (5, 2, 3, 32, 32)
    assert torch.equal(samples[0], samples[4])
    torch.testing.assert_close(samples[0], model(x))


def test_kl_of_diagonal_gaussians():
    mu, sigma = torch.randn(3, 2, 4, 4), torch.rand(3, 2, 4, 4) + 0.1
    assert kl_diagonal_gaussians(mu, sigma, mu, sigma).abs().max() < 1e-6
    one, zero = torch.ones(1), torch.zeros(1)
    assert kl_diagonal_gaussians(one, one, zero, one).item() == pytest.approx(0.5)  # (mu_q - mu_p)^2 / 2
    assert kl_diagonal_gaussians(zero, 2 * one, zero, one).item() == pytest.approx(math.log(0.5) + 2 - 0.5)


@pytest.mark.parametrize("name", ["unet", "prob_unet", "phiseg_l1", "phiseg_l5"])
def test_loss_decreases_on_a_tiny_overfitting_task(name):
    torch.manual_seed(0)
    model = tiny(name)
    s = torch.zeros(2, 64, 64, dtype=torch.long)
    s[0, 20:40, 24:44], s[1, 8:30, 30:50] = 1, 1
    s[0, 26:34, 30:38], s[1, 15:22, 36:44] = 2, 2
    x = s[:, None].float() + 0.3 * torch.randn(2, 1, 64, 64)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        loss = model.loss(x, s)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.mark.parametrize(
    "make",
    [lambda: PHiSeg(spatial_dims=3, latent_levels=2, n0=2), lambda: ProbUNet(spatial_dims=3, features=2, **TINY_UNET)],
)
def test_3d_forward(make):
    model = make()
    x = torch.randn(2, 1, 8, 8, 8)
    assert model.eval().sample(x, 2).shape == (2, 2, 3, 8, 8, 8)
    loss = model.train().loss(x, torch.randint(0, 3, (2, 8, 8, 8)))["loss"]
    assert torch.isfinite(loss)
    loss.backward()


def test_bad_inputs_are_explained():
    model = tiny("phiseg_l5")
    with pytest.raises(ValueError, match=r"1 channel.*got shape \(1, 3, 64, 64\)"):
        model.sample(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match=r"divisible by 32.*\(48, 64\)"):
        model.sample(torch.randn(1, 1, 48, 64))
    with pytest.raises(ValueError, match=r"label map per image, shape \(2, 64, 64\).*got \(2, 6, 64, 64\)"):
        model.loss(torch.randn(2, 1, 64, 64), torch.zeros(2, 6, 64, 64, dtype=torch.long))
    with pytest.raises(TypeError, match="integer tensor of class numbers"):
        model.loss(torch.randn(2, 1, 64, 64), torch.zeros(2, 64, 64))
    with pytest.raises(ValueError, match=r"classes 0 \.\. 2, got 3 \.\. 3"):
        model.loss(torch.randn(2, 1, 64, 64), torch.full((2, 64, 64), 3))
    with pytest.raises(ValueError, match="n must be a whole number of 1 or more"):
        model.sample(torch.randn(1, 1, 64, 64), 0)
    with pytest.raises(ValueError, match="divisible by 8"):
        UNetSegmenter(**TINY_UNET).sample(torch.randn(1, 1, 36, 36))
    with pytest.raises(ValueError, match="name must be one of 'unet', 'prob_unet'"):
        build_segmenter("phiseg_l3")
    with pytest.raises(ValueError, match="spatial_dims"):
        PHiSeg(spatial_dims=1)
    with pytest.raises(ValueError, match="latent_scale must be one of 1, 2, 4, 8.*got 3"):
        PHiSeg(latent_scale=3)
