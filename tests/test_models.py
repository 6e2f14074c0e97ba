"""Network shapes in 2D and 3D, names needed by saliency methods, and input checks."""

import pytest
import torch
from torch import nn

from medai_edu.models.classifier import SONONET_BLOCKS, SonoNet
from medai_edu.models.vagan import Critic, MapGenerator


@pytest.mark.parametrize("spatial_dims, shape", [(2, (3, 1, 48, 64)), (3, (2, 1, 32, 32, 32))])
def test_sononet_shapes(spatial_dims, shape):
    net = SonoNet(spatial_dims=spatial_dims, k=2, num_classes=3).eval()
    x = torch.randn(shape)
    maps = net.class_maps(x)
    assert maps.shape == (shape[0], 3, *(s // 16 for s in shape[2:]))
    torch.testing.assert_close(net(x), maps.flatten(2).mean(-1))  # logits = averaged class maps


def test_sononet_layout_and_names_for_saliency():
    net = SonoNet(k=4, blocks=SONONET_BLOCKS)
    convs = [m for m in net.features.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4] * 2 + [8] * 2 + [16] * 3 + [32] * 3 + [32] * 3
    assert sum(isinstance(m, nn.MaxPool2d) for m in net.modules()) == 4
    relus = [name for name, m in net.named_modules() if isinstance(m, nn.ReLU)]
    assert relus and all("relu" in name for name in relus)  # MONAI guided backprop finds them all
    assert isinstance(dict(net.named_modules())[net.gradcam_layer], nn.ReLU)
    assert net.gradcam_layer == "features.block5.relu3"


def test_sononet_input_errors_say_what_was_expected():
    net = SonoNet(k=2)
    with pytest.raises(ValueError, match=r"x\[None\].*|got shape \(1, 112, 112\)"):
        net(torch.randn(1, 112, 112))
    with pytest.raises(TypeError, match="floating-point"):
        net(torch.zeros(1, 1, 32, 32, dtype=torch.int64))
    with pytest.raises(ValueError, match="spatial_dims"):
        SonoNet(spatial_dims=4)


@pytest.mark.parametrize("spatial_dims, shape", [(2, (2, 1, 56, 56)), (3, (1, 1, 16, 16, 24))])
def test_vagan_networks_shapes(spatial_dims, shape):
    gen = MapGenerator(spatial_dims, widths=(2, 4, 8, 16))
    critic = Critic(spatial_dims, widths=(2, 4, 8, 8, 8))
    x = torch.randn(shape)
    assert gen(x).shape == x.shape
    assert critic(x).shape == (shape[0],)
    tanh_gen = MapGenerator(spatial_dims, widths=(2, 4, 8, 16), output="tanh")
    assert tanh_gen.translate(x).abs().max() <= 1


def test_vagan_layouts_follow_the_design():
    critic = Critic()
    widths = [m.out_channels for m in critic.modules() if isinstance(m, nn.Conv2d)]
    assert widths == [16, 32, 64, 64, 128, 128, 256, 256, 256, 1]
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
    gen = MapGenerator()
    assert sum(isinstance(m, nn.MaxPool2d) for m in gen.modules()) == 1  # one pool module, used 3 times
    assert max(m.out_channels for m in gen.modules() if isinstance(m, nn.Conv2d)) == 128
    assert gen.out.out_channels == 1 and gen.out.kernel_size == (1, 1)


def test_vagan_input_errors():
    with pytest.raises(ValueError, match="divisible by 8"):
        MapGenerator(widths=(2, 4, 8, 16))(torch.randn(1, 1, 60, 60))
    with pytest.raises(ValueError, match=r"got shape \(1, 56, 56\)"):
        Critic()(torch.randn(1, 56, 56))
    with pytest.raises(ValueError, match="output"):
        MapGenerator(output="sigmoid")


def _medai_edu_train(argv: list[str]) -> int:
    from medai_edu_ops import cli

    return cli.main(["train", *argv])


def _library_train(argv: list[str]) -> int:
    from medai_edu.training import command

    return command.main(argv)


#: the course operations' `medai-edu train` and the library's `python -m medai_edu.training` (what students have)
TRAIN_COMMANDS = {"medai-edu train": _medai_edu_train, "python -m medai_edu.training": _library_train}


@pytest.mark.parametrize("prog", TRAIN_COMMANDS)
def test_classifier_training_command_runs_end_to_end(prog, tmp_path, monkeypatch):
    import json

    from medai_edu.training import classifier

    tiny = dict(k=2, max_steps=3, eval_every=2, n_val=16, batch_size=8)
    real_config, real = classifier.ClassifierConfig, classifier.get_dataset
    monkeypatch.setattr(classifier, "ClassifierConfig", lambda **kw: real_config(**{**tiny, **kw}))
    monkeypatch.setattr(classifier, "get_dataset", lambda name, split, **kw: real(name, split, **{**kw, "limit": 32}))
    out = tmp_path / "w"
    assert (
        TRAIN_COMMANDS[prog](["classifier", "--data", "toy", "--size", "32", "--out", str(out), "--device", "cpu"]) == 0
    )
    manifest = json.loads((out / "toy_classifier.json").read_text())
    assert manifest["command"] == f"{prog} classifier --data toy --seed 42 --size 32 --out {out}"
    assert 0.0 <= manifest["metrics"]["test_accuracy"] <= 1.0 and manifest["metrics"]["n_test"] == 32


@pytest.mark.parametrize("prog", TRAIN_COMMANDS)
@pytest.mark.parametrize("where", [[], ["--out", "PRETRAINED"]])
def test_train_refuses_to_replace_the_shipped_weights_unasked(where, prog, capsys):
    from medai_edu import pretrained

    before = {p.name: p.stat().st_mtime_ns for p in pretrained.PRETRAINED_DIR.iterdir()}
    args = [str(pretrained.PRETRAINED_DIR) if w == "PRETRAINED" else w for w in where]
    assert TRAIN_COMMANDS[prog](["classifier", "--data", "toy", "--steps", "1", "--device", "cpu", *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith(prog) and "--out" in error and "--replace-shipped" in error
    assert str(pretrained.PRETRAINED_DIR) in error
    assert {p.name: p.stat().st_mtime_ns for p in pretrained.PRETRAINED_DIR.iterdir()} == before
