"""VA-GAN losses on hand-checked cases, the critic schedule, and exact resuming."""

import json

import pytest
import torch
from torch import nn

from medai_edu.training.common import load_checkpoint
from medai_edu.training.vagan import (
    VAGANConfig,
    critic_loss,
    generator_loss,
    gradient_penalty,
    train_vagan,
)


class LinearCritic(nn.Module):
    """D(x) = sum(w * x): its gradient is w everywhere, so the penalty is (||w|| - 1)^2."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1)


def test_gradient_penalty_of_a_linear_critic():
    w = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])  # norm 5 over all non-batch axes
    critic = LinearCritic(w)
    x0, y = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    gp = gradient_penalty(critic, x0, y)
    assert gp.item() == pytest.approx(16.0)
    gp.backward()  # differentiable w.r.t. the critic: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(critic.w.grad, 2 * 4 * w / 5)


def test_gradient_penalty_uses_per_sample_interpolation():
    class Square(nn.Module):  # D(x) = sum(x^2): gradient 2 x_hat depends on where x_hat lies
        def forward(self, x):
            return (x**2).flatten(1).sum(1)

    x0, y = torch.ones(2, 1, 1, 1), torch.zeros(2, 1, 1, 1)
    gp = gradient_penalty(Square(), x0, y, alpha=torch.tensor([0.5, 1.0]))
    # x_hat = 0.5 and 1.0 -> gradient norms 1 and 2 -> mean((0)^2, (1)^2) = 0.5
    assert gp.item() == pytest.approx(0.5)


def test_critic_and_generator_losses_by_hand():
    assert critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([4.0, 6.0])).item() == pytest.approx(-3.0)
    x = torch.zeros(2, 1, 2, 2)
    y = x + 0.5
    assert generator_loss(torch.tensor([1.0, 3.0]), y, x).item() == pytest.approx(2.0 + 100 * 0.5)
    with pytest.raises(ValueError, match="one score per image"):
        critic_loss(torch.zeros(2, 1), torch.zeros(2))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(LinearCritic(torch.ones(1, 2, 2)), torch.zeros(2, 1, 2, 2), torch.zeros(3, 1, 2, 2))


def test_sign_convention_generator_and_critic_pull_in_opposite_directions():
    """The critic lowers its loss by scoring healthy images low and generated ones high;
    the generator lowers its loss by making D(y) low — the same direction as healthy."""
    healthy, generated = torch.tensor([0.0]), torch.tensor([1.0], requires_grad=True)
    critic_loss(healthy, generated).backward()
    assert generated.grad.item() < 0  # critic wants D(y) up
    generated.grad = None
    generator_loss(generated, torch.zeros(1, 1), torch.zeros(1, 1)).backward()
    assert generated.grad.item() > 0  # generator wants D(y) down


def test_a_critic_trained_with_the_loss_scores_healthy_images_lower():
    """The convention everywhere (models/vagan.py, the losses, lesson 1): lower score = more like real healthy images."""
    from medai_edu.models.vagan import Critic

    torch.manual_seed(0)
    critic = Critic(widths=(2, 4, 4, 8, 8))
    healthy = torch.randn(8, 1, 32, 32) * 0.1
    generated = healthy + torch.where(torch.rand(8, 1, 32, 32) > 0.9, 1.0, 0.0)  # "lesions" left behind
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.0, 0.9))
    for _ in range(30):
        loss = critic_loss(critic(healthy), critic(generated)) + 10 * gradient_penalty(critic, healthy, generated)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert critic(healthy).mean() < critic(generated).mean()
    assert "lower** score means" in " ".join(Critic.__doc__.split())


def test_critic_schedule_follows_the_design():
    cfg = VAGANConfig()
    steps = [cfg.critic_steps_at(s) for s in (0, 24, 25, 99, 100, 101, 200, 250)]
    assert steps == [100, 100, 5, 5, 100, 5, 100, 5]


def test_learning_rate_decays_linearly_to_zero_when_asked():
    assert VAGANConfig().lr_at(999) == 1e-4  # the design: constant
    cfg = VAGANConfig(gen_steps=600, lr_decay_start=300)
    assert [cfg.lr_at(s) for s in (0, 299, 300, 450)] == pytest.approx([1e-4, 1e-4, 1e-4, 0.5e-4])
    assert cfg.lr_at(600) == 0.0
    with pytest.raises(ValueError, match="select must be"):
        VAGANConfig(select="best")


TINY = dict(
    size=32,
    batch_size=4,
    gen_steps=4,
    critic_steps=2,
    warmup_critic_steps=3,
    warmup_gen_steps=1,
    gen_widths=(2, 4, 4, 8),
    critic_widths=(2, 2, 4, 4, 4),
    val_every=2,
    n_val=8,
    select_after=2,
    checkpoint_every=2,
)


def test_resuming_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    torch.set_num_threads(1)
    train_vagan(VAGANConfig(**TINY), out_dir=tmp_path / "a", device="cpu", progress=False)
    train_vagan(VAGANConfig(**TINY), out_dir=tmp_path / "b", device="cpu", progress=False, stop_after=2)
    _, history = train_vagan(VAGANConfig(**TINY), out_dir=tmp_path / "b", device="cpu", progress=False, resume=True)
    straight, resumed = (load_checkpoint(tmp_path / run / "last.pt") for run in "ab")
    assert straight["step"] == resumed["step"] == 4
    for net in ("generator", "critic"):
        for name, a in straight[net].items():
            torch.testing.assert_close(a, resumed[net][name], rtol=0, atol=0, msg=f"{net}.{name}")
    assert history["step"] == [2, 4] and history["best_step"] in (2, 4)
    assert sorted(p.name for p in (tmp_path / "b" / "snapshots").iterdir()) == ["step00002.pt", "step00004.pt"]
    for name, value in load_checkpoint(tmp_path / "b" / "snapshots" / "step00004.pt")["generator"].items():
        torch.testing.assert_close(resumed["generator"][name], value, rtol=0, atol=0)
    assert (tmp_path / "b" / "best.pt").is_file()
    with pytest.raises(ValueError, match="different configuration.*lr"):
        train_vagan(
            VAGANConfig(**{**TINY, "lr": 1e-3}), out_dir=tmp_path / "b", device="cpu", progress=False, resume=True
        )
    longer, history = train_vagan(
        VAGANConfig(**{**TINY, "gen_steps": 6}), out_dir=tmp_path / "b", device="cpu", progress=False, resume=True
    )
    assert history["step"] == [2, 4, 6] and load_checkpoint(tmp_path / "b" / "last.pt")["step"] == 6
    last, history = train_vagan(
        VAGANConfig(**{**TINY, "gen_steps": 6, "select": "last"}),
        out_dir=tmp_path / "b",
        device="cpu",
        progress=False,
        resume=True,
    )
    assert history["best_step"] == 6
    for name, value in load_checkpoint(tmp_path / "b" / "last.pt")["generator"].items():
        torch.testing.assert_close(last.state_dict()[name], value, rtol=0, atol=0)
    by_ncc, history = train_vagan(
        VAGANConfig(**{**TINY, "gen_steps": 6, "select": "ncc"}),
        out_dir=tmp_path / "b",
        device="cpu",
        progress=False,
        resume=True,
    )
    assert history["best_val_ncc"] == max(history["val_ncc"])  # all three steps are >= select_after
    snapshot = load_checkpoint(tmp_path / "b" / "snapshots" / f"step{history['best_step']:05d}.pt")["generator"]
    for name, value in snapshot.items():
        torch.testing.assert_close(by_ncc.state_dict()[name], value, rtol=0, atol=0)
    with pytest.raises(FileNotFoundError, match="resume"):
        train_vagan(VAGANConfig(**TINY), out_dir=tmp_path / "none", device="cpu", progress=False, resume=True)


def test_train_command_writes_weights_and_manifest(tmp_path, monkeypatch, capsys):
    from medai_edu_ops import cli

    from medai_edu import pretrained
    from medai_edu.training import vagan

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(vagan, "VAGANConfig", lambda **kw: VAGANConfig(**{**TINY, **kw}))
    monkeypatch.setattr(
        vagan, "evaluate_ncc", lambda g, ds, limit=None: {"ncc_mean": 0.0, "ncc_std": 0.0, "n_images": 0}
    )
    recipe = ["--lr-decay-start", "1", "--l1-weight", "50.0", "--gen-widths", "8", "16", "16", "32"]
    args = ["train", "vagan", "--data", "toy", "--size", "32", "--steps", "2", "--out", "w", "--device", "cpu"]
    assert cli.main(args + recipe) == 0
    manifest = json.loads((tmp_path / "w" / "toy_vagan.json").read_text())
    assert manifest["command"] == "medai-edu train vagan --data toy --seed 42 --steps 2 --size 32 --out w " + " ".join(
        recipe
    )
    training = manifest["training"]
    assert manifest["kind"] == "vagan_generator" and training["gen_steps"] == 2
    assert training["lr_decay_start"] == 1 and training["l1_weight"] == 50 and training["gen_widths"] == [8, 16, 16, 32]
    assert (tmp_path / "w" / "checkpoints" / "last.pt").is_file(), "checkpoints go beside the weights"
    gen = pretrained.load_model("toy_vagan", tmp_path / "w")
    assert gen.config["widths"] == [8, 16, 16, 32] and gen(torch.zeros(1, 1, 32, 32)).shape == (1, 1, 32, 32)
