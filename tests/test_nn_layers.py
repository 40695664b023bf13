"""nn layers vs PyTorch: the torch module's state is copied into the nabla twin (and back), then
outputs, input gradients and every parameter's gradient are compared under random upstream
gradients, in float32 and float64, in train and eval mode."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import assert_close, perturb, run_twins, to_torch

import nabla
import nabla.nn as nn
import nabla.nn.functional as F

DTYPES = [torch.float32, torch.float64]

# (name, nabla factory, torch factory, input shapes)
LAYERS = [
    ("linear", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), [(4, 5)]),
    ("linear_3d_nobias", lambda: nn.Linear(5, 3, bias=False),
     lambda: tnn.Linear(5, 3, bias=False), [(2, 4, 5)]),
    ("linear_1d", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), [(5,)]),
    ("bilinear", lambda: nn.Bilinear(3, 4, 2), lambda: tnn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("identity", lambda: nn.Identity(), lambda: tnn.Identity(), [(3, 4)]),
    ("flatten", lambda: nn.Flatten(), lambda: tnn.Flatten(), [(2, 3, 4)]),
    ("unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda: tnn.Unflatten(1, (2, 3)), [(4, 6)]),
    ("relu", lambda: nn.ReLU(), lambda: tnn.ReLU(), [(4, 6)]),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), [(4, 6)]),
    ("elu", lambda: nn.ELU(0.7), lambda: tnn.ELU(0.7), [(4, 6)]),
    ("selu", lambda: nn.SELU(), lambda: tnn.SELU(), [(4, 6)]),
    ("gelu", lambda: nn.GELU(), lambda: tnn.GELU(), [(4, 6)]),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), [(4, 6)]),
    ("silu", lambda: nn.SiLU(), lambda: tnn.SiLU(), [(4, 6)]),
    ("mish", lambda: nn.Mish(), lambda: tnn.Mish(), [(4, 6)]),
    ("softplus", lambda: nn.Softplus(), lambda: tnn.Softplus(), [(4, 6)]),
    ("softplus_beta", lambda: nn.Softplus(2.0, 3.0), lambda: tnn.Softplus(2.0, 3.0), [(4, 6)]),
    ("sigmoid", lambda: nn.Sigmoid(), lambda: tnn.Sigmoid(), [(4, 6)]),
    ("logsigmoid", lambda: nn.LogSigmoid(), lambda: tnn.LogSigmoid(), [(4, 6)]),
    ("tanh", lambda: nn.Tanh(), lambda: tnn.Tanh(), [(4, 6)]),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 0.8), lambda: tnn.Hardtanh(-0.5, 0.8), [(4, 6)]),
    ("relu6", lambda: nn.ReLU6(), lambda: tnn.ReLU6(), [(4, 6)]),
    ("softmax", lambda: nn.Softmax(1), lambda: tnn.Softmax(1), [(4, 6)]),
    ("log_softmax", lambda: nn.LogSoftmax(-1), lambda: tnn.LogSoftmax(-1), [(2, 3, 6)]),
    ("batchnorm_2d", lambda: nn.BatchNorm1d(4), lambda: tnn.BatchNorm1d(4), [(6, 4)]),
    ("batchnorm_3d", lambda: nn.BatchNorm1d(4, momentum=0.3),
     lambda: tnn.BatchNorm1d(4, momentum=0.3), [(5, 4, 3)]),
    ("batchnorm_cumulative", lambda: nn.BatchNorm1d(3, momentum=None),
     lambda: tnn.BatchNorm1d(3, momentum=None), [(5, 3, 2)]),
    ("batchnorm_noaffine", lambda: nn.BatchNorm1d(3, affine=False),
     lambda: tnn.BatchNorm1d(3, affine=False), [(5, 3)]),
    ("batchnorm_nostats", lambda: nn.BatchNorm1d(3, track_running_stats=False),
     lambda: tnn.BatchNorm1d(3, track_running_stats=False), [(5, 3, 4)]),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3), lambda: tnn.BatchNorm2d(3), [(2, 3, 4, 5)]),
    ("groupnorm", lambda: nn.GroupNorm(2, 4), lambda: tnn.GroupNorm(2, 4), [(3, 4, 5)]),
    ("groupnorm_noaffine_4d", lambda: nn.GroupNorm(3, 3, affine=False),
     lambda: tnn.GroupNorm(3, 3, affine=False), [(2, 3, 2, 2)]),
    ("cosine_similarity", lambda: nn.CosineSimilarity(), lambda: tnn.CosineSimilarity(),
     [(4, 5), (4, 5)]),
    ("cosine_similarity_dim0", lambda: nn.CosineSimilarity(0, 1e-6),
     lambda: tnn.CosineSimilarity(0, 1e-6), [(4, 5), (4, 1)]),
    ("pairwise_distance", lambda: nn.PairwiseDistance(), lambda: tnn.PairwiseDistance(),
     [(4, 5), (4, 5)]),
    ("pairwise_distance_p1", lambda: nn.PairwiseDistance(1.0, keepdim=True),
     lambda: tnn.PairwiseDistance(1.0, keepdim=True), [(4, 5), (4, 5)]),
    ("layernorm", lambda: nn.LayerNorm(6), lambda: tnn.LayerNorm(6), [(2, 3, 6)]),
    ("layernorm_2d_shape", lambda: nn.LayerNorm((3, 4), eps=1e-3),
     lambda: tnn.LayerNorm((3, 4), eps=1e-3), [(2, 3, 4)]),
    ("layernorm_nobias", lambda: nn.LayerNorm(5, bias=False),
     lambda: tnn.LayerNorm(5, bias=False), [(3, 5)]),
    ("layernorm_noaffine", lambda: nn.LayerNorm(5, elementwise_affine=False),
     lambda: tnn.LayerNorm(5, elementwise_affine=False), [(3, 5)]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(case, train, dtype, rng):
    _, make_n, make_t, shapes = case
    tmod, nmod = make_t().to(dtype), make_n()
    perturb(tmod)
    nmod.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    result = nmod.load_state_dict(tmod.state_dict())  # torch tensors load directly
    assert not result.missing_keys and not result.unexpected_keys
    tmod.train(train)
    nmod.train(train)
    run_twins(nmod, tmod, shapes, dtype, rng, steps=3)


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_state_dict_round_trip_into_torch(case, rng):
    """nabla -> torch: same keys, same shapes, and torch computes the same output."""
    _, make_n, make_t, shapes = case
    nmod, tmod = make_n(), make_t()
    sd = nmod.state_dict()
    assert list(sd) == list(tmod.state_dict())
    tmod.load_state_dict({k: to_torch(v) for k, v in sd.items()})
    nmod.eval()
    tmod.eval()
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(nmod(*[nabla.tensor(x) for x in xs]), tmod(*[torch.tensor(x) for x in xs]))


def test_batchnorm_running_stats_over_steps_then_eval(rng):
    tmod, nmod = tnn.BatchNorm1d(4, momentum=0.2), nn.BatchNorm1d(4, momentum=0.2)
    for _ in range(5):
        x = rng.standard_normal((8, 4, 3)) * 3 + 1
        nmod(nabla.tensor(x.astype(np.float32)))
        tmod(torch.tensor(x, dtype=torch.float32))
    assert int(nmod.num_batches_tracked) == 5
    assert_close(nmod.running_mean, tmod.running_mean)
    assert_close(nmod.running_var, tmod.running_var)
    nmod.eval()
    tmod.eval()
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    assert_close(nmod(nabla.tensor(x)), tmod(torch.tensor(x)))
    assert int(nmod.num_batches_tracked) == 5  # eval does not count


def test_batchnorm_rejects_bad_input():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(nabla.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(nabla.zeros(1, 3))


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_embedding_matches_torch(padding_idx, dtype, rng):
    tmod = tnn.Embedding(6, 3, padding_idx=padding_idx).to(dtype)
    nmod = nn.Embedding(6, 3, padding_idx=padding_idx)
    if padding_idx is not None:
        assert np.all(nmod.weight.detach().numpy()[padding_idx] == 0)
    nmod.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    nmod.load_state_dict(tmod.state_dict())
    idx = rng.integers(0, 6, (4, 5))
    idx[0, :3] = 1  # repeated rows accumulate; row 1 (the padding row) gets none
    ty, ny = tmod(torch.tensor(idx)), nmod(nabla.tensor(idx))
    assert_close(ny, ty)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g, dtype=dtype))
    ny.backward(nabla.tensor(g).to(ny.dtype))
    assert_close(nmod.weight.grad, tmod.weight.grad)
    assert nmod.extra_repr() == tmod.extra_repr()


def test_embedding_max_norm_and_from_pretrained(rng):
    w = rng.standard_normal((5, 4)) * 3
    tmod = tnn.Embedding.from_pretrained(torch.tensor(w), max_norm=1.0)
    nmod = nn.Embedding.from_pretrained(nabla.tensor(w), max_norm=1.0)
    assert not nmod.weight.requires_grad
    idx = np.array([[0, 2], [2, 4]])
    assert_close(nmod(nabla.tensor(idx)), tmod(torch.tensor(idx)))
    assert_close(nmod.weight, tmod.weight)  # rows 0, 2, 4 renormalized in place, 1 and 3 not
    with pytest.raises(IndexError, match="out of range"):
        nmod(nabla.tensor([5]))
    with pytest.raises(RuntimeError, match="integer"):
        nmod(nabla.tensor([0.0]))


def test_embedding_double_backward_through_grad(rng):
    """The gradient of the weight is itself differentiable in the upstream gradient."""
    w = rng.standard_normal((4, 3))
    idx = np.array([0, 2, 2, 3])
    g = rng.standard_normal((4, 3))
    tw = torch.tensor(w, requires_grad=True)
    tg = torch.tensor(g, requires_grad=True)
    (tgw,) = torch.autograd.grad(TF.embedding(torch.tensor(idx), tw, padding_idx=2), tw, tg,
                                 create_graph=True)
    (tgw * tgw).sum().backward()
    nw = nabla.tensor(w, requires_grad=True)
    ng = nabla.tensor(g, requires_grad=True)
    (ngw,) = nabla.autograd.grad(F.embedding(nabla.tensor(idx), nw, padding_idx=2), nw, ng,
                                 create_graph=True)
    (ngw * ngw).sum().backward()
    assert_close(ngw, tgw)
    assert_close(ng.grad, tg.grad)


def test_one_hot():
    x = np.array([[0, 2], [1, 3]])
    assert_close(F.one_hot(nabla.tensor(x)), TF.one_hot(torch.tensor(x)))
    assert_close(F.one_hot(nabla.tensor(x), 6), TF.one_hot(torch.tensor(x), 6))
    with pytest.raises(RuntimeError, match=r"one_hot: class values must be in \[0, "
                                           r"num_classes=3\), got values in \[0, 3\]"):
        F.one_hot(nabla.tensor(x), 3)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_with_the_wrong_number_of_features_names_the_channels(training):
    bn = nn.BatchNorm1d(5).train(training)
    with pytest.raises(ValueError, match=r"batch_norm: input of shape \(3, 4\) has 4 channels "
                                         r"\(dim 1\) but running_mean has 5; num_features"):
        bn(nabla.randn(3, 4))


# -- second derivatives of the fused ops ------------------------------------------------------
SECOND_ORDER = [
    ("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b)),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (5,), w, b),
     lambda x, w, b: TF.layer_norm(x, (5,), w, b)),
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, True)),
    ("gelu", lambda x, w, b: F.gelu(x) * w, lambda x, w, b: TF.gelu(x) * w),
    ("gelu_tanh", lambda x, w, b: F.gelu(x, "tanh") * w,
     lambda x, w, b: TF.gelu(x, approximate="tanh") * w),
    ("silu", lambda x, w, b: F.silu(x) * w, lambda x, w, b: TF.silu(x) * w),
    ("elu", lambda x, w, b: F.elu(x, 0.5) * w, lambda x, w, b: TF.elu(x, 0.5) * w),
    ("softplus", lambda x, w, b: F.softplus(x, 2.0) * w, lambda x, w, b: TF.softplus(x, 2.0) * w),
    ("leaky_relu", lambda x, w, b: F.leaky_relu(x, 0.1) * w * w,
     lambda x, w, b: TF.leaky_relu(x, 0.1) * w * w),
]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_double_backward_matches_torch(case, rng):
    """grad(f) with create_graph, then backward of a function of that gradient."""
    _, nf, tf = case
    x = rng.standard_normal((4, 5))
    w = rng.standard_normal(5 if case[0] != "linear" else (3, 5))
    b = rng.standard_normal(5 if case[0] != "linear" else 3)
    if case[0] == "batch_norm":
        w, b = rng.standard_normal(5), rng.standard_normal(5)
    tens = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    nens = [nabla.tensor(v, requires_grad=True) for v in (x, w, b)]
    ty, ny = tf(*tens), nf(*nens)
    g = rng.standard_normal(tuple(ty.shape))
    tg = torch.autograd.grad(ty, tens[:2], torch.tensor(g), create_graph=True)
    ng = nabla.autograd.grad(ny, nens[:2], nabla.tensor(g), create_graph=True)
    for a, e in zip(ng, tg, strict=True):
        assert_close(a, e)
    ((tg[0] ** 2).sum() + (tg[1] * tg[1].detach()).sum()).backward()
    ((ng[0] ** 2).sum() + (ng[1] * ng[1].detach()).sum()).backward()
    for a, e in zip(nens[:2], tens[:2], strict=True):
        assert_close(a.grad, e.grad, what="second derivative")


def test_gelu_exact_over_a_wide_range():
    """The erf series: float64 GELU agrees with PyTorch's to ~1e-14 from -10 to 10."""
    x = np.linspace(-10, 10, 20001)
    got = F.gelu(nabla.tensor(x))._data
    want = TF.gelu(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# -- dropout ----------------------------------------------------------------------------------
def test_dropout_scales_kept_elements_and_zeros_about_p():
    x = nabla.ones(200, 100)
    y = F.dropout(x, 0.3)._data
    kept = y != 0
    assert np.allclose(y[kept], 1 / 0.7)
    assert abs(1 - kept.mean() - 0.3) < 0.02


def test_dropout_gradient_uses_the_same_mask():
    x = nabla.randn(50, 20, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, (y._data != 0) * 2.0)


def test_dropout_eval_identity_and_edge_probabilities():
    x = nabla.randn(10, 10, requires_grad=True)
    m = nn.Dropout(0.4).eval()
    assert m(x) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert np.all(y._data == 0)
    y.sum().backward()
    assert np.all(x.grad._data == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)


def test_dropout_reproducible_with_manual_seed():
    x = nabla.ones(30, 30)
    nabla.manual_seed(7)
    a = F.dropout(x, 0.5)._data
    b = F.dropout(x, 0.5)._data
    nabla.manual_seed(7)
    c = F.dropout(x, 0.5)._data
    assert np.array_equal(a, c) and not np.array_equal(a, b)


def test_dropout_keeps_dtype():
    assert F.dropout(nabla.ones(5, dtype=nabla.float64), 0.5).dtype == nabla.float64
    assert F.dropout(nabla.ones(5), 0.5).dtype == nabla.float32


def test_dropout2d_zeros_whole_channels():
    y = F.dropout2d(nabla.ones(8, 16, 3, 3), 0.5)._data
    per_channel = y.reshape(8, 16, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))


def test_alpha_dropout_keeps_mean_and_variance():
    x = nabla.randn(400, 500, dtype=nabla.float64)
    y = nn.AlphaDropout(0.2)(x)._data
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    alpha = 1.7580993408473766
    a = 1 / math.sqrt((alpha**2 * 0.2 + 1) * 0.8)
    dropped = np.isclose(y, -alpha * a * 0.8)  # every dropped unit takes one value
    assert abs(dropped.mean() - 0.2) < 0.01
    assert nn.AlphaDropout(0.2).eval()(x) is x
    assert np.all(F.alpha_dropout(x, 1.0, True)._data == 0)


def test_alpha_dropout_formula_matches_torch_on_the_same_mask():
    """Recover the mask from nabla's output and rebuild torch's formula around it."""
    x = nabla.randn(64, 32, dtype=nabla.float64)
    y = F.alpha_dropout(x, 0.3, True)._data
    alpha = 1.7580993408473766
    a = 1 / math.sqrt((alpha**2 * 0.3 + 1) * 0.7)
    dropped_value = -alpha * a + alpha * a * 0.3
    keep = ~np.isclose(y, dropped_value)
    want = np.where(keep, x._data * a + alpha * a * 0.3, dropped_value)
    np.testing.assert_allclose(y, want, rtol=1e-12)


def test_linear_rejects_wrong_shapes():
    with pytest.raises(RuntimeError, match="linear"):
        nn.Linear(3, 2)(nabla.zeros(4, 5))


@pytest.mark.parametrize("shape, features", [((3, 4), (4, 0)), ((2, 3, 4), (4, 0)),
                                             ((2, 3, 0), (0, 5)), ((2, 0, 4), (4, 3))])
def test_linear_and_matmul_with_empty_dims(shape, features):
    """Zero features or zero rows: empty results and gradients as PyTorch's (NumPy cannot
    reshape an empty array to (-1, 0), which these paths used to ask for)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Initializing zero-element tensors is a no-op"
        tlayer = tnn.Linear(*features, dtype=torch.float64)
    layer = nn.Linear(*features, dtype=nabla.float64)
    layer.load_state_dict({k: v.numpy() for k, v in tlayer.state_dict().items()})
    x = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    nx = nabla.tensor(x.detach().numpy(), requires_grad=True)
    out, nout = tlayer(x), layer(nx)
    (out * 2).sum().backward()
    (nout * 2).sum().backward()
    assert_close(nout, out)
    assert_close(nx.grad, x.grad)
    assert_close(layer.bias.grad, tlayer.bias.grad)
    assert_close(layer.weight.grad, tlayer.weight.grad)
    w = nabla.ones(features, dtype=nabla.float64, requires_grad=True)
    (g,) = nabla.autograd.grad((nx @ w).sum(), nx, create_graph=True)
    assert g.shape == nx.shape


def test_functional_softmax_default_dim_and_dtype():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert_close(F.softmax(nabla.tensor(x), dim=0), TF.softmax(torch.tensor(x), dim=0))
    got = F.log_softmax(nabla.tensor(x.astype(np.float32)), 1, dtype=nabla.float64)
    assert_close(got, TF.log_softmax(torch.tensor(x.astype(np.float32)), 1, dtype=torch.float64))


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim, rng):
    x = rng.standard_normal((4, 5))
    x[1] = 0.0  # a zero vector stays finite (divided by eps)
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ny, ty = F.normalize(nx, p, dim), TF.normalize(tx, p, dim)
    assert_close(ny, ty)
    g = rng.standard_normal((4, 5))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad)


def test_double_backward_check_catches_a_wrong_rule(monkeypatch, rng):
    """The comparison above can fail: treating xhat and invstd as constants under create_graph
    (a plausible shortcut) gives wrong second derivatives, and the test says so."""
    import nabla.nn.functional.normalization as normalization

    def constant_stats(x, stat_shape, count, eps):  # the same values, cut from the graph
        axes = tuple(i for i, n in enumerate(stat_shape) if n == 1)
        xhat, invstd, _, _ = normalization._stats_arrays(x._data, axes, eps)
        return nabla.Tensor._make(xhat), nabla.Tensor._make(invstd)

    monkeypatch.setattr(normalization, "_stats_tensors", constant_stats)
    case = next(c for c in SECOND_ORDER if c[0] == "layer_norm")
    with pytest.raises(AssertionError, match="second derivative|values differ"):
        test_double_backward_matches_torch(case, rng)
