"""Receptive fields for ``nabla.summary``: how many input pixels one unit of a layer's output can
see. Per spatial dim, a layer maps each output position o to the first and last of its input
positions it depends on, (a(o), b(o)); following these maps back through the layers gives the
interval of input pixels [lo, hi] a unit sees, and the receptive field is the widest hi - lo + 1."""

import numpy as np

from nabla.nn.utils.conv_utils import same_padding
from nabla.tensor import Tensor


class ReceptiveFields:
    """For every tensor the forward pass made so far (by id), per spatial dim, the chain of
    window maps from its positions back to the input's."""

    def __init__(self, x: Tensor) -> None:
        self.spatial = x.ndim - 2  # (N, C, *spatial)
        self.known = {}
        if self.spatial > 0:
            self._keep(x, [()] * self.spatial)

    def _keep(self, t: Tensor, chains: list) -> None:
        self.known[id(t)] = (t, chains)  # keeping t keeps its id from being reused

    def _chains_of(self, x: Tensor):
        """x's chains; for a tensor made outside any module (a residual sum, a concatenation),
        those of the latest tensor of its spatial size: the main path of the network."""
        if id(x) in self.known:
            return self.known[id(x)][1]
        for t, chains in reversed(self.known.values()):
            if t.shape[2:] == x.shape[2:]:
                return chains
        return None

    def record(self, module, x, out):
        """Add ``module``'s windows to its input's chains; return the receptive field (an int,
        or a tuple when the dims differ) for layers with windows, else None."""
        if self.spatial <= 0 or not (isinstance(x, Tensor) and isinstance(out, Tensor)) or \
                x.ndim != self.spatial + 2 or out.ndim != x.ndim or list(module.children()):
            return None
        chains = self._chains_of(x)
        if chains is None:
            return None
        maps = _windows(module, x.shape[2:], out.shape[2:])
        if maps is None:  # elementwise or per-channel: each unit sees what its input saw
            if out.shape[2:] == x.shape[2:]:
                self._keep(out, chains)
            return None
        chains = [chain + (f,) for chain, f in zip(chains, maps)]
        self._keep(out, chains)
        sizes = tuple(_widest(chain, m) for chain, m in zip(chains, out.shape[2:]))
        return sizes[0] if len(set(sizes)) == 1 else sizes


def _widest(chain: tuple, m: int) -> int:
    """The widest input interval seen by one of the m output positions: follow the first and
    last position of every window back through the chain (the maps are monotone)."""
    lo = hi = np.arange(m)
    for window in reversed(chain):
        lo, hi = window(lo)[0], window(hi)[1]
    return int(np.max(hi - lo + 1))


def _windows(module, sizes_in, sizes_out):
    """Per spatial dim, a map from output positions o to the first and last input position
    (a(o), b(o)) they see, or None for a layer without windows. Padding counts as input, so
    the field is the textbook one, even where it is wider than the input."""
    kind = type(module).__name__
    if "Adaptive" in kind:
        return [_adaptive(n, m) for n, m in zip(sizes_in, sizes_out)]
    if kind.startswith(("Upsample", "Upsampling")):
        mode = getattr(module, "mode", "bilinear" if "Bilinear" in kind else "nearest")
        corners = bool(getattr(module, "align_corners", "Bilinear" in kind))
        return [_resize(n, m, mode, corners) for n, m in zip(sizes_in, sizes_out)]
    if not (kind.startswith("Conv") or "Pool" in kind):
        return None
    dims = len(sizes_in)
    k = _each(module.kernel_size, dims)
    s = _each(getattr(module, "stride", None) or k, dims)
    d = _each(getattr(module, "dilation", 1), dims)
    p = _padding(getattr(module, "padding", 0), k, d, dims)
    scatters = kind.startswith(("ConvTranspose", "MaxUnpool"))
    return [(_scatter if scatters else _gather)(*args) for args in zip(k, s, d, p)]


def _gather(k: int, s: int, d: int, p: int):
    """Convolution and pooling: output o sees o s - p ... o s - p + d (k - 1)."""
    return lambda o: (o * s - p, o * s - p + d * (k - 1))


def _scatter(k: int, s: int, d: int, p: int):
    """Transposed convolution and unpooling: input i reaches o = i s - p + d j (j < k), so
    output o sees ceil((o + p - d (k - 1)) / s) ... floor((o + p) / s)."""
    return lambda o: (-((d * (k - 1) - o - p) // s), (o + p) // s)


def _adaptive(n: int, m: int):
    """Adaptive pooling: output o pools floor(o n / m) ... ceil((o + 1) n / m) - 1."""
    return lambda o: (o * n // m, -(-(o + 1) * n // m) - 1)


def _resize(n: int, m: int, mode: str, align_corners: bool):
    """Interpolation: the source position of output o and the neighbours the mode mixes."""
    shift = 0.5 if mode == "nearest-exact" else 0.0
    reach = 2 if mode == "bicubic" else 1

    def window(o):
        if mode in ("nearest", "nearest-exact"):
            src = np.floor((o + shift) * n / m).astype(int)
            return src, src
        if align_corners:
            src = np.floor(o * (n - 1) / max(m - 1, 1)).astype(int)
        else:
            src = np.floor(np.maximum((o + 0.5) * n / m - 0.5, 0)).astype(int)
        return src - (reach - 1), src + reach

    return window


def _each(value, dims: int) -> tuple:
    """One int per spatial dim from an int or a tuple."""
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def _padding(padding, k: tuple, d: tuple, dims: int) -> tuple:
    """The padding before each dim ('valid' pads nothing; 'same' pads d (k - 1) // 2 before)."""
    if padding == "valid":
        return (0,) * dims
    if padding == "same":
        return same_padding(k, d)[0::2]
    return _each(padding, dims)

