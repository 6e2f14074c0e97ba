from __future__ import annotations

import numpy as np
import pytest
import torch

from medai_edu.device import DEVICE_ENV, get_device, seed_everything


def test_default_device_is_the_best_available(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device().type == expected


def test_environment_variable_forces_cpu(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "CPU")
    assert get_device() == torch.device("cpu")


def test_unknown_device_names_the_choices(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="expected one of cuda, mps, cpu"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_device_is_an_error_not_a_silent_fallback():
    with pytest.raises(RuntimeError, match="not available"):
        get_device("cuda")


def test_seeding_repeats_random_numbers():
    seed_everything(7)
    first = (np.random.rand(3), torch.rand(3))
    seed_everything(7)
    second = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_seed_must_be_an_integer():
    with pytest.raises(TypeError, match="seed must be an integer"):
        seed_everything("42")
