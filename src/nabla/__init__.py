"""nabla: a define-by-run deep-learning framework on NumPy, with the API of PyTorch."""

from nabla import autograd, backends, cuda, special, viz
from nabla.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from nabla.backend import device
from nabla.backends import are_deterministic_algorithms_enabled, use_deterministic_algorithms
from nabla.creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from nabla.dtype import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    long,
    result_type,
    set_default_dtype,
    uint8,
)
from nabla.ops import *  # noqa: F403  (the functional API: nabla.exp, nabla.matmul, ...)
from nabla.printing import set_printoptions
from nabla.random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from nabla.serialization import load, save
from nabla.tensor import Tensor

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


# Subpackages reachable as attributes after `import nabla`, as torch.nn / torch.optim are.
# transforms: torchvision-style data augmentation.
from nabla import diagnostics, distributions, jit, linalg, nn, onnx, optim, transforms, utils  # noqa: E402,I001
from nabla.diagnostics.summary import summary  # noqa: E402
from nabla.jit import compile  # noqa: E402  (torch.compile: a no-op here, see jit.py)

# torch's top-level names of matrix functions (the functions live in nabla.linalg)
from nabla.linalg import det, matrix_power, slogdet  # noqa: E402
from nabla.linalg import inv as inverse  # noqa: E402
from nabla.linalg.inverse import logdet  # noqa: E402
from nabla.linalg.pseudoinverse import pinverse  # noqa: E402
from nabla.nn.functional._parallel import get_num_threads, set_num_threads  # noqa: E402
from nabla.nn.functional.distance import cdist  # noqa: E402  (torch.cdist)
