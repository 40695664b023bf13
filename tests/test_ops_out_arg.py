"""The ``out=`` argument of add, sub, mul, div, matmul, mm and bmm against PyTorch: the result is
written into ``out`` (the same object is returned, views write through to their base), out keeps
its dtype, is resized with a warning, and arguments that need grad are refused in grad mode."""

import warnings

import numpy as np
import pytest
import torch
from conftest import assert_close

import nabla

CASES = [
    ("add", lambda lib, a, b, out: lib.add(a, b, alpha=2, out=out), (3, 4), (4,)),
    ("sub", lambda lib, a, b, out: lib.sub(a, b, out=out), (3, 4), (3, 1)),
    ("mul", lambda lib, a, b, out: lib.mul(a, b, out=out), (3, 4), (3, 4)),
    ("div", lambda lib, a, b, out: lib.div(a, b, out=out), (3, 4), (4,)),
    ("div floor", lambda lib, a, b, out: lib.div(a, b, rounding_mode="floor", out=out),
     (3, 4), (4,)),
    ("matmul", lambda lib, a, b, out: lib.matmul(a, b, out=out), (3, 4), (4, 5)),
    ("matmul batch", lambda lib, a, b, out: lib.matmul(a, b, out=out), (2, 3, 4), (4,)),
    ("mm", lambda lib, a, b, out: lib.mm(a, b, out=out), (3, 4), (4, 2)),
    ("bmm", lambda lib, a, b, out: lib.bmm(a, b, out=out), (2, 3, 4), (2, 4, 2)),
]


def _pair(rng, *shapes, dtype):
    arrays = [rng.standard_normal(s).astype(dtype) + 2 for s in shapes]
    return [nabla.tensor(a) for a in arrays], [torch.from_numpy(a.copy()) for a in arrays]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,call,sa,sb", CASES, ids=[c[0] for c in CASES])
def test_out_holds_the_result_and_is_returned(name, call, sa, sb, dtype, rng):
    (na, nb), (ta, tb) = _pair(rng, sa, sb, dtype=dtype)
    want = call(torch, ta, tb, None)
    nout = nabla.zeros(tuple(want.shape), dtype=nabla.tensor(np.zeros(0, dtype)).dtype)
    tout = torch.zeros(tuple(want.shape), dtype=want.dtype)
    assert call(nabla, na, nb, nout) is nout
    assert call(torch, ta, tb, tout) is tout
    assert_close(nout, tout, what=name)


def test_out_a_view_writes_into_its_base():
    n, t = nabla.zeros(3, 4), torch.zeros(3, 4)
    for lib, x in ((nabla, n), (torch, t)):
        lib.mul(lib.ones(4) * 2, lib.ones(4) * 3, out=x[1])
        lib.matmul(lib.ones(1, 2), lib.ones(2, 2) * 4, out=x[2:, 1:3])
    assert_close(n, t)


def test_out_keeps_its_dtype_and_refuses_a_lower_category():
    out = nabla.zeros(2, dtype=nabla.float64)
    nabla.add(nabla.tensor([1.5, 2.0]), 1, out=out)
    tout = torch.zeros(2, dtype=torch.float64)
    torch.add(torch.tensor([1.5, 2.0]), 1, out=tout)
    assert_close(out, tout)
    with pytest.raises(RuntimeError, match=r"mul\(\): the result type float32 can't be cast to "
                                           r"out's dtype int64"):
        nabla.mul(nabla.ones(2), nabla.ones(2), out=nabla.zeros(2, dtype=nabla.int64))


def test_out_of_another_shape_is_resized_with_a_warning_unless_empty():
    a, b = nabla.ones(2, 3), nabla.ones(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = nabla.empty(0)
        nabla.matmul(a, b, out=empty)
    assert empty.shape == (2, 2) and np.all(empty.numpy() == 3)
    with pytest.warns(UserWarning, match=r"matmul\(\): out of shape \(5,\) was resized"):
        wrong = nabla.zeros(5)
        nabla.matmul(a, b, out=wrong)
    assert wrong.shape == (2, 2) and np.all(wrong.numpy() == 3)


def test_out_refuses_arguments_that_need_grad_unless_under_no_grad():
    a, b = nabla.ones(2, 3, requires_grad=True), nabla.ones(3, 2)
    with pytest.raises(RuntimeError, match=r"matmul\(\): functions with out=\.\.\. arguments "
                                           r"don't support automatic differentiation"):
        nabla.matmul(a, b, out=nabla.empty(2, 2))
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out="):
        nabla.add(b, 1, out=nabla.zeros(3, 2, requires_grad=True))
    with nabla.no_grad():
        out = nabla.empty(2, 2)
        nabla.matmul(a, b, out=out)
    assert not out.requires_grad and out.grad_fn is None and np.all(out.numpy() == 3)
    with pytest.raises(TypeError, match=r"mul\(\): argument 'out' must be a Tensor, not list"):
        nabla.mul(b, b, out=[])
