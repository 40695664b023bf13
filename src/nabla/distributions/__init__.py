"""Probability distributions, as ``torch.distributions``. Written with nabla ops, so
log-probabilities, entropies and KL terms have gradients with respect to the parameters.

basic.py         Normal (rsample, cdf, icdf), Bernoulli, Categorical
continuous.py    Uniform, Exponential, Laplace (rsample, cdf, icdf), Gamma, Beta (rsample)
heavy_tailed.py  LogNormal, Cauchy (rsample, cdf, icdf), StudentT (rsample)
multivariate.py  MultivariateNormal, Dirichlet (rsample), Independent (batch dims as event dims)
discrete.py      Binomial, Geometric, Multinomial, OneHotCategorical (sample only)
gamma_draws.py   Gamma(a, 1) draws with the implicit reparameterization gradient in a
poisson.py       Poisson
kl.py            kl_divergence in closed form, one function per pair of families
constraints.py   the sets of parameters and values (real, positive, simplex, ...), with check
transforms.py    Exp, Affine, Sigmoid, Tanh, Softplus, Power, Abs, Softmax, StickBreaking,
                 LowerCholesky transforms (map, inverse, log |det J|, domain, codomain)
transform_base.py  Transform, its inverse and cache; ComposeTransform, IndependentTransform
transformed.py   TransformedDistribution (y = f(x), x ~ base); biject_to, transform_to
mixture.py       MixtureSameFamily (a Categorical over k components of one family)
relaxed.py       RelaxedBernoulli, RelaxedOneHotCategorical (Gumbel-softmax, rsample)
continuous_bernoulli.py  ContinuousBernoulli (the normalized Bernoulli on [0, 1], rsample)
base.py          Distribution (batch_shape, event_shape, value validation, expand) and helpers

A draw of ``sample(sample_shape)`` has shape sample_shape + batch_shape + event_shape:
batch_shape indexes independent, differently parameterized distributions; event_shape is the
shape of one draw (() for scalar families, (k,) for MultivariateNormal, Dirichlet, Multinomial
and OneHotCategorical; Independent moves batch dimensions into it).

The reparameterization trick (VAEs) is ``rsample``: for Normal the draw is loc + scale * eps with
eps ~ N(0, 1) drawn apart, so the gradient reaches loc and scale through a sample; ``sample``
draws without gradient. Draws use nabla's global generator (``nabla.manual_seed``).

As in torch, ``log_prob`` and ``cdf`` refuse a value outside the family's ``support`` (a
ValueError) unless the distribution was made with ``validate_args=False`` or after
``Distribution.set_default_validate_args(False)``.
"""

from nabla.distributions import constraints, transforms
from nabla.distributions.base import Distribution
from nabla.distributions.basic import Bernoulli, Categorical, Normal
from nabla.distributions.continuous import Beta, Exponential, Gamma, Laplace, Uniform
from nabla.distributions.continuous_bernoulli import ContinuousBernoulli
from nabla.distributions.discrete import Binomial, Geometric, Multinomial, OneHotCategorical
from nabla.distributions.heavy_tailed import Cauchy, LogNormal, StudentT
from nabla.distributions.kl import kl_divergence
from nabla.distributions.mixture import MixtureSameFamily
from nabla.distributions.multivariate import Dirichlet, Independent, MultivariateNormal
from nabla.distributions.poisson import Poisson
from nabla.distributions.relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from nabla.distributions.transformed import (
    ConstraintRegistry,
    TransformedDistribution,
    biject_to,
    transform_to,
)
from nabla.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
)

__all__ = ["Distribution", "Normal", "Bernoulli", "Categorical", "Uniform", "Exponential",
           "Laplace", "Gamma", "Beta", "Poisson", "LogNormal", "Cauchy", "StudentT",
           "MultivariateNormal", "Dirichlet", "Independent", "Binomial", "Geometric",
           "Multinomial", "OneHotCategorical", "ContinuousBernoulli", "MixtureSameFamily",
           "RelaxedBernoulli", "LogitRelaxedBernoulli", "RelaxedOneHotCategorical",
           "ExpRelaxedCategorical", "TransformedDistribution", "kl_divergence", "constraints",
           "transforms", "biject_to", "transform_to", "ConstraintRegistry", "Transform",
           "ComposeTransform", "IndependentTransform", "ExpTransform", "PowerTransform",
           "AffineTransform", "SigmoidTransform", "TanhTransform", "SoftplusTransform",
           "AbsTransform", "SoftmaxTransform", "StickBreakingTransform",
           "LowerCholeskyTransform"]
