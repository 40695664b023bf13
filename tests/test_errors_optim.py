"""Mistakes with optimizers and learning-rate schedulers get a clear error naming the class, the
values and the fix (never NumPy's broadcasting error or a ZeroDivisionError), and PyTorch
refuses the same input where it does (its exception type is given per case)."""

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch

import nabla
from nabla import nn, optim
from nabla.optim import lr_scheduler as S

TS = torch.optim.lr_scheduler


def ours_param(n=3):
    return nabla.tensor(np.ones(n, dtype=np.float32), requires_grad=True)


def theirs_param(n=3):
    return torch.ones(n, requires_grad=True)


def ours_sgd(**kw):
    return optim.SGD([ours_param()], **{"lr": 0.1, "momentum": 0.9, **kw})


def theirs_sgd(**kw):
    return torch.optim.SGD([theirs_param()], **{"lr": 0.1, "momentum": 0.9, **kw})


@dataclass
class Case:
    name: str
    ours: Callable
    error: type
    match: str
    theirs: Callable | None = None  # None: PyTorch accepts it (say why in the name)
    torch_error: type | None = None  # PyTorch's type when it is not ``error``

    def __repr__(self) -> str:
        return self.name


def _step_with_grad(lib, opt_cls, grad_shape, **kw):
    make = ours_param if lib is nabla else theirs_param

    def run():
        p = make(3)
        opt = opt_cls([p], **kw)
        p.grad = lib.ones(*grad_shape)
        opt.step()
    return run


def _load_mismatched_state(lib, sgd):
    make = ours_param if lib is nabla else theirs_param

    def run():
        p, q = make(3), make(4)
        a, b = sgd([p], lr=0.1, momentum=0.9), sgd([q], lr=0.1, momentum=0.9)
        p.grad = lib.ones(3)
        a.step()
        b.load_state_dict(a.state_dict())
        q.grad = lib.ones(4)
        b.step()
    return run


def _group_lr(lib_optim, make):
    return lambda: lib_optim.SGD([{"params": [make()], "lr": -1.0}], lr=0.1)


OPTIMIZER_CASES = [
    Case("lr a string", lambda: optim.Adam([ours_param()], lr="0.1"), TypeError,
         r"Adam: learning rate must be a number, got str '0.1'",
         lambda: torch.optim.Adam([theirs_param()], lr="0.1")),
    Case("negative lr", lambda: optim.RMSprop([ours_param()], lr=-1), ValueError,
         r"RMSprop: Invalid learning rate: -1 \(it must be >= 0",
         lambda: torch.optim.RMSprop([theirs_param()], lr=-1)),
    Case("negative lr in a group (PyTorch accepts)", _group_lr(optim, ours_param), ValueError,
         r"SGD: Invalid learning rate: -1.0"),
    Case("beta of 1", lambda: optim.Adam([ours_param()], betas=(1.0, 0.999)), ValueError,
         r"Adam: Invalid beta parameter at index 0: 1.0 \(it must be in \[0.0, 1.0\)\)",
         lambda: torch.optim.Adam([theirs_param()], betas=(1.0, 0.999))),
    Case("betas a float", lambda: optim.AdamW([ours_param()], betas=0.9), TypeError,
         r"AdamW: betas must be a pair \(beta1, beta2\).*got float 0.9",
         lambda: torch.optim.AdamW([theirs_param()], betas=0.9)),
    Case("one beta", lambda: optim.Adam([ours_param()], betas=(0.9,)), IndexError,
         r"Adam: betas must be a pair .*got 1 values \(0.9,\)",
         lambda: torch.optim.Adam([theirs_param()], betas=(0.9,))),
    Case("three betas (PyTorch accepts)",
         lambda: optim.Adam([ours_param()], betas=(0.9, 0.99, 0.5)), ValueError,
         r"betas must be a pair .*got 3 values"),
    Case("negative eps", lambda: optim.Adagrad([ours_param()], eps=-1e-8), ValueError,
         r"Adagrad: Invalid epsilon value: -1e-08",
         lambda: torch.optim.Adagrad([theirs_param()], eps=-1e-8)),
    Case("rho above 1", lambda: optim.Adadelta([ours_param()], rho=1.5), ValueError,
         r"Adadelta: Invalid rho value: 1.5 \(it must be in \[0.0, 1.0\]\)",
         lambda: torch.optim.Adadelta([theirs_param()], rho=1.5)),
    Case("nesterov with dampening", lambda: ours_sgd(nesterov=True, dampening=0.1), ValueError,
         r"SGD: Nesterov momentum requires .*momentum=0.9, dampening=0.1",
         lambda: theirs_sgd(nesterov=True, dampening=0.1)),
    Case("params a single tensor", lambda: optim.SGD(ours_param(), lr=0.1), TypeError,
         r"SGD: params argument .* got Tensor. Wrap it in a list",
         lambda: torch.optim.SGD(theirs_param(), lr=0.1)),
    Case("params None", lambda: optim.SGD(None, lr=0.1), TypeError,
         r"SGD: params argument .*iterable of Tensors or dicts, but got NoneType",
         lambda: torch.optim.SGD(None, lr=0.1)),
    Case("params a module", lambda: optim.SGD(nn.Linear(2, 2), lr=0.1), TypeError,
         r"got Linear: pass model.parameters\(\)",
         lambda: torch.optim.SGD(torch.nn.Linear(2, 2), lr=0.1)),
    Case("params a set (PyTorch accepts at top level)",
         lambda: optim.SGD({ours_param()}, lr=0.1), TypeError, r"ordered collections"),
    Case("a group without 'params'", lambda: optim.SGD([{"lr": 0.1}], lr=0.1), KeyError,
         r"SGD: a parameter group needs a 'params' entry, got keys \['lr'\]",
         lambda: torch.optim.SGD([{"lr": 0.1}], lr=0.1)),
    Case("a non-leaf tensor", lambda: optim.SGD([ours_param() * 2], lr=0.1), ValueError,
         r"SGD: can't optimize a non-leaf Tensor .*grad_fn=Mul",
         lambda: torch.optim.SGD([theirs_param() * 2], lr=0.1)),
    Case("closure not callable", lambda: ours_sgd().step(5), TypeError,
         r"SGD.step: closure must be a function .*got int", lambda: theirs_sgd().step(5)),
    Case("load_state_dict of a list", lambda: ours_sgd().load_state_dict([1]), TypeError,
         r"SGD.load_state_dict: expected the dict returned by optimizer.state_dict\(\), got list",
         lambda: theirs_sgd().load_state_dict([1])),
    Case("load_state_dict of a model's state", lambda: ours_sgd().load_state_dict(
         nn.Linear(2, 2).state_dict()), KeyError,
         r"no 'state' or 'param_groups' entry \(keys: \['bias', 'weight'\]\).*model.load_state",
         lambda: theirs_sgd().load_state_dict(torch.nn.Linear(2, 2).state_dict())),
    Case("load_state_dict of another model's state", _load_mismatched_state(nabla, optim.SGD),
         RuntimeError, r"SGD.load_state_dict: state 'momentum_buffer' of parameter 0 has shape "
         r"\(3,\), but the parameter has shape \(4,\)",
         _load_mismatched_state(torch, torch.optim.SGD)),
]


def assert_torch_refuses(case: Case) -> None:
    """PyTorch refuses the same input, with its own exception type where it differs."""
    if case.theirs is not None:
        with warnings.catch_warnings(), pytest.raises(case.torch_error or case.error):
            warnings.simplefilter("ignore")
            case.theirs()


@pytest.mark.parametrize("case", OPTIMIZER_CASES, ids=repr)
def test_optimizer_mistakes_are_reported(case):
    with pytest.raises(case.error, match=case.match):
        case.ours()
    assert_torch_refuses(case)


@pytest.mark.parametrize("grad_shape", [(4,), (1,)], ids=["other", "broadcastable"])
def test_a_gradient_of_another_shape_is_refused_when_assigned(grad_shape):
    """As PyTorch: p.grad takes a tensor of p's shape and dtype (a (1,) gradient used to be
    broadcast over the parameter by the optimizer's update without a word)."""
    for lib, make in ((nabla, ours_param), (torch, theirs_param)):
        p = make(3)
        with pytest.raises(RuntimeError, match=r"(grad: assigned grad of shape \(\d,\) and dtype "
                                               r"float32 does not match the tensor's shape \(3,\)"
                                               r"|same size)"):
            p.grad = lib.ones(*grad_shape)
    p = ours_param(3)
    with pytest.raises(RuntimeError, match="dtype float64 does not match"):
        p.grad = nabla.ones(3, dtype=nabla.float64)


def test_a_gradient_that_is_not_a_tensor_is_refused_when_assigned():
    p = ours_param()
    with pytest.raises(TypeError, match="grad: assigned grad must be a Tensor or None, got "
                                        "ndarray"):
        p.grad = np.ones(3)
    with pytest.raises(TypeError):
        theirs_param().grad = np.ones(3)
    p.grad = None  # allowed, as in PyTorch


def test_an_exhausted_generator_is_explained():
    model = nn.Linear(2, 2)
    params = model.parameters()
    optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match=r"empty parameter list. A generator such as "
                                         r"model.parameters\(\) is used up"):
        optim.SGD(params, lr=0.1)
    tparams = torch.nn.Linear(2, 2).parameters()
    torch.optim.SGD(tparams, lr=0.1)
    with pytest.raises(ValueError):
        torch.optim.SGD(tparams, lr=0.1)


def test_a_misspelt_group_key_warns_and_other_keys_do_not():
    with pytest.warns(UserWarning, match=r"SGD: parameter group key 'momemtum' .*did you mean "
                                         r"'momentum'"):
        optim.SGD([{"params": [ours_param()], "momemtum": 0.9}], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([{"params": [ours_param()], "name": "encoder"}], lr=0.1)


def test_load_state_dict_counts_name_the_numbers():
    ours = optim.SGD([{"params": [ours_param()]}, {"params": [ours_param()]}], lr=0.1)
    with pytest.raises(ValueError, match=r"different number of parameter groups \(2\) than the "
                                         r"optimizer \(1\)"):
        ours_sgd().load_state_dict(ours.state_dict())
    two = optim.SGD([ours_param(), ours_param()], lr=0.1)
    with pytest.raises(ValueError, match=r"group 0: 2 saved parameters, 1 here"):
        ours_sgd().load_state_dict(two.state_dict())


# -- schedulers -------------------------------------------------------------------------------

def _step_n(make, n):
    def run():
        scheduler = make()
        for _ in range(n):
            scheduler.optimizer.step()
            scheduler.step()
    return run


def _sequential(lib_s, opt, milestones, count=2):
    def run():
        o = opt()
        schedulers = [lib_s.StepLR(o, 2), lib_s.ExponentialLR(o, 0.9), lib_s.StepLR(o, 3)]
        return lib_s.SequentialLR(o, schedulers[:count], milestones=milestones)
    return run


SCHEDULER_CASES = [
    Case("a torch optimizer", lambda: S.StepLR(theirs_sgd(), 3), TypeError,
         r"StepLR: torch.optim.sgd.SGD is not an Optimizer; build the scheduler on a "
         r"nabla.optim optimizer"),
    Case("a module", lambda: S.LambdaLR(nn.Linear(2, 2), lambda e: 1.0), TypeError,
         r"LambdaLR: Linear is not an Optimizer",
         lambda: TS.LambdaLR(torch.nn.Linear(2, 2), lambda e: 1.0), AttributeError),
    Case("step_size 0", _step_n(lambda: S.StepLR(ours_sgd(), 0), 1), ValueError,
         r"StepLR: step_size must be a positive integer .*got 0",
         _step_n(lambda: TS.StepLR(theirs_sgd(), 0), 1), ZeroDivisionError),
    Case("step_size negative (PyTorch accepts)", lambda: S.StepLR(ours_sgd(), -1), ValueError,
         r"step_size must be a positive integer .*got -1"),
    Case("negative gamma (PyTorch accepts)", lambda: S.ExponentialLR(ours_sgd(), -0.5),
         ValueError, r"ExponentialLR: Invalid gamma: -0.5 \(it must be >= 0"),
    Case("milestones an int", lambda: S.MultiStepLR(ours_sgd(), 5), TypeError,
         r"MultiStepLR: milestones must be a list of epochs .*got int 5",
         lambda: TS.MultiStepLR(theirs_sgd(), 5)),
    Case("T_max 0", _step_n(lambda: S.CosineAnnealingLR(ours_sgd(), 0), 1), ValueError,
         r"CosineAnnealingLR: T_max must be a positive number of epochs .*got 0",
         _step_n(lambda: TS.CosineAnnealingLR(theirs_sgd(), 0), 1), ZeroDivisionError),
    Case("OneCycleLR stepped past total_steps",
         _step_n(lambda: S.OneCycleLR(ours_sgd(), 0.1, total_steps=3), 4), ValueError,
         r"Tried to step 4 times. The specified number of total steps is 3",
         _step_n(lambda: TS.OneCycleLR(theirs_sgd(), 0.1, total_steps=3), 4)),
    Case("OneCycleLR warm-up of one step",
         lambda: S.OneCycleLR(ours_sgd(), 0.1, total_steps=10, pct_start=0.1), ValueError,
         r"OneCycleLR: phase 1 of the schedule has no length \(pct_start=0.1 of "
         r"total_steps=10 .*change pct_start or total_steps",
         lambda: TS.OneCycleLR(theirs_sgd(), 0.1, total_steps=10, pct_start=0.1),
         ZeroDivisionError),
    Case("ReduceLROnPlateau mode typo", lambda: S.ReduceLROnPlateau(ours_sgd(), mode="minimum"),
         ValueError, r"ReduceLROnPlateau: mode minimum is unknown! Use 'min'",
         lambda: TS.ReduceLROnPlateau(theirs_sgd(), mode="minimum")),
    Case("ReduceLROnPlateau negative patience (PyTorch accepts)",
         lambda: S.ReduceLROnPlateau(ours_sgd(), patience=-1), ValueError,
         r"patience must be >= 0 .*got -1"),
    Case("ReduceLROnPlateau given a vector", lambda: S.ReduceLROnPlateau(ours_sgd()).step(
         nabla.ones(3)), ValueError,
         r"ReduceLROnPlateau.step: metrics must be one number .*tensor of shape \(3,\)",
         lambda: TS.ReduceLROnPlateau(theirs_sgd()).step(torch.ones(3))),
    Case("SequentialLR milestones count", _sequential(S, ours_sgd, [2, 4]), ValueError,
         r"SequentialLR: .*one more than the number of milestone points, but got 2 "
         r"schedulers and 2 milestones \[2, 4\]", _sequential(TS, theirs_sgd, [2, 4])),
    Case("SequentialLR milestones decreasing (PyTorch accepts)",
         _sequential(S, ours_sgd, [5, 2], count=3), ValueError,
         r"SequentialLR: milestones must increase .*got \[5, 2\]"),
    Case("SequentialLR given one scheduler", lambda: (lambda o: S.SequentialLR(
         o, S.StepLR(o, 2), milestones=[]))(ours_sgd()), TypeError,
         r"SequentialLR: schedulers must be a list of schedulers, got StepLR",
         lambda: (lambda o: TS.SequentialLR(o, TS.StepLR(o, 2), milestones=[]))(theirs_sgd())),
    Case("LambdaLR lambda count", lambda: S.LambdaLR(ours_sgd(), [lambda e: 1.0] * 2),
         ValueError, r"LambdaLR: Expected 1 lr_lambdas, but got 2",
         lambda: TS.LambdaLR(theirs_sgd(), [lambda e: 1.0] * 2)),
    Case("LambdaLR given a number", lambda: S.LambdaLR(ours_sgd(), 0.5), TypeError,
         r"LambdaLR: lr_lambda should be a function of the epoch.*got float",
         lambda: TS.LambdaLR(theirs_sgd(), 0.5)),
    Case("LambdaLR lambda returning a string", lambda: S.LambdaLR(ours_sgd(), lambda e: "x"),
         TypeError, r"LambdaLR: lr_lambda\(0\) returned str 'x'; it must return a number",
         lambda: TS.LambdaLR(theirs_sgd(), lambda e: "x")),
    Case("scheduler load_state_dict of a list", lambda: S.StepLR(ours_sgd(), 3).load_state_dict(
         [1, 2]), TypeError, r"StepLR.load_state_dict: expected the dict returned by "
         r"scheduler.state_dict\(\), got list",
         lambda: TS.StepLR(theirs_sgd(), 3).load_state_dict([1, 2])),
    Case("scheduler load_state_dict of an optimizer's (PyTorch accepts)",
         lambda: S.StepLR(ours_sgd(), 3).load_state_dict(ours_sgd().state_dict()), ValueError,
         r"StepLR.load_state_dict: this is an optimizer's state_dict"),
]


@pytest.mark.parametrize("case", SCHEDULER_CASES, ids=repr)
def test_scheduler_mistakes_are_reported(case):
    with pytest.raises(case.error, match=case.match):
        case.ours()
    assert_torch_refuses(case)


def _first_error(make):
    try:
        make()
    except Exception as err:  # noqa: BLE001  (any first error is what is compared)
        return type(err), str(err).split(" (")[0][:60]
    return None


@pytest.mark.parametrize("total_steps", [10, 0])
@pytest.mark.parametrize("pct_start", [0.3, 1.5, 2, "0.3", None])
@pytest.mark.parametrize("anneal_strategy", ["cos", "tan"])
@pytest.mark.parametrize("max_lr", [0.1, [0.1, 0.2]])
@pytest.mark.parametrize("cycle_momentum", [True, False])
def test_one_cycle_lr_reports_the_first_mistake_torch_reports(total_steps, pct_start,
                                                              anneal_strategy, max_lr,
                                                              cycle_momentum):
    """pct_start is checked after total_steps (a wrong type fails in the phase table first, as
    PyTorch's) and before anneal_strategy, max_lr and the momentum, as PyTorch checks them."""
    kwargs = dict(total_steps=total_steps, pct_start=pct_start, anneal_strategy=anneal_strategy,
                  cycle_momentum=cycle_momentum)
    ours = _first_error(lambda: S.OneCycleLR(optim.Adagrad([ours_param()]), max_lr, **kwargs))
    theirs = _first_error(lambda: TS.OneCycleLR(torch.optim.Adagrad([theirs_param()]), max_lr,
                                                **kwargs))
    assert ours == theirs


def test_one_cycle_lr_checks_its_phases_after_torch_s_checks():
    """A warm-up of no length (nabla's own check; PyTorch divides by zero at its first step)
    is reported after the mistakes PyTorch reports in the constructor."""
    for kwargs, match in (({"anneal_strategy": "tan"}, "anneal_strategy must be one of"),
                          ({"max_lr": [0.1, 0.2]}, "max_lr must have the same length")):
        kwargs = {"max_lr": 0.1, **kwargs}
        with pytest.raises(ValueError, match=match):
            S.OneCycleLR(ours_sgd(), total_steps=10, pct_start=0.1, **kwargs)
        with pytest.raises(ValueError, match=match):
            TS.OneCycleLR(theirs_sgd(), total_steps=10, pct_start=0.1, **kwargs)


def test_constant_lr_with_factor_zero_comes_back_to_the_initial_lr():
    """PyTorch divides by the factor at total_iters (ZeroDivisionError for factor 0)."""
    opt = ours_sgd()
    scheduler = S.ConstantLR(opt, factor=0.0, total_iters=2)
    lrs = []
    for _ in range(3):
        lrs.append(scheduler.get_last_lr()[0])
        opt.step()
        scheduler.step()
    assert lrs + scheduler.get_last_lr() == [0.0, 0.0, 0.1, 0.1]
    with pytest.raises(ZeroDivisionError):
        _step_n(lambda: TS.ConstantLR(theirs_sgd(), factor=0.0, total_iters=2), 2)()


def test_sequential_lr_load_state_dict_counts_the_schedulers():
    opt = ours_sgd()
    one = S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[])
    two = _sequential(S, ours_sgd, [2])()
    with pytest.raises(ValueError, match=r"SequentialLR.load_state_dict: the state holds 2 "
                                         r"schedulers' states, but this SequentialLR has 1"):
        one.load_state_dict(two.state_dict())
