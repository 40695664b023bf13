"""``nabla.func``: PyTorch's ``torch.func`` transforms, on nabla's reverse-mode autograd.

functional_call.py  run a module with given tensors for its parameters and buffers;
                    stack_module_state (ensembles)
transforms.py       grad, grad_and_value, vjp, jvp, linearize (jvp by the double-vjp trick)
jacobians.py        jacrev, jacfwd (reverse mode underneath), hessian
vmap.py             vmap: torch's semantics, computed as a loop over the mapped dimension
_levels.py          how a transform's inputs are made and when its results keep a graph
_pytree.py          flattening nested tuples/lists/dicts of tensors
"""

from nabla.func.functional_call import functional_call, stack_module_state
from nabla.func.jacobians import hessian, jacfwd, jacrev
from nabla.func.transforms import grad, grad_and_value, jvp, linearize, vjp
from nabla.func.vmap import vmap

__all__ = ["functional_call", "stack_module_state", "grad", "grad_and_value", "vjp", "jvp",
           "linearize", "jacrev", "jacfwd", "hessian", "vmap"]
