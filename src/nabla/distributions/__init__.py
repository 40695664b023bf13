"""Probability distributions, as ``torch.distributions``. Written with nabla ops, so
log-probabilities, entropies and KL terms have gradients with respect to the parameters.

basic.py       Normal, Bernoulli, Categorical
continuous.py  Uniform, Exponential, Laplace (rsample), Gamma, Beta
poisson.py     Poisson
kl.py          kl_divergence in closed form, one function per pair of families
base.py        Distribution and the shared helpers

The reparameterization trick (VAEs) is ``rsample``: for Normal the draw is loc + scale * eps with
eps ~ N(0, 1) drawn apart, so the gradient reaches loc and scale through a sample; ``sample``
draws without gradient. Draws use nabla's global generator (``nabla.manual_seed``).
"""

from nabla.distributions.base import Distribution
from nabla.distributions.basic import Bernoulli, Categorical, Normal
from nabla.distributions.continuous import Beta, Exponential, Gamma, Laplace, Uniform
from nabla.distributions.kl import kl_divergence
from nabla.distributions.poisson import Poisson

__all__ = ["Distribution", "Normal", "Bernoulli", "Categorical", "Uniform", "Exponential",
           "Laplace", "Gamma", "Beta", "Poisson", "kl_divergence"]
