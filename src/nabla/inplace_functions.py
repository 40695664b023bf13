"""torch's top-level in-place functions (``torch.exp_(x)``, ``torch.clamp_(x, 0, 1)``, ...): each
forwards to the Tensor method of the same name (``x.exp_()``), with the same arguments after
the tensor, and returns it. Plus ``fill`` (out of place) and ``zero_``.

Left out: as_strided_, embedding_renorm_, feature_dropout_ and resize_as_sparse_ (no nabla
counterpart yet); conj_physical_ is the identity on real tensors.
"""

import nabla  # resolved at call time, as in tensor_methods.py

__all__ = [
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "resize_as_", "round_",
    "rsqrt_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "trunc_", "xlogy_", "zero_",
]


# -- one tensor ----------------------------------------------------------------------------------
def abs_(input):
    return input.abs_()


def acos_(input):
    return input.acos_()


def acosh_(input):
    return input.acosh_()


def arccos_(input):
    return input.arccos_()


def arccosh_(input):
    return input.arccosh_()


def arcsin_(input):
    return input.arcsin_()


def arcsinh_(input):
    return input.arcsinh_()


def arctan_(input):
    return input.arctan_()


def arctanh_(input):
    return input.arctanh_()


def asin_(input):
    return input.asin_()


def asinh_(input):
    return input.asinh_()


def atan_(input):
    return input.atan_()


def atanh_(input):
    return input.atanh_()


def ceil_(input):
    return input.ceil_()


def cos_(input):
    return input.cos_()


def cosh_(input):
    return input.cosh_()


def deg2rad_(input):
    return input.deg2rad_()


def detach_(input):
    return input.detach_()


def erf_(input):
    return input.erf_()


def erfc_(input):
    return input.erfc_()


def exp2_(input):
    return input.exp2_()


def exp_(input):
    return input.exp_()


def expm1_(input):
    return input.expm1_()


def fix_(input):
    return input.fix_()


def floor_(input):
    return input.floor_()


def frac_(input):
    return input.frac_()


def i0_(input):
    return input.i0_()


def log10_(input):
    return input.log10_()


def log1p_(input):
    return input.log1p_()


def log2_(input):
    return input.log2_()


def log_(input):
    return input.log_()


def neg_(input):
    return input.neg_()


def negative_(input):
    return input.negative_()


def rad2deg_(input):
    return input.rad2deg_()


def reciprocal_(input):
    return input.reciprocal_()


def rsqrt_(input):
    return input.rsqrt_()


def sin_(input):
    return input.sin_()


def sinc_(input):
    return input.sinc_()


def sinh_(input):
    return input.sinh_()


def sqrt_(input):
    return input.sqrt_()


def square_(input):
    return input.square_()


def tan_(input):
    return input.tan_()


def trunc_(input):
    return input.trunc_()


def zero_(input):
    return input.zero_()


def conj_physical_(input):
    """The identity on a real tensor (nabla has no complex ops)."""
    return input.conj_physical()


# -- with arguments ------------------------------------------------------------------------------
def addmv_(input, mat, vec, *, beta=1, alpha=1):
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def clamp_(input, min=None, max=None):
    return input.clamp_(min, max)


def clip_(input, min=None, max=None):
    return input.clip_(min, max)


def clamp_max_(input, max):
    return input.clamp_max_(max)


def clamp_min_(input, min):
    return input.clamp_min_(min)


def fill_(input, value):
    return input.fill_(value)


def gcd_(input, other):
    return input.gcd_(other)


def lcm_(input, other):
    return input.lcm_(other)


def ldexp_(input, other):
    return input.ldexp_(other)


def index_put_(input, indices, values, accumulate=False):
    return input.index_put_(indices, values, accumulate)


def logit_(input, eps=None):
    return input.logit_(eps)


def nan_to_num_(input, nan=0.0, posinf=None, neginf=None):
    return input.nan_to_num_(nan, posinf, neginf)


def resize_as_(input, the_template):
    return input.resize_as_(the_template)


def round_(input, *, decimals=0):
    return input.round_(decimals=decimals)


def xlogy_(input, other):
    return input.xlogy_(other)


def fill(input, value):
    """torch.fill: a new tensor of input's shape and dtype, every element ``value`` (a number
    or a 0-d tensor; differentiable in a tensor value, as ``full_like`` broadcast from it)."""
    if isinstance(value, nabla.Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill: value must be a number or a 0-d tensor, got shape "
                               f"{tuple(value.shape)}")
        return nabla.ops.broadcast_to(nabla.ops.to_dtype(value, input.dtype), input.shape) \
            .clone()
    return nabla.full_like(input, value)
