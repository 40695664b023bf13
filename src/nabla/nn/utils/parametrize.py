"""Parametrizations as ``torch.nn.utils.parametrize``: ``module.weight`` computed on every access
from learned tensors by small modules (a symmetric matrix from any square one, an orthogonal one
from a skew-symmetric one, ...).

``register_parametrization(module, "weight", P)`` moves the parameter (or buffer) ``weight`` into
``module.parametrizations.weight`` (a ``ParametrizationList``, itself a ``ModuleList`` of the
parametrizations) as ``original`` -- or ``original0``, ``original1``, ... when ``P.right_inverse``
splits it into several tensors -- so the state_dict keys are PyTorch's
("parametrizations.weight.original", "parametrizations.weight.0._u").

How ``module.weight`` is found: PyTorch swaps the module's class for a generated subclass that
carries a ``weight`` property. nabla does no such thing: ``Module.__getattr__`` (called only when
ordinary lookup fails, and ``weight`` is no longer in any table) and ``Module.__setattr__`` ask
``module.parametrizations`` whether it holds an entry for the name, and if so read its
``value()`` (the chain of parametrizations applied to the originals) or pass an assigned tensor to
its ``right_inverse``. The module keeps its own class, so ``type_before_parametrizations`` is
simply ``type``, and copying or pickling a parametrized module needs nothing special.

``cached()`` is the one piece of global state here, as in PyTorch: inside it each parametrized
tensor is computed once and reused.
"""

from contextlib import contextmanager

from nabla.autograd.grad_mode import no_grad
from nabla.nn.modules.container import ModuleDict, ModuleList
from nabla.nn.modules.module import Module
from nabla.nn.parameter import Parameter
from nabla.tensor import Tensor

__all__ = ["register_parametrization", "is_parametrized", "remove_parametrizations", "cached",
           "type_before_parametrizations", "ParametrizationList"]


class _Cache:
    """The values computed inside ``cached()``, by ParametrizationList; depth counts nesting."""

    def __init__(self) -> None:
        self.depth = 0
        self.values: dict[int, Tensor] = {}


_cache = _Cache()


@contextmanager
def cached():
    """Compute each parametrized tensor at most once inside the ``with`` block (for a weight used
    several times in a forward, such as a recurrent kernel); the values are dropped on exit."""
    _cache.depth += 1
    try:
        yield
    finally:
        _cache.depth -= 1
        if not _cache.depth:
            _cache.values = {}


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_data(dest: Tensor, src: Tensor) -> None:
    """Give ``dest`` the values (and shape) of ``src`` in place, keeping the tensor object, so an
    optimizer built before still holds it (PyTorch's ``set_``)."""
    dest.data = src.detach()
    dest._version[0] += 1


def _right_inverse_of(parametrization: Module, value):
    """``parametrization.right_inverse(value)``; identity when it has none or declines."""
    if not hasattr(parametrization, "right_inverse"):
        return value
    try:
        return parametrization.right_inverse(value)
    except NotImplementedError:
        return value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the original tensor(s) they start from.

    It is ``module.parametrizations[name]``; made by ``register_parametrization``, not by users.
    The value is ``P_k(...P_1(P_0(original)))``, or ``P_0(original0, original1, ...)`` first
    when ``P_0.right_inverse`` returned several tensors.

    Args:
        modules: the parametrizations (at least one).
        original: the Parameter or buffer being parametrized; it is kept (as the same object, its
            values set to the right inverse) when the right inverse returns one tensor.
        unsafe: allow the parametrization to change the dtype or the shape.
    """

    is_parametrization_list = True  # what Module's attribute lookup checks for

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(list(self)):
                new = _right_inverse_of(module, new)
        if not isinstance(new, (Tensor, list, tuple)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the "
                                 f"dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            self._register_originals(new, original)
        if not unsafe:
            self._check_value(original.dtype, tuple(original.shape))

    def _register_originals(self, tensors, original: Tensor) -> None:
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                                 f"(list, tuple...). Got element {i} of the sequence with type "
                                 f"{type(tensor).__name__}.")
            tensor = tensor.detach()
            if isinstance(original, Parameter):
                tensor = Parameter(tensor, original.requires_grad)
            else:
                tensor.requires_grad_(original.requires_grad)
            _register_parameter_or_buffer(self, f"original{i}", tensor)

    def _check_value(self, dtype, shape: tuple) -> None:
        value = self()
        if not isinstance(value, Tensor):
            raise ValueError(f"A parametrization must return a tensor. Got {type(value).__name__}.")
        if value.dtype != dtype:
            raise ValueError("Registering a parametrization may not change the dtype of the tensor,"
                             f" unless `unsafe` flag is enabled.\nunparametrized dtype: {dtype}\n"
                             f"parametrized dtype: {value.dtype}")
        if tuple(value.shape) != shape:
            raise ValueError("Registering a parametrization may not change the shape of the tensor,"
                             f" unless `unsafe` flag is enabled.\nunparametrized shape: {shape}\n"
                             f"parametrized shape: {tuple(value.shape)}")

    def right_inverse(self, value: Tensor) -> None:
        """Set the original tensor(s) so that the parametrized value becomes ``value``: the
        ``right_inverse`` of each parametrization, last registered first."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                self._set_original(self.original, value, "`right_inverse`", "original")
                return
            if not isinstance(value, (list, tuple)):
                raise ValueError("'right_inverse' must return a sequence of tensors. "
                                 f"Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            for i, tensor in enumerate(value):
                self._set_original(getattr(self, f"original{i}"), tensor, f"Tensor {i} returned "
                                   "by `right_inverse`", f"original{i}")

    @staticmethod
    def _set_original(original: Tensor, value, what: str, name: str) -> None:
        if not isinstance(value, Tensor):
            raise ValueError(f"{what} should be a tensor. Got {type(value).__name__}")
        if value.dtype != original.dtype:
            raise ValueError(f"{what} has dtype {value.dtype} while `{name}` has dtype "
                             f"{original.dtype}")
        _set_data(original, value)

    def forward(self) -> Tensor:
        """The parametrized tensor, computed from the originals."""
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x

    def value(self) -> Tensor:
        """The parametrized tensor as ``module.<name>`` reads it: once per ``cached()`` block."""
        if not _cache.depth:
            return self()
        found = _cache.values.get(id(self))
        if found is None:
            found = _cache.values[id(self)] = self()
        return found


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` on a learned original.

    The first parametrization of a tensor moves it to
    ``module.parametrizations.<tensor_name>.original`` (its values replaced by
    ``parametrization.right_inverse(tensor)`` when that exists); a further one is appended and
    applied after the others. Assigning ``module.<tensor_name> = X`` then stores
    ``right_inverse(X)`` in the original.

    Args:
        module: the module holding the parameter or buffer.
        tensor_name: its name (``"weight"``).
        parametrization: a Module whose ``forward`` maps the original(s) to the tensor, with an
            optional ``right_inverse`` mapping a tensor to the original (or to a sequence of
            originals, registered as ``original0``, ``original1``, ...).
        unsafe: skip the checks that the dtype and shape are kept.

    Returns:
        The module.
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_appended(module, tensor_name, parametrization)
        entry = module.parametrizations[tensor_name]
        entry.append(parametrization)
        entry.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        entry = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            module.parametrizations = ModuleDict()
        module.parametrizations[tensor_name] = entry
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def _check_appended(module: Module, name: str, parametrization: Module) -> None:
    """A parametrization appended to others must keep the dtype and shape (unless unsafe)."""
    current = getattr(module, name)
    value = parametrization(current)
    for what, got in (("", value), (".right_inverse", _right_inverse_of(parametrization, value))):
        if not isinstance(got, Tensor):
            raise ValueError(f"parametrization{what} must return a tensor. Got: "
                             f"{type(got).__name__}")
        if got.dtype != current.dtype or tuple(got.shape) != tuple(current.shape):
            raise ValueError(f"parametrization{what} may not change the dtype or shape of "
                             f"module.{name} unless the `unsafe` flag is enabled: "
                             f"{current.dtype} {tuple(current.shape)} became {got.dtype} "
                             f"{tuple(got.shape)}")


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization on ``tensor_name`` (on anything, when None)."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Make ``module.<tensor_name>`` a plain parameter or buffer again.

    Args:
        module: the parametrized module.
        tensor_name: the parametrized tensor's name.
        leave_parametrized: keep its current (parametrized) value; else the original's, which
            needs a single original.

    Returns:
        The module.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    entry = module.parametrizations[tensor_name]
    if entry.is_tensor:
        original = entry.original
        if leave_parametrized:
            with no_grad():
                _set_data(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        del module.parametrizations
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class: nabla never replaces it (see this module's docstring)."""
    return type(module)

