"""Saved weights round-trip, and damaged or missing files are refused with a retrain command."""

import json

import pytest
import torch

from medai_edu import pretrained
from medai_edu.models.classifier import SonoNet


def save_tiny(directory, half=False):
    torch.manual_seed(0)
    model = SonoNet(k=2).eval()
    pretrained.save_weights(
        model,
        "tiny",
        kind="sononet",
        config=model.config,
        seed=0,
        command="medai-edu train classifier --data toy --seed 0",
        directory=directory,
        metrics={"test_accuracy": 0.5},
        half=half,
    )
    return model


@pytest.mark.parametrize("half", [False, True])
def test_round_trip(tmp_path, half):
    model = save_tiny(tmp_path, half)
    loaded = pretrained.load_model("tiny", tmp_path)
    x = torch.randn(2, 1, 32, 32)
    tol = dict(rtol=1e-2, atol=1e-2) if half else dict(rtol=0, atol=0)
    torch.testing.assert_close(loaded(x), model(x), **tol)
    manifest = pretrained.load_manifest("tiny", tmp_path)
    assert manifest["sha256"] == pretrained.sha256_of(tmp_path / "tiny.safetensors")
    assert manifest["dtype"] == ("float16" if half else "float32") and manifest["seed"] == 0
    assert pretrained.update_metrics("tiny", {"ncc": 0.9}, tmp_path)["metrics"] == {"test_accuracy": 0.5, "ncc": 0.9}


def test_corrupted_file_is_refused_with_the_command(tmp_path):
    save_tiny(tmp_path)
    path = tmp_path / "tiny.safetensors"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        pretrained.WeightsError, match=r"corrupted(.|\n)*medai-edu train classifier --data toy --seed 0"
    ):
        pretrained.load_model("tiny", tmp_path)


def test_missing_files_are_refused_with_the_command(tmp_path):
    save_tiny(tmp_path)
    (tmp_path / "tiny.safetensors").unlink()
    with pytest.raises(pretrained.WeightsError, match="missing(.|\n)*medai-edu train classifier"):
        pretrained.load_model("tiny", tmp_path)
    with pytest.raises(pretrained.WeightsError, match="medai-edu train vagan --data toy"):
        pretrained.load_model("toy_vagan", tmp_path / "empty")


def test_mismatched_config_is_refused(tmp_path):
    save_tiny(tmp_path)
    manifest = json.loads((tmp_path / "tiny.json").read_text())
    manifest["config"]["k"] = 4
    (tmp_path / "tiny.json").write_text(json.dumps(manifest))
    with pytest.raises(pretrained.WeightsError, match="do not fit"):
        pretrained.load_model("tiny", tmp_path)
    with pytest.raises(ValueError, match="plain model name"):
        pretrained.load_model("../tiny", tmp_path)


def test_shipped_classifier_verifies_and_classifies():
    from medai_edu.data.toy import ToyBoxDataset, load_arrays

    manifest = pretrained.load_manifest("toy_classifier")
    assert manifest["metrics"]["test_accuracy"] >= 0.99
    model = pretrained.load_model("toy_classifier")
    test = ToyBoxDataset("test", size=manifest["data"]["size"])
    images, labels, _ = load_arrays(test.indices[:32])
    with torch.no_grad():
        predicted = model(torch.from_numpy(images)).argmax(1).numpy()
    assert (predicted == labels).mean() >= 0.95


def test_shipped_vagan_verifies_and_finds_the_boxes():
    from medai_edu.data.toy import ToyBoxDataset, load_arrays
    from medai_edu.metrics import ncc
    from medai_edu.models.vagan import disease_effect

    manifest = pretrained.load_manifest("toy_vagan")
    generator = pretrained.load_model("toy_vagan")
    test = ToyBoxDataset("test", size=manifest["data"]["size"], only_label=1)
    images, _, masks = load_arrays(test.indices[:16], size=manifest["data"]["size"])
    scores = ncc(disease_effect(generator, torch.from_numpy(images)), masks, batch=True)
    assert abs(scores.mean() - manifest["metrics"]["ncc_mean"]) < 3 * manifest["metrics"]["ncc_std"]
    assert scores.mean() > 0.6


def test_every_shipped_manifest_names_a_model_class():
    """build_model finds each class by the kind it carries; an unknown kind names the known ones."""
    manifests = [json.loads(path.read_text()) for path in sorted(pretrained.PRETRAINED_DIR.glob("*.json"))]
    assert len({m["kind"] for m in manifests}) >= 4  # classifier, VA-GAN's generator, segmenters
    for manifest in manifests:
        assert type(pretrained.build_model(manifest["kind"], manifest["config"])).kind == manifest["kind"]
    with pytest.raises(ValueError, match=r"Unknown model kind 'resnet'; expected one of 'sononet', .*'phiseg'"):
        pretrained.build_model("resnet", {})
