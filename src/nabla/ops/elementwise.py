"""Elementwise math: exp/log, roots, trigonometry, activations' primitives (tanh, sigmoid,
relu), clamp, where. Each node's forward (on arrays) and its gradient rule (in operators and nabla
functions, so it is differentiable again) sit together. Arithmetic (+ - * / **) is in
arithmetic.py, copies and dtype casts (clone, to_dtype) in casts.py."""

from nabla.autograd.function import Op
from nabla.backend import all_finite, array_module, quiet, select, zeros_operand
from nabla.dtype import get_default_dtype
from nabla.tensor import Tensor

__all__ = ["exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tanh",
           "sigmoid", "relu", "clamp", "where", "masked_fill", "clip"]


def floating(x):
    """An integer or bool array as the default float dtype (PyTorch's promotion for exp, sin,
    sqrt, ...: NumPy would give float64); float arrays as they are."""
    return x if x.dtype.kind in "fc" else x.astype(get_default_dtype())


def masked_grad(grad, weight):
    """``grad * weight`` where ``weight`` is not 0, and 0 where it is: the gradient of an op that
    lets some elements through and blocks the others (relu, clamp, max, pooling). As PyTorch's,
    a blocked element's gradient is 0 even where the incoming one is infinite or NaN, which the
    product alone would make NaN (0 * inf: ``sqrt(relu(x))`` at x < 0). The product, one NumPy
    call, is the result unless it holds such a value."""
    out = grad * weight
    if isinstance(out, Tensor):  # create_graph: a differentiable select
        return where(weight != 0, out, 0.0)
    if all_finite(out):
        return out
    return select(weight != 0, out, 0.0)


def zeros_like_grad(grad):
    """The gradient of a piecewise-constant op (sign, floor, round): 0 everywhere, as PyTorch's,
    even where the incoming gradient is infinite or NaN (``grad * 0`` would be NaN there)."""
    if isinstance(grad, Tensor):
        return Tensor._make(array_module(grad._data).zeros_like(grad._data))
    return array_module(grad).zeros_like(grad)


class Exp(Op):
    """y = exp(x);  dy/dx = grad * y."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Op):
    """y = log(x);  dy/dx = grad / x."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Op):
    """y = log(1 + x), accurate for small x;  dy/dx = grad / (1 + x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Expm1(Op):
    """y = exp(x) - 1, accurate for small x;  dy/dx = grad * (y + 1)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = array_module(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Sqrt(Op):
    """y = sqrt(x);  dy/dx = grad / (2 y)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (y * 2)


class Rsqrt(Op):
    """y = 1 / sqrt(x);  dy/dx = -grad * y**3 / 2."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = 1 / array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * y * y * -0.5


class Abs(Op):
    """y = |x|;  dy/dx = grad * sign(x) (0 at x = 0 and at NaN, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sign(x)


class Sign(Op):
    """y = sign(x) (0 for NaN, as PyTorch);  dy/dx = 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        y = xp.sign(x)
        return xp.nan_to_num(y) if y.dtype.kind == "f" else y

    @staticmethod
    def backward(ctx, grad):
        return zeros_like_grad(grad)


class Sin(Op):
    """y = sin(x);  dy/dx = grad * cos(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Op):
    """y = cos(x);  dy/dx = -grad * sin(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Tanh(Op):
    """y = tanh(x);  dy/dx = grad * (1 - y**2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - grad * y * y  # grad * (1 - y**2) without NumPy's slower scalar operand


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x));  dy/dx = grad * y * (1 - y)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(floating(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Relu(Op):
    """y = max(x, 0);  dy/dx = grad where x > 0, else 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        # not x * mask: that gives -0.0 for x < 0 and NaN for -inf (PyTorch: +0.0 and 0.0);
        # against an array of zeros when that is faster (see zeros_operand)
        zero = zeros_operand(x) if x.size >= 1024 else x.dtype.type(0)
        y = array_module(x).maximum(x, zero)
        # 1 or 0 in x's dtype: the product in backward stays in one dtype, about twice as fast
        # as with a bool mask; taken from y, so that a NaN passes its gradient, as in PyTorch
        ctx.save_for_backward((y != 0).astype(x.dtype))
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return masked_grad(grad, mask)


class Clamp(Op):
    """y = min(max(x, lo), hi);  dy/dx = grad where lo <= x <= hi, else 0; for tensor bounds
    dy/dlo = grad where x < lo < hi, dy/dhi = grad where x > hi or hi < lo (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = array_module(x)
        mask = xp.ones(x.shape, bool)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x <= hi
        below = above = None  # where a tensor bound is the result (Python numbers need none)
        if hasattr(lo, "shape"):
            below = (x < lo) if hi is None else (x < lo) & (lo < hi)
        if hasattr(hi, "shape"):
            above = (x > hi) if lo is None else (x > hi) | (hi < lo)
        ctx.save_for_backward(mask, below, above)
        return xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        mask, below, above = ctx.saved_tensors
        return (masked_grad(grad, mask), None if below is None else masked_grad(grad, below),
                None if above is None else masked_grad(grad, above))


class Where(Op):
    """z = x where cond else y;  dz/dx = grad where cond, dz/dy = grad elsewhere."""

    array_backward = True

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        return select(cond, x, y)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        _, need_x, need_y = ctx.needs_input_grad
        return (None, where(cond, grad, 0.0) if need_x else None,
                where(cond, 0.0, grad) if need_y else None)


# -- public functions ---------------------------------------------------------------------------
def exp(input) -> Tensor:
    return Exp.apply(input)


def log(input) -> Tensor:
    return Log.apply(input)


def log1p(input) -> Tensor:
    return Log1p.apply(input)


def expm1(input) -> Tensor:
    return Expm1.apply(input)


def sqrt(input) -> Tensor:
    return Sqrt.apply(input)


def rsqrt(input) -> Tensor:
    return Rsqrt.apply(input)


def abs(input) -> Tensor:
    return Abs.apply(input)


def sign(input) -> Tensor:
    return Sign.apply(input)


def sin(input) -> Tensor:
    return Sin.apply(input)


def cos(input) -> Tensor:
    return Cos.apply(input)


def tanh(input) -> Tensor:
    return Tanh.apply(input)


def sigmoid_array(x):
    """1 / (1 + exp(-x)) on a float array, as PyTorch computes it: exp(-x) overflows to inf for
    very negative x, and 1 / inf = 0 is the exact limit. (The branch-free form: NumPy's ``where``
    with a data-dependent mask runs 10x slower than the four arithmetic passes.)"""
    xp = array_module(x)
    d = xp.negative(x, out=xp.empty_like(x))  # an array also for 0-d x
    with quiet(xp, over="ignore"):
        xp.exp(d, out=d)
    d += 1
    return xp.reciprocal(d, out=d)


def sigmoid(input) -> Tensor:
    return Sigmoid.apply(input)


def relu(input) -> Tensor:
    return Relu.apply(input)


def clamp(input, min=None, max=None) -> Tensor:
    """Limit values to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(input, min, max)


clip = clamp


def where(condition, input=None, other=None) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, of ``other`` elsewhere. With the
    condition alone: ``nonzero(condition, as_tuple=True)``, as in PyTorch."""
    if input is None and other is None:
        from nabla.ops.compare import nonzero  # compare.py builds on this module

        return nonzero(condition, as_tuple=True)
    return Where.apply(condition, input, other)


def masked_fill(input, mask, value) -> Tensor:
    """``input`` with ``value`` written where ``mask`` is True (derived from where)."""
    if isinstance(value, Tensor) and value.ndim == 0 and not value.requires_grad:
        value = value.item()
    return Where.apply(mask, value, input)
