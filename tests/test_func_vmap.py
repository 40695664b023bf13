"""nabla.func.vmap and functional_call against torch.func: in_dims/out_dims, nesting, composing
with grad, randomness, per-sample gradients of an MLP, ensembles, and the errors (the other
transforms: test_func.py)."""

import numpy as np
import pytest
import torch
import torch.func as tfunc
from conftest import assert_close, perturb
from test_func import DTYPES, _pair, _same, scalar_fn, vector_fn

import nabla
import nabla.func as nfunc
from nabla import nn


# -- vmap -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_vmap_in_dims_and_out_dims_match_torch(rng, dtype):
    (na, ta), (nb, tb) = _pair(rng, (4, 3), dtype), _pair(rng, (3, 4), dtype)
    (nw, tw), (nc, tc) = _pair(rng, (2, 3), dtype), _pair(rng, (3, 2, 4), dtype)

    def f(x, w):
        return (w @ x).tanh()

    cases = [
        ((na, nw), (ta, tw), {"in_dims": (0, None)}),
        ((nb, nw), (tb, tw), {"in_dims": (1, None)}),
        ((nb, nw), (tb, tw), {"in_dims": (-1, None), "out_dims": 1}),
        ((na, nw), (ta, tw), {"in_dims": (0, None), "out_dims": -1}),
    ]
    for nargs, targs, kw in cases:
        _same(nfunc.vmap(f, **kw)(*nargs), tfunc.vmap(f, **kw)(*targs), str(kw))

    def g(x, y):
        return x * y.sum()

    _same(nfunc.vmap(g)(na, nb.T), tfunc.vmap(g)(ta, tb.T))
    _same(nfunc.vmap(g, in_dims=(0, 2))(nb.T.contiguous(), nc),
          tfunc.vmap(g, in_dims=(0, 2))(tb.T.contiguous(), tc))
    _same(nabla.vmap(lambda x: x.sum())(na), torch.vmap(lambda x: x.sum())(ta))


def test_vmap_nested_in_dims_tuple_and_dict_outputs(rng):
    (na, ta), (nb, tb), (nw, tw) = _pair(rng, (4, 3)), _pair(rng, (3, 4)), _pair(rng, (2, 3))

    def f(pair, w, scale=1.0):
        x, y = pair
        return {"out": (w @ (x * y)) * scale, "norm": x.norm()}, (x + y, y.sum())

    kw = {"in_dims": ((0, 1), None), "out_dims": ({"out": 1, "norm": 0}, (0, -1))}
    _same(nfunc.vmap(f, **kw)((na, nb), nw, scale=2.0), tfunc.vmap(f, **kw)((ta, tb), tw,
                                                                            scale=2.0))
    _same(nfunc.vmap(f, in_dims=((0, 1), None))((na, nb), nw),
          tfunc.vmap(f, in_dims=((0, 1), None))((ta, tb), tw))
    ndict = nfunc.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0, "b": None},))
    tdict = tfunc.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0, "b": None},))
    _same(ndict({"a": na, "b": nb[:, 0]}), tdict({"a": ta, "b": tb[:, 0]}))


def test_vmap_of_vmap_matches_torch(rng):
    (na, ta), (nb, tb) = _pair(rng, (4, 3)), _pair(rng, (5, 3))

    def dot(x, y):
        return (x * y).sum()

    nouter = nfunc.vmap(nfunc.vmap(dot, in_dims=(None, 0)), in_dims=(0, None))
    touter = tfunc.vmap(tfunc.vmap(dot, in_dims=(None, 0)), in_dims=(0, None))
    _same(nouter(na, nb), touter(ta, tb))
    assert_close(nouter(na, nb), ta @ tb.T)
    (nc, tc) = _pair(rng, (2, 4, 3))
    _same(nfunc.vmap(nfunc.vmap(lambda x: x.exp() * x[0], out_dims=1))(nc),
          tfunc.vmap(tfunc.vmap(lambda x: x.exp() * x[0], out_dims=1))(tc))


@pytest.mark.parametrize("dtype", DTYPES)
def test_vmap_composes_with_grad_both_ways(rng, dtype):
    (na, ta), (nw, tw) = _pair(rng, (4, 3), dtype), _pair(rng, (2, 3), dtype)
    _same(nfunc.vmap(nfunc.grad(scalar_fn), in_dims=(0, None))(na, nw),
          tfunc.vmap(tfunc.grad(scalar_fn), in_dims=(0, None))(ta, tw))
    _same(nfunc.grad(lambda a: nfunc.vmap(scalar_fn, (0, None))(a, nw).sin().sum())(na),
          tfunc.grad(lambda a: tfunc.vmap(scalar_fn, (0, None))(a, tw).sin().sum())(ta))
    _same(nfunc.vmap(nfunc.jacrev(vector_fn), in_dims=(0, None))(na, nw),
          tfunc.vmap(tfunc.jacrev(vector_fn), in_dims=(0, None))(ta, tw))
    # vmap under a plain backward: the gradient flows through the slices and the stack
    na.requires_grad_()
    ta.requires_grad_()
    g = rng.standard_normal(4).astype(dtype)
    nfunc.vmap(scalar_fn, (0, None))(na, nw).backward(nabla.tensor(g))
    tfunc.vmap(scalar_fn, (0, None))(ta, tw).backward(torch.tensor(g))
    assert_close(na.grad, ta.grad)


def test_vmap_out_dims_none_and_non_tensor_arguments(rng):
    (na, ta), (nw, tw) = _pair(rng, (4, 3)), _pair(rng, 3)
    nout = nfunc.vmap(lambda x, w, k: (x * k, w * 2), in_dims=(0, None, None),
                      out_dims=(0, None))(na, nw, 3)
    tout = tfunc.vmap(lambda x, w, k: (x * k, w * 2), in_dims=(0, None, None),
                      out_dims=(0, None))(ta, tw, 3)
    _same(nout, tout)
    with pytest.raises(ValueError, match="out_dim None but differs between elements"):
        nfunc.vmap(lambda x: x * 2, out_dims=None)(na)


def test_vmap_errors_name_vmap_the_sizes_and_the_fix(rng):
    (na, _), (nb, _) = _pair(rng, (4, 3)), _pair(rng, (5, 3))
    with pytest.raises(ValueError, match=r"vmap\(<lambda>.*same size in the mapped dimension, "
                                         r"got sizes \[4, 5\].*pass None"):
        nfunc.vmap(lambda x, y: x + y)(na, nb)
    with pytest.raises(ValueError, match="input is of type int.*use None"):
        nfunc.vmap(lambda x, k: x * k)(na, 3)
    with pytest.raises(ValueError, match=r"in_dim=2 for an input of shape \(4, 3\)"):
        nfunc.vmap(lambda x: x, in_dims=2)(na)
    with pytest.raises(ValueError, match="at least one input must be mapped"):
        nfunc.vmap(lambda x: x, in_dims=(None,))(na)
    with pytest.raises(ValueError, match="not compatible with the structure of the inputs"):
        nfunc.vmap(lambda x, y: x, in_dims=(0,))(na, nb)
    with pytest.raises(ValueError, match="got no inputs"):
        nfunc.vmap(lambda: nabla.ones(1))()
    with pytest.raises(ValueError, match="must only return Tensors, got type float"):
        nfunc.vmap(lambda x: 1.0)(na)
    with pytest.raises(ValueError, match="out_dims is not compatible"):
        nfunc.vmap(lambda x: (x, x), out_dims=(0, 0, 0))(na)
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        nfunc.vmap(lambda x: x, randomness="sometimes")
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        nfunc.vmap(lambda x: x, chunk_size=0)


def test_vmap_randomness(rng):
    na, _ = _pair(rng, (4, 3))

    def noisy(x):
        return x + nabla.rand(3, dtype=nabla.float64)

    with pytest.raises(RuntimeError, match="drew random numbers while randomness='error'"):
        nfunc.vmap(noisy)(na)
    with pytest.raises(RuntimeError, match="randomness='error'"):  # dropout draws too
        nfunc.vmap(lambda x: nabla.nn.functional.dropout(x, 0.5, True))(na)
    assert_close(nfunc.vmap(lambda x: nabla.nn.functional.dropout(x, 0.5, False))(na),
                 torch.tensor(na.numpy()))
    noise = nfunc.vmap(noisy, randomness="different")(na) - na
    assert not np.allclose(noise[0].numpy(), noise[1].numpy())
    nabla.manual_seed(3)
    noise = nfunc.vmap(noisy, randomness="same")(na) - na
    for b in range(1, 4):
        np.testing.assert_allclose(noise[b].numpy(), noise[0].numpy(), rtol=1e-12)
    nabla.manual_seed(3)  # 'same' draws what one call outside the vmap would, once
    np.testing.assert_allclose(noise[0].numpy(), nabla.rand(3, dtype=nabla.float64).numpy(),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nfunc.vmap(lambda x: x * 2)(na).numpy(), na.numpy() * 2)


# -- functional_call and per-sample gradients -------------------------------------------------
def _block(lib):
    """A module with a submodule and a buffer, in nabla or PyTorch."""
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 4)
            self.register_buffer("shift", lib.zeros(4))

        def forward(self, x):
            return self.fc(x).tanh() + self.shift

    return Block()


def _twins(rng):
    """A nabla net and its PyTorch twin (nested modules, a buffer), float64, equal weights."""
    def build(lib):
        net = lib.nn.Sequential(_block(lib), lib.nn.Linear(4, 2))
        return net.double()
    tnet, nnet = build(torch), build(nabla)
    perturb(tnet)
    with torch.no_grad():
        tnet[0].shift.copy_(torch.tensor(rng.standard_normal(4)))
    nnet.load_state_dict(tnet.state_dict())
    return nnet, tnet


def _params(rng, tnet):
    tp = {k: torch.tensor(rng.standard_normal(tuple(v.shape))) for k, v in
          tnet.state_dict().items()}
    return {k: nabla.tensor(v.numpy()) for k, v in tp.items()}, tp


def test_functional_call_matches_torch_and_restores_the_module(rng):
    nnet, tnet = _twins(rng)
    (nx, tx) = _pair(rng, (5, 3))
    nparams, tparams = _params(rng, tnet)
    before = {**dict(nnet.named_parameters()), **dict(nnet.named_buffers())}
    _same(nfunc.functional_call(nnet, nparams, nx), tfunc.functional_call(tnet, tparams, tx))
    _same(nfunc.functional_call(nnet, nparams, (nx,)), tfunc.functional_call(tnet, tparams, (tx,)))
    split = ({k: v for k, v in nparams.items() if "shift" in k},
             {k: v for k, v in nparams.items() if "shift" not in k})
    tsplit = ({k: v for k, v in tparams.items() if "shift" in k},
              {k: v for k, v in tparams.items() if "shift" not in k})
    _same(nfunc.functional_call(nnet, split, nx), tfunc.functional_call(tnet, tsplit, tx))
    only = {"1.bias": nparams["1.bias"]}  # the rest stays the module's own
    _same(nfunc.functional_call(nnet, only, nx),
          tfunc.functional_call(tnet, {"1.bias": tparams["1.bias"]}, tx))
    after = {**dict(nnet.named_parameters()), **dict(nnet.named_buffers())}
    for k in before:
        assert after[k] is before[k], f"{k} was not restored"
    assert isinstance(nnet[1].weight, nn.Parameter)
    _same(nnet(nx), tnet(tx), "the module's own output after the calls")


def test_functional_call_gradients_flow_to_the_passed_tensors(rng):
    nnet, tnet = _twins(rng)
    nx, tx = _pair(rng, (5, 3))
    nparams, tparams = _params(rng, tnet)
    for p in list(nparams.values()) + list(tparams.values()):
        p.requires_grad_()
    (nfunc.functional_call(nnet, nparams, nx) ** 2).sum().backward()
    (tfunc.functional_call(tnet, tparams, tx) ** 2).sum().backward()
    for k in tparams:
        assert_close(nparams[k].grad, tparams[k].grad, what=f"grad of {k}")
    assert all(p.grad is None for p in nnet.parameters())
    _same(nfunc.grad(lambda p, x: nfunc.functional_call(nnet, p, x).sum())(nparams, nx),
          tfunc.grad(lambda p, x: tfunc.functional_call(tnet, p, x).sum())(tparams, tx))


def test_functional_call_restores_the_parameters_after_an_exception(rng):
    nnet, _ = _twins(rng)
    before = dict(nnet.named_parameters())
    nparams = {k: nabla.zeros(*v.shape, dtype=nabla.float64) for k, v in before.items()}
    with pytest.raises(RuntimeError):
        nfunc.functional_call(nnet, nparams, nabla.ones(5, 7, dtype=nabla.float64))  # bad shape
    assert dict(nnet.named_parameters()) == before
    for k, v in nnet.named_parameters():
        assert v is before[k] and isinstance(v, nn.Parameter)


def test_functional_call_strict_tied_and_errors(rng):
    nnet, tnet = _twins(rng)
    nparams, tparams = _params(rng, tnet)
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'nope'.*\n.*Missing key\(s\): "
                                           r"'0.fc.weight'"):
        partial = {k: v for k, v in nparams.items() if k != "0.fc.weight"}
        nfunc.functional_call(nnet, {**partial, "nope": nabla.ones(1)}, nabla.ones(1, 3),
                              strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        nfunc.functional_call(nnet, (nparams, {"1.bias": nparams["1.bias"]}), nabla.ones(1, 3))
    with pytest.raises(TypeError, match="must be a Tensor, got list"):
        nfunc.functional_call(nnet, {"1.bias": [1.0, 2.0]}, nabla.ones(1, 3))
    # tied weights: the value for one name covers both, unless tie_weights=False
    tied = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)).double()
    tied[1].weight = tied[0].weight
    x = nabla.tensor(rng.standard_normal((1, 2)))
    w = nabla.tensor(rng.standard_normal((2, 2)))
    both = nfunc.functional_call(tied, {"0.weight": w}, x)
    np.testing.assert_allclose(both.detach().numpy(), (x.numpy() @ w.numpy().T) @ w.numpy().T)
    one = nfunc.functional_call(tied, {"0.weight": w}, x, tie_weights=False)
    own = tied[1].weight.detach().numpy()
    np.testing.assert_allclose(one.detach().numpy(), (x.numpy() @ w.numpy().T) @ own.T)
    with pytest.raises(ValueError, match="which are tied"):
        nfunc.functional_call(tied, {"0.weight": w, "1.weight": w * 2}, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_per_sample_gradients_of_an_mlp_match_torch(rng, dtype):
    """The torch.func recipe: vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)."""
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    tnet = tnet.to(getattr(torch, np.dtype(dtype).name))
    perturb(tnet)
    nnet = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).to(
        getattr(nabla, np.dtype(dtype).name))
    nnet.load_state_dict(tnet.state_dict())
    (nx, tx) = _pair(rng, (6, 5), dtype)
    y = rng.integers(0, 3, 6)
    ny, ty = nabla.tensor(y), torch.tensor(y)

    def loss(lib, net, params, x, target):
        out = lib.func.functional_call(net, params, (x.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))

    nparams = {k: v.detach() for k, v in nnet.named_parameters()}
    tparams = {k: v.detach() for k, v in tnet.named_parameters()}
    ngrads = nfunc.vmap(nfunc.grad(lambda p, x, t: loss(nabla, nnet, p, x, t)),
                        in_dims=(None, 0, 0))(nparams, nx, ny)
    tgrads = tfunc.vmap(tfunc.grad(lambda p, x, t: loss(torch, tnet, p, x, t)),
                        in_dims=(None, 0, 0))(tparams, tx, ty)
    _same(ngrads, tgrads, "per-sample gradients")
    assert tuple(ngrads["0.weight"].shape) == (6, 8, 5)
    # the mean of the per-sample gradients is the batch gradient
    nabla.nn.functional.cross_entropy(nnet(nx), ny).backward()
    for k, p in nnet.named_parameters():
        np.testing.assert_allclose(ngrads[k].mean(0).numpy(), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=k)


def test_functional_call_updates_the_buffers_passed_not_the_modules(rng):
    """A batch norm in training mode updates the running statistics passed in, as PyTorch."""
    nbn, tbn = nn.BatchNorm1d(3).double(), torch.nn.BatchNorm1d(3).double()
    x = rng.standard_normal((5, 3))
    nstate = {k: nabla.tensor(v.numpy().copy()) for k, v in tbn.state_dict().items()}
    tstate = {k: v.clone() for k, v in tbn.state_dict().items()}
    _same(nfunc.functional_call(nbn, nstate, nabla.tensor(x)),
          tfunc.functional_call(tbn, tstate, torch.tensor(x)))
    _same(nstate, tstate, "the dict after the call")
    np.testing.assert_array_equal(nbn.running_mean.numpy(), np.zeros(3))
    assert int(nbn.num_batches_tracked.item()) == 0


def test_stack_module_state_ensemble_under_vmap_matches_torch(rng):
    tmodels = [torch.nn.Linear(3, 2).double() for _ in range(4)]
    nmodels = [nn.Linear(3, 2).double() for _ in range(4)]
    for n, t in zip(nmodels, tmodels, strict=True):
        perturb(t)
        n.load_state_dict(t.state_dict())
    nparams, nbuffers = nfunc.stack_module_state(nmodels)
    tparams, tbuffers = tfunc.stack_module_state(tmodels)
    _same(nparams, tparams, "stacked parameters")
    assert nparams["weight"].requires_grad and nparams["weight"].grad_fn is None
    x, tx = _pair(rng, (5, 3))

    def ensemble(lib, models):
        return lambda p, b, x: lib.func.functional_call(models[0], (p, b), (x,))

    nout = nfunc.vmap(ensemble(nabla, nmodels), in_dims=(0, 0, None))(nparams, nbuffers, x)
    tout = tfunc.vmap(ensemble(torch, tmodels), in_dims=(0, 0, None))(tparams, tbuffers, tx)
    _same(nout, tout, "ensemble outputs")
    nout.sum().backward()
    tout.sum().backward()
    assert_close(nparams["weight"].grad, tparams["weight"].grad)
    nmodels[1].eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        nfunc.stack_module_state(nmodels)
