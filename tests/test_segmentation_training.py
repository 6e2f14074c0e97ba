"""Segmentation training on a tiny multi-rater set: augmentation, exact resuming, saved weights."""

import pytest
import torch

from medai_edu import pretrained
from medai_edu.training.segmentation import SegmenterConfig, augment, train_and_save_segmenter, train_segmenter


class TinyMultiRater:
    """Discs of random position; 6 raters outline them with different radii (core 1, rim 2)."""

    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
        self.items = []
        for _ in range(n):
            cy, cx = torch.randint(20, 44, (2,), generator=g).tolist()
            dist = ((yy - cy) ** 2 + (xx - cx) ** 2).sqrt()
            image = (torch.exp(-dist / 8) + 0.1 * torch.randn(64, 64, generator=g))[None].float()
            masks = torch.stack([(dist < 8 + r).long() + (dist < 4 + r / 2).long() for r in range(6)])
            self.items.append((image, masks))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


DATA = {"train": TinyMultiRater(12, 0), "val": TinyMultiRater(3, 1)}


def quick(**kw):
    return SegmenterConfig(
        **{
            "model": "phiseg_l5",
            "steps": 6,
            "batch_size": 4,
            "val_every": 4,
            "n_val": 2,
            "val_samples": 3,
            "checkpoint_every": 2,
            "model_overrides": {"n0": 2},
            **kw,
        }
    )


def test_augment_moves_image_and_mask_together():
    torch.manual_seed(0)
    masks = torch.stack([item[1][0] for item in DATA["train"].items[:6]]).clone()
    masks[:, :10, :5] = 2  # an asymmetric mark, so that every flip shows
    flips_only = quick(rotate_degrees=0.0, scale=(1.0, 1.0))
    image, mask = augment(masks[:, None].float(), masks, flips_only)
    torch.testing.assert_close(
        image[:, 0], mask.float(), rtol=0, atol=1e-4
    )  # flips map pixel centres onto pixel centres
    variants = [masks, masks.flip(-1), masks.flip(-2), masks.flip(-1, -2)]
    assert all(any(torch.equal(mask[i], v[i]) for v in variants) for i in range(6))
    assert not all(torch.equal(mask[i], masks[i]) for i in range(6))
    image, mask = augment(masks[:, None].float(), masks, quick())
    assert (image[:, 0].round().long() == mask).float().mean() > 0.97  # bilinear vs nearest differ only at borders
    assert mask.dtype == torch.long and set(mask.unique().tolist()) <= {0, 1, 2}


def test_resume_gives_identical_weights(tmp_path):
    # on the CPU: CUDA's kernels add in a varying order, so there even two uninterrupted runs differ in the last bit
    run = dict(device="cpu", progress=False)
    full, history = train_segmenter(quick(), DATA, out_dir=tmp_path / "full", **run)
    train_segmenter(quick(), DATA, out_dir=tmp_path / "cut", stop_after=3, **run)
    resumed, resumed_history = train_segmenter(quick(), DATA, out_dir=tmp_path / "cut", resume=True, **run)
    for key, value in full.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
    assert history["step"] == resumed_history["step"] == [4, 6]
    assert history["best_step"] == resumed_history["best_step"] in (4, 6)  # the weights with the lowest validation GED
    assert {"ged_mean", "sncc_mean", "dice_mean"} <= set(history["val"][-1])
    with pytest.raises(ValueError, match="batch_size"):
        train_segmenter(quick(batch_size=2), DATA, out_dir=tmp_path / "cut", resume=True, **run)


def test_train_and_save_writes_a_manifest_and_weights_reload(tmp_path):
    manifest = train_and_save_segmenter(
        "phiseg_l1", out=str(tmp_path), steps=2, progress=False, dataset=DATA, run_dir=str(tmp_path / "run"), seed=3
    )
    assert manifest["kind"] == "phiseg" and manifest["config"]["latent_levels"] == 1 and manifest["seed"] == 3
    assert manifest["command"] == "medai-edu train segmenter --net phiseg_l1"
    assert manifest["training"]["batch_size"] == 12 and manifest["metrics"]["n_images"] == 3
    assert 0 <= manifest["metrics"]["dice_mean"] <= 1 and manifest["metrics"]["parameters"] > 0
    model = pretrained.load_model("multirater_phiseg_l1", tmp_path)
    assert model.sample(torch.randn(1, 1, 64, 64), 2).shape == (2, 1, 3, 64, 64)


def test_bad_settings_and_data_are_explained():
    with pytest.raises(ValueError, match="model must be one of 'unet'"):
        SegmenterConfig(model="phiseg_l2")
    with pytest.raises(ValueError, match="unet_raters"):
        SegmenterConfig(model="unet", unet_raters="rater0")
    flat = {"train": [(torch.zeros(1, 64, 64), torch.zeros(64, 64, dtype=torch.long))] * 12, "val": DATA["val"]}
    with pytest.raises(ValueError, match=r"rater masks \[raters, H, W\].*got image \(1, 64, 64\) and masks \(64, 64\)"):
        train_segmenter(quick(), flat, progress=False)
    with pytest.raises(KeyError, match="'val' is missing"):
        train_segmenter(quick(), {"train": DATA["train"]}, progress=False)


def test_learning_rate_is_constant_then_falls_linearly_to_zero():
    config = SegmenterConfig(steps=100, lr=1e-3, lr_decay_from=0.5)
    assert config.lr_at(0) == config.lr_at(49) == 1e-3
    assert config.lr_at(75) == pytest.approx(0.5e-3) and config.lr_at(100) == 0.0
    assert SegmenterConfig(steps=10, lr_decay_from=1.0).lr_at(9) == 1e-3
    with pytest.raises(ValueError, match="lr_decay_from"):
        SegmenterConfig(lr_decay_from=1.5)
