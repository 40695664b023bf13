"""Normal, Bernoulli, Categorical and kl_divergence against torch.distributions: log_prob,
entropy and KL values and their gradients with respect to the parameters (float64), the
reparameterized sample's gradient, sample shapes and seeding, and clear errors."""

import numpy as np
import pytest
import torch
import torch.distributions as TD
from conftest import assert_close

import nabla
import nabla.distributions as D


def _pair(rng, shape, positive=False):
    a = rng.standard_normal(shape)
    a = np.abs(a) + 0.3 if positive else a
    return nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(n_out, t_out, n_params, t_params, rng, what):
    assert_close(n_out, t_out, what=what)
    g = rng.standard_normal(tuple(t_out.shape))
    n_out.backward(nabla.tensor(g))
    t_out.backward(torch.tensor(g))
    for a, b in zip(n_params, t_params):
        if b.grad is None:  # the value does not depend on this parameter
            assert a.grad is None
        else:
            assert_close(a.grad, b.grad, what=f"{what} grad")


def test_normal_log_prob_entropy_kl(rng):
    (nl, tl), (ns, ts) = _pair(rng, (3, 2)), _pair(rng, (3, 2), positive=True)
    x = rng.standard_normal((4, 3, 2))
    _check(D.Normal(nl, ns).log_prob(nabla.tensor(x)), TD.Normal(tl, ts).log_prob(
        torch.tensor(x)), (nl, ns), (tl, ts), rng, "log_prob")
    (nl, tl), (ns, ts) = _pair(rng, (3,)), _pair(rng, (3,), positive=True)
    _check(D.Normal(nl, ns).entropy(), TD.Normal(tl, ts).entropy(), (nl, ns), (tl, ts), rng,
           "entropy")
    (nl, tl), (ns, ts) = _pair(rng, (3,)), _pair(rng, (3,), positive=True)
    half, two = nabla.tensor(0.5, dtype=nabla.float64), nabla.tensor(2.0, dtype=nabla.float64)
    _check(D.kl_divergence(D.Normal(nl, ns), D.Normal(half, two)),
           TD.kl_divergence(TD.Normal(tl, ts), TD.Normal(torch.tensor(0.5, dtype=torch.float64),
                                                         torch.tensor(2.0, dtype=torch.float64))),
           (nl, ns), (tl, ts), rng, "kl")


def test_normal_rsample_carries_the_gradient_and_sample_does_not():
    nabla.manual_seed(0)
    loc = nabla.tensor([1.0, -2.0], requires_grad=True)
    scale = nabla.tensor([0.5, 3.0], requires_grad=True)
    z = D.Normal(loc, scale).rsample((5,))
    assert z.shape == (5, 2)
    z.sum().backward()
    eps = (z.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-6)
    s = D.Normal(loc, scale).sample((3,))
    assert s.shape == (3, 2) and not s.requires_grad
    nabla.manual_seed(1)
    a = D.Normal(0.0, 1.0).sample((4,))
    nabla.manual_seed(1)
    np.testing.assert_array_equal(a.numpy(), D.Normal(0.0, 1.0).sample((4,)).numpy())


@pytest.mark.parametrize("given", ["logits", "probs"])
def test_bernoulli_matches_torch(given, rng):
    if given == "logits":
        n, t = _pair(rng, (4,))
    else:
        p = rng.uniform(0.05, 0.95, 4)
        n, t = nabla.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    x = rng.integers(0, 2, (3, 4)).astype(np.float64)
    _check(D.Bernoulli(**{given: n}).log_prob(nabla.tensor(x)),
           TD.Bernoulli(**{given: t}).log_prob(torch.tensor(x)), (n,), (t,), rng, "log_prob")
    n.grad, t.grad = None, None
    _check(D.Bernoulli(**{given: n}).entropy(), TD.Bernoulli(**{given: t}).entropy(), (n,),
           (t,), rng, "entropy")
    n.grad, t.grad = None, None
    q = nabla.tensor(0.3, dtype=nabla.float64)
    _check(D.kl_divergence(D.Bernoulli(**{given: n}), D.Bernoulli(probs=q)),
           TD.kl_divergence(TD.Bernoulli(**{given: t}), TD.Bernoulli(
               probs=torch.tensor(0.3, dtype=torch.float64))), (n,), (t,), rng, "kl")
    draws = D.Bernoulli(probs=nabla.tensor([0.0, 1.0])).sample((6,)).numpy()
    assert draws.shape == (6, 2) and (draws[:, 0] == 0).all() and (draws[:, 1] == 1).all()


@pytest.mark.parametrize("given", ["logits", "probs"])
def test_categorical_matches_torch(given, rng):
    if given == "logits":
        n, t = _pair(rng, (2, 4))
    else:
        p = rng.uniform(0.1, 1.0, (2, 4))
        n, t = nabla.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    k = rng.integers(0, 4, (3, 2))
    _check(D.Categorical(**{given: n}).log_prob(nabla.tensor(k)),
           TD.Categorical(**{given: t}).log_prob(torch.tensor(k)), (n,), (t,), rng, "log_prob")
    n.grad, t.grad = None, None
    _check(D.Categorical(**{given: n}).entropy(), TD.Categorical(**{given: t}).entropy(), (n,),
           (t,), rng, "entropy")
    n.grad, t.grad = None, None
    q = rng.standard_normal((2, 4))  # other logits
    _check(D.kl_divergence(D.Categorical(**{given: n}), D.Categorical(logits=nabla.tensor(q))),
           TD.kl_divergence(TD.Categorical(**{given: t}), TD.Categorical(logits=torch.tensor(q))),
           (n,), (t,), rng, "kl")
    assert D.Categorical(**{given: n}).sample((5,)).shape == (5, 2)
    assert D.Categorical(probs=nabla.tensor([0.0, 1.0, 0.0])).sample((4,)).tolist() == [1] * 4


def test_errors_are_clear():
    with pytest.raises(ValueError, match="scale must be positive"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="exactly one of probs or logits"):
        D.Bernoulli()
    with pytest.raises(NotImplementedError, match="no closed form for Normal and Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=nabla.tensor(0.5)))
