"""``torch.cuda.amp``: PyTorch's deprecated spellings of ``nabla.amp``'s tools for device "cuda"
(``from torch.cuda.amp import autocast, GradScaler`` ports unchanged). As in PyTorch on a machine
without CUDA, both warn and do nothing: nabla computes on the CPU."""

import warnings

from nabla import amp as _amp
from nabla.dtype import float16

__all__ = ["GradScaler", "autocast"]


class autocast(_amp.autocast):
    """``nabla.amp.autocast("cuda", ...)``, deprecated as in PyTorch."""

    def __init__(self, enabled: bool = True, dtype=float16, cache_enabled: bool = True) -> None:
        warnings.warn("nabla.cuda.amp.autocast(args...) is deprecated: use "
                      "nabla.amp.autocast('cuda', args...)", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``nabla.amp.GradScaler("cuda", ...)``, deprecated as in PyTorch."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("nabla.cuda.amp.GradScaler(args...) is deprecated: use "
                      "nabla.amp.GradScaler('cuda', args...)", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
