"""The one train-save-reload path: what a manifest records is measured on the copy read back from the file."""

from __future__ import annotations

import pytest
import torch

from medai_edu import pretrained
from medai_edu.models.classifier import SonoNet
from medai_edu.models.segmentation import MODELS, build_segmenter
from medai_edu.models.vagan import Critic, MapGenerator
from medai_edu.training.classifier import ClassifierConfig, train_and_save_classifier
from medai_edu.training.common import save_and_score


def test_scores_are_of_the_copy_read_back_from_the_file(tmp_path):
    torch.manual_seed(0)
    model = SonoNet(k=2).eval()
    seen = {}

    def score(reloaded):
        seen.update(reloaded.state_dict())
        return {"answer": 1.0}

    manifest = save_and_score(
        model,
        "tiny",
        score=score,
        training=ClassifierConfig(k=2),
        seconds=1.234,
        seed=7,
        command="x",
        out=tmp_path,
        half=True,
    )
    stored = pretrained.load_state_dict("tiny", tmp_path)  # checks the sha256 in the manifest
    assert seen.keys() == stored.keys() and all(torch.equal(seen[k], stored[k]) for k in stored)
    weight = "features.block1.conv1.weight"
    assert not torch.equal(seen[weight], model.state_dict()[weight]), "float16 on disk: the score saw the rounded copy"
    assert torch.allclose(seen[weight], model.state_dict()[weight], atol=1e-3)
    assert manifest["metrics"] == {"answer": 1.0, "train_seconds": 1.2, "device": "cpu"}
    assert manifest["kind"] == "sononet" and manifest["config"] == model.config and manifest["seed"] == 7
    assert manifest["training"]["k"] == 2 and manifest["training"]["blocks"] == [2, 2, 3, 3, 3]
    assert manifest["dtype"] == "float16" and "data" not in manifest
    assert pretrained.load_manifest("tiny", tmp_path) == manifest


@pytest.mark.parametrize(
    "model",
    [SonoNet(k=2), MapGenerator(widths=(2, 4, 8, 16)), Critic(widths=(2, 4, 8, 8, 8))]
    + [build_segmenter(name, n0=2) if "phiseg" in name else build_segmenter(name) for name in MODELS],
    ids=lambda m: type(m).__name__,
)
def test_every_model_names_the_kind_that_rebuilds_it(model):
    rebuilt = pretrained.build_model(model.kind, model.config)
    assert type(rebuilt) is type(model)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


def test_classifier_train_save_reload(tmp_path, monkeypatch):
    from medai_edu.training import classifier

    tiny = dict(k=2, max_steps=3, eval_every=2, n_val=16, batch_size=8)
    real_config, real = classifier.ClassifierConfig, classifier.get_dataset
    monkeypatch.setattr(classifier, "ClassifierConfig", lambda **kw: real_config(**{**tiny, **kw}))
    monkeypatch.setattr(classifier, "get_dataset", lambda name, split, **kw: real(name, split, **{**kw, "limit": 32}))
    manifest = train_and_save_classifier("toy", out=str(tmp_path), size=32, device="cpu", progress=False)
    assert manifest["command"] == "medai-edu train classifier --data toy"
    assert (
        manifest["data"] == {"dataset": "toy", "size": 32, "data_seed": 42} and manifest["training"]["max_steps"] == 3
    )
    metrics = manifest["metrics"]
    assert list(metrics) == [
        "test_accuracy",
        "n_test",
        "best_val_accuracy",
        "best_step",
        "train_seconds",
        "device",
    ]
    model = pretrained.load_model("toy_classifier", tmp_path)
    test = real("toy", "test", size=32, limit=32)
    assert classifier.evaluate_accuracy(model, test) == metrics["test_accuracy"] and metrics["n_test"] == 32
