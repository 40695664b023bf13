"""User-defined ``nabla.autograd.Function`` with PyTorch's ctx contract.

Each Function is written once, in a factory taking the library (``nabla`` or ``torch``), so the
very same code runs as a ``torch.autograd.Function`` and as a nabla one: the port-by-import
promise, checked value by value.
"""

import numpy as np
import pytest
import torch

import nabla

RTOL, ATOL = 1e-5, 1e-7


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def close(a, b):
    a = a.detach().numpy() if isinstance(a, nabla.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def make_exp(lib):
    """exp, saving its output; backward in library ops (so differentiable again)."""

    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    return MyExp


def make_cube(lib):
    """alpha * x**3 with a non-tensor argument; saves its input."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, alpha, label):
            ctx.save_for_backward(x)
            ctx.alpha = alpha
            ctx.label = label
            return x * x * x * alpha

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert ctx.label == "cube"
            return grad * x * x * (3 * ctx.alpha), None, None

    return Cube


def make_mul(lib, log):
    """x * w, recording needs_input_grad and computing only the needed gradients."""

    class MyMul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            need_x, need_w = ctx.needs_input_grad
            log.append((bool(need_x), bool(need_w)))
            return (grad * w if need_x else None), (grad * x if need_w else None)

    return MyMul


def make_split(lib):
    """Two outputs: (2 x, sin x)."""

    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x.sin()

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            (x,) = ctx.saved_tensors
            return grad_a * 2 + grad_b * x.cos()

    return Split


def make_with_sign(lib):
    """(x * 3, sign(x)), the second output marked non-differentiable."""

    class WithSign(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            sign = x.sign()
            ctx.mark_non_differentiable(sign)
            return x * 3, sign

        @staticmethod
        def backward(ctx, grad, grad_sign):
            return grad * 3

    return WithSign


def run_both(make, array, body, g, *extra):
    """Run ``body(Fn, x)`` with nabla and torch, backward with ``g``; return both pairs."""
    results = []
    for lib in (nabla, torch):
        x = lib.tensor(array.copy(), requires_grad=True)
        y = body(make(lib, *extra), x)
        y.backward(lib.tensor(g))
        results.append((y, x.grad))
    return results


# -- forward, backward ----------------------------------------------------------------------------
def test_saved_output_forward_and_backward(rng):
    a, g = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    (y, gx), (ty, tgx) = run_both(make_exp, a, lambda F, x: F.apply(x), g)
    close(y, ty)
    close(gx, tgx)
    assert y.grad_fn is not None and not y.is_leaf


def test_non_tensor_arguments_get_none_gradients(rng):
    a, g = rng.normal(size=4), rng.normal(size=4)
    (y, gx), (ty, tgx) = run_both(make_cube, a, lambda F, x: F.apply(x, 0.5, "cube"), g)
    close(y, ty)
    close(gx, tgx)


def test_needs_input_grad_matches_torch(rng):
    a, b, g = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    logs = {}
    for lib in (nabla, torch):
        log = logs[lib.__name__] = []
        x = lib.tensor(a.copy(), requires_grad=True)
        w = lib.tensor(b.copy())
        fn = make_mul(lib, log)
        fn.apply(x, w).backward(lib.tensor(g))
        fn.apply(w, x).backward(lib.tensor(g))
        logs[lib.__name__ + ".grad"] = x.grad
        assert w.grad is None
    assert logs["nabla"] == logs["torch"] == [(True, False), (False, True)]
    close(logs["nabla.grad"], logs["torch.grad"])


def test_forward_receives_tensors_with_recording_off():
    seen = []

    class Probe(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            inner = x * 2
            seen.append((type(x), type(k), nabla.is_grad_enabled(), inner.requires_grad))
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    Probe.apply(x, 3)
    assert seen == [(nabla.Tensor, int, False, False)]
    assert nabla.is_grad_enabled()


def test_no_node_when_no_input_requires_grad():
    fn = make_exp(nabla)
    y = fn.apply(nabla.tensor([1.0, 2.0]))
    assert y.grad_fn is None and not y.requires_grad
    with nabla.no_grad():
        y = fn.apply(nabla.tensor([1.0, 2.0], requires_grad=True))
    assert y.grad_fn is None and not y.requires_grad


# -- several outputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("use", ["both", "first", "second"])
def test_multiple_outputs(rng, use):
    a, ga, gb = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    grads = {}
    for lib in (nabla, torch):
        x = lib.tensor(a.copy(), requires_grad=True)
        p, q = make_split(lib).apply(x)
        if use == "both":
            lib.autograd.backward([p, q], [lib.tensor(ga), lib.tensor(gb)])
        elif use == "first":
            p.backward(lib.tensor(ga))  # the unused output gets a zero gradient
        else:
            q.backward(lib.tensor(gb))
        grads[lib] = (p, q, x.grad)
    for n, t in zip(grads[nabla], grads[torch], strict=True):
        close(n, t)


def test_mark_non_differentiable(rng):
    a, g = rng.normal(size=4), rng.normal(size=4)
    out = {}
    for lib in (nabla, torch):
        x = lib.tensor(a.copy(), requires_grad=True)
        y, mask = make_with_sign(lib).apply(x)
        assert y.requires_grad and not mask.requires_grad
        y.backward(lib.tensor(g))
        out[lib] = (y, mask, x.grad)
    for n, t in zip(out[nabla], out[torch], strict=True):
        close(n, t)


# -- graphs and higher order -----------------------------------------------------------------------
def test_function_used_twice_in_one_graph(rng):
    a, g = rng.normal(size=3), rng.normal(size=3)

    def body(F, x):
        return F.apply(F.apply(x) * 0.1) + F.apply(x.sin())

    (y, gx), (ty, tgx) = run_both(make_exp, a, body, g)
    close(y, ty)
    close(gx, tgx)


@pytest.mark.parametrize("make", [make_exp, make_cube], ids=["saved_output", "saved_input"])
def test_double_backward_through_custom_function(rng, make):
    a, v, w = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    out = {}
    for lib in (nabla, torch):
        x = lib.tensor(a.copy(), requires_grad=True)
        fn = make(lib)
        y = fn.apply(x) if make is make_exp else fn.apply(x, 0.5, "cube")
        (g1,) = lib.autograd.grad(y, x, lib.tensor(v), create_graph=True)
        (g2,) = lib.autograd.grad(g1 * x, x, lib.tensor(w))
        out[lib] = (g1, g2)
    close(out[nabla][0], out[torch][0])
    close(out[nabla][1], out[torch][1])


# -- errors ----------------------------------------------------------------------------------------
def test_saved_tensors_freed_after_backward():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = make_cube(nabla).apply(x, 2.0, "cube")
    y.backward(nabla.ones(2))
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward(nabla.ones(2))


def test_saved_input_modified_in_place_raises():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = make_cube(nabla).apply(x, 2.0, "cube")
    with nabla.no_grad():
        x.mul_(3)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward(nabla.ones(2))


def test_backward_with_wrong_number_of_gradients_is_named():
    class Bad(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = nabla.tensor([1.0], requires_grad=True)
    y = Bad.apply(x, nabla.tensor([2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="Bad"):
        y.backward(nabla.ones(1))


def test_backward_extra_trailing_none_is_accepted():
    class Extra(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    Extra.apply(x).backward(nabla.ones(2))
    close(x.grad, [2.0, 2.0])


def test_missing_backward_raises_clear_error():
    class NoBackward(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = nabla.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="backward"):
        NoBackward.apply(x).backward(nabla.ones(1))


def test_backward_gradient_of_wrong_shape_is_named():
    class WrongShape(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return nabla.ones(5)

    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="WrongShape"):
        WrongShape.apply(x).backward(nabla.ones(2))


def test_broadcast_gradient_from_custom_backward_is_reduced(rng):
    """A rule may return the gradient at the broadcast shape; the engine sums it down."""
    a, b, g = rng.normal(size=(3, 1)), rng.normal(size=(1, 4)), rng.normal(size=(3, 4))
    out = {}
    for lib in (nabla, torch):

        class BMul(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(x, y)
                return x * y

            @staticmethod
            def backward(ctx, grad):
                x, y = ctx.saved_tensors
                return grad * y, grad * x  # (3, 4): torch and nabla both reduce it

        x = lib.tensor(a.copy(), requires_grad=True)
        y = lib.tensor(b.copy(), requires_grad=True)
        BMul.apply(x, y).backward(lib.tensor(g))
        out[lib] = (x.grad, y.grad)
    close(out[nabla][0], out[torch][0])
    close(out[nabla][1], out[torch][1])
