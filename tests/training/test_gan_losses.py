import math

import pytest
import torch

from facezoo.losses import add_spectral_norm, discriminator_loss, generator_loss, r1_penalty, requires_grad

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def _softplus(x):
    return math.log1p(math.exp(x))


def test_non_saturating_and_bce_match_the_formula():
    expected_d = (_softplus(-2.0) + _softplus(1.0)) / 2 + (_softplus(0.5) + _softplus(-3.0)) / 2
    expected_g = (_softplus(-0.5) + _softplus(3.0)) / 2
    for kind in ("non_saturating", "bce"):
        assert discriminator_loss(REAL, FAKE, kind).item() == pytest.approx(expected_d, rel=1e-6)
        assert generator_loss(FAKE, kind).item() == pytest.approx(expected_g, rel=1e-6)


def test_hinge_matches_the_formula():
    # relu(1 - [2, -1]) = [0, 2]; relu(1 + [0.5, -3]) = [1.5, 0]
    assert discriminator_loss(REAL, FAKE, "hinge").item() == pytest.approx(1.0 + 0.75)
    assert generator_loss(FAKE, "hinge").item() == pytest.approx(1.25)
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        generator_loss(FAKE, "wgan")


def test_r1_equals_the_squared_weight_norm_of_a_linear_critic():
    w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    x = torch.randn(4, 3, requires_grad=True)
    penalty = r1_penalty(x @ w, x)  # grad_x (x . w) = w for every sample
    assert penalty.item() == pytest.approx(5.25)  # 1 + 4 + 0.25
    (grad_w,) = torch.autograd.grad(penalty, w)
    assert torch.allclose(grad_w, 2 * w)  # differentiable in the critic weights, to train D with it
    with pytest.raises(ValueError, match="requires_grad"):
        r1_penalty(x.detach() @ w, x.detach())


def test_requires_grad_switches_one_or_several_models():
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    requires_grad([a, b], False)
    assert not any(p.requires_grad for p in [*a.parameters(), *b.parameters()])
    requires_grad(a, True)
    assert all(p.requires_grad for p in a.parameters()) and not any(p.requires_grad for p in b.parameters())


def test_spectral_norm_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    net = add_spectral_norm(torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4)))
    add_spectral_norm(net)  # idempotent
    net.train()
    for _ in range(50):  # power iterations run in training-mode forwards
        net(torch.randn(2, 16))
    for layer in (net[0], net[2]):
        sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=1e-3)
    assert any("parametrizations.weight.original" in k for k in net.state_dict())
