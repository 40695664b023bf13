"""Per-image transforms with torchvision's names, arguments and defaults.

Each works on a NumPy array or a nabla tensor of shape (..., C, H, W) (or (..., H, W) where no
channel is needed) and returns the same kind. As in torchvision, one call draws one set of
random parameters: a batch passed whole gets the same crop for every image; apply the transform
per sample (in a Dataset's ``transform``) for independent draws. The random ones take a
``generator`` (``nabla.Generator``); without it they draw from nabla's global generator, so
``nabla.manual_seed`` makes them repeatable.
"""

import math
from collections.abc import Callable, Sequence

import numpy

from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["Compose", "Lambda", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "InterpolationMode", "GaussianNoise",
           "RandomErasing", "Cutout"]


def _unwrap(x) -> tuple[numpy.ndarray, bool]:
    if isinstance(x, Tensor):
        return x.detach().numpy(), True
    return numpy.asarray(x), False


def _wrap(a: numpy.ndarray, as_tensor: bool):
    if not as_tensor:
        return a
    from nabla.creation import tensor

    return tensor(numpy.ascontiguousarray(a))


def _check_hw(name: str, a: numpy.ndarray) -> None:
    if a.ndim < 2:
        raise ValueError(f"{name}: expected an image of shape (..., H, W), got shape {a.shape}")


class Compose:
    """Apply transforms one after another: ``Compose([RandomCrop(32, 4), Normalize(m, s)])``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)


class ToTensor:
    """An (H, W, C) or (H, W) array -> a (C, H, W) tensor; uint8 becomes float32 in [0, 1].

    As torchvision: other dtypes keep their type and values. A tensor is returned unchanged (nabla's
    built-in data sets already hold (C, H, W) float tensors).
    """

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            return pic
        a = numpy.asarray(pic)
        if a.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) array, got {a.shape}")
        a = a[:, :, None] if a.ndim == 2 else a
        scaled = a.astype(numpy.float32) / 255.0 if a.dtype == numpy.uint8 else a
        return _wrap(scaled.transpose(2, 0, 1), True)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """output[c] = (input[c] - mean[c]) / std[c] over the channel axis of (..., C, H, W)."""

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, x):
        a, is_tensor = _unwrap(x)
        if a.ndim < 3:
            raise ValueError(f"Normalize: expected a (..., C, H, W) image, got shape {a.shape}")
        mean = numpy.asarray(self.mean, dtype=a.dtype).reshape(-1, 1, 1)
        std = numpy.asarray(self.std, dtype=a.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero ({self.std}), leading to "
                             "division by zero")
        if self.inplace and not is_tensor:
            a -= mean
            a /= std
            return a
        return _wrap((a - mean) / std, is_tensor)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def _padding4(padding) -> tuple[int, int, int, int]:
    """torchvision's padding: int (all sides), (left/right, top/bottom) or (l, t, r, b)."""
    if isinstance(padding, int):
        return (padding,) * 4
    p = tuple(int(v) for v in padding)
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    if len(p) == 4:
        return p
    raise ValueError(f"padding must be an int or a sequence of 1, 2 or 4 ints, got {padding}")


def pad(a: numpy.ndarray, padding, fill=0, padding_mode: str = "constant") -> numpy.ndarray:
    """Pad the last two axes: modes 'constant' (with ``fill``), 'edge', 'reflect', 'symmetric'."""
    left, top, right, bottom = _padding4(padding)
    widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return numpy.pad(a, widths, mode="constant", constant_values=fill)
    if padding_mode not in ("edge", "reflect", "symmetric"):
        raise ValueError(f"padding_mode must be constant, edge, reflect or symmetric, got "
                         f"{padding_mode!r}")
    return numpy.pad(a, widths, mode=padding_mode)


class RandomCrop:
    """Pad (optionally), then cut a size[0] x size[1] window at a uniformly random position.

    Args:
        size: int (square) or (h, w).
        padding: added before cropping: int, (left/right, top/bottom) or (l, t, r, b).
            ``RandomCrop(32, padding=4)`` is the classic CIFAR shift augmentation.
        pad_if_needed: pad images smaller than ``size``.
        fill: the value of constant padding.
        padding_mode: 'constant', 'edge', 'reflect' or 'symmetric'.
        generator: a ``nabla.Generator`` (default: the global one).
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant", generator=None) -> None:
        self.size = (int(size), int(size)) if isinstance(size, int) else tuple(size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode, self.generator = fill, padding_mode, generator

    def __call__(self, x):
        a, is_tensor = _unwrap(x)
        _check_hw("RandomCrop", a)
        if self.padding is not None:
            a = pad(a, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed and a.shape[-1] < tw:
            a = pad(a, (tw - a.shape[-1], 0), self.fill, self.padding_mode)
        if self.pad_if_needed and a.shape[-2] < th:
            a = pad(a, (0, th - a.shape[-2]), self.fill, self.padding_mode)
        h, w = a.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the "
                             f"input image size {(h, w)}")
        rng = numpy_generator(self.generator)
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return _wrap(a[..., i:i + th, j:j + tw], is_tensor)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right (reverse the W axis) with probability p."""

    _axis = -1

    def __init__(self, p: float = 0.5, generator=None) -> None:
        self.p, self.generator = p, generator

    def __call__(self, x):
        a, is_tensor = _unwrap(x)
        _check_hw(type(self).__name__, a)
        if numpy_generator(self.generator).random() < self.p:
            return _wrap(numpy.flip(a, self._axis), is_tensor)
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom (reverse the H axis) with probability p."""

    _axis = -2


class InterpolationMode:
    """The interpolation names of torchvision (plain strings here)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def rotate(a: numpy.ndarray, angle: float, interpolation: str = "nearest", center=None,
           fill=0.0) -> numpy.ndarray:
    """Rotate the last two axes by ``angle`` degrees counter-clockwise about ``center`` (x, y),
    by default the image centre; pixels from outside the image get ``fill``.

    Each output pixel looks up the point the inverse rotation sends it to: the nearest input
    pixel, or the four around it weighted by distance (bilinear).
    """
    h, w = a.shape[-2:]
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else center
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    v, u = numpy.mgrid[0:h, 0:w].astype(numpy.float64)
    u, v = u - cx, v - cy  # y points down, so a counter-clockwise turn on screen is this:
    src_x = cx + cos * u - sin * v
    src_y = cy + sin * u + cos * v
    padded = numpy.pad(a, [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)], constant_values=fill)
    if interpolation == "nearest":
        yi = numpy.clip(numpy.rint(src_y), -1, h).astype(numpy.int64) + 1
        xi = numpy.clip(numpy.rint(src_x), -1, w).astype(numpy.int64) + 1
        return padded[..., yi, xi]
    if interpolation != "bilinear":
        raise ValueError(f"rotate: interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    src_x, src_y = numpy.clip(src_x, -1, w), numpy.clip(src_y, -1, h)
    x0, y0 = numpy.floor(src_x), numpy.floor(src_y)
    fx, fy = (src_x - x0).astype(a.dtype), (src_y - y0).astype(a.dtype)
    x0 = x0.astype(numpy.int64) + 1
    y0 = y0.astype(numpy.int64) + 1
    x1, y1 = numpy.minimum(x0 + 1, w + 1), numpy.minimum(y0 + 1, h + 1)
    top = padded[..., y0, x0] * (1 - fx) + padded[..., y0, x1] * fx
    bottom = padded[..., y1, x0] * (1 - fx) + padded[..., y1, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(a.dtype, copy=False)


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (counter-clockwise is positive).

    Args:
        degrees: d for [-d, d], or (min, max).
        interpolation: 'nearest' (torchvision's default) or 'bilinear'.
        center: (x, y) in pixels; default the image centre.
        fill: value of the pixels rotated in from outside.
        generator: a ``nabla.Generator`` (default: the global one).
    """

    def __init__(self, degrees, interpolation: str = InterpolationMode.NEAREST, center=None,
                 fill: float = 0.0, generator=None) -> None:
        if isinstance(degrees, (int, float)):
            if degrees < 0:
                raise ValueError("RandomRotation: a single degrees value must be >= 0")
            degrees = (-degrees, degrees)
        self.degrees = (float(degrees[0]), float(degrees[1]))
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"RandomRotation: interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        self.interpolation, self.center, self.fill = interpolation, center, fill
        self.generator = generator

    def __call__(self, x):
        a, is_tensor = _unwrap(x)
        _check_hw("RandomRotation", a)
        angle = float(numpy_generator(self.generator).uniform(*self.degrees))
        return _wrap(rotate(a, angle, self.interpolation, self.center, self.fill), is_tensor)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation})"


class GaussianNoise:
    """Add N(mean, sigma^2) noise to every pixel (torchvision.transforms.v2.GaussianNoise);
    ``clip`` keeps the result in [0, 1]."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True,
                 generator=None) -> None:
        if sigma < 0:
            raise ValueError(f"GaussianNoise: sigma must be >= 0, got {sigma}")
        self.mean, self.sigma, self.clip, self.generator = mean, sigma, clip, generator

    def __call__(self, x):
        a, is_tensor = _unwrap(x)
        if a.dtype.kind != "f":
            raise TypeError(f"GaussianNoise: expected a float image, got {a.dtype}")
        noise = numpy_generator(self.generator).normal(self.mean, self.sigma, a.shape)
        out = a + noise.astype(a.dtype)
        return _wrap(numpy.clip(out, 0, 1) if self.clip else out, is_tensor)

    def __repr__(self) -> str:
        return f"GaussianNoise(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"


class RandomErasing:
    """With probability p, overwrite a random rectangle (Zhong et al., 2017), as torchvision:
    its area is a uniform share ``scale`` of the image, its aspect ratio log-uniform in
    ``ratio``; up to 10 draws, and the image is left alone if none fits.

    Args:
        value: a number, one number per channel, or 'random' (standard normal noise).
    """

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0,
                 inplace: bool = False, generator=None) -> None:
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("RandomErasing: scale and ratio should be of kind (min, max)")
        if not 0 <= p <= 1:
            raise ValueError(f"RandomErasing: p must be in [0, 1], got {p}")
        self.p, self.scale, self.ratio, self.value = p, scale, ratio, value
        self.inplace, self.generator = inplace, generator

    def get_params(self, shape: tuple) -> tuple[int, int, int, int] | None:
        """(top, left, height, width) of the rectangle, or None when no draw fitted."""
        rng = numpy_generator(self.generator)
        h_img, w_img = shape[-2:]
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            area = h_img * w_img * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if not (h < h_img and w < w_img):
                continue
            return int(rng.integers(0, h_img - h + 1)), int(rng.integers(0, w_img - w + 1)), h, w
        return None

    def __call__(self, x):
        if numpy_generator(self.generator).random() >= self.p:
            return x
        a, is_tensor = _unwrap(x)
        _check_hw("RandomErasing", a)
        box = self.get_params(a.shape)
        if box is None:
            return x
        i, j, h, w = box
        out = a if self.inplace and not is_tensor else a.copy()
        if self.value == "random":
            value = numpy_generator(self.generator).standard_normal(out[..., i:i + h, j:j + w]
                                                                     .shape)
        else:
            value = numpy.asarray(self.value, dtype=a.dtype)
            value = value.reshape(-1, 1, 1) if value.ndim else value
        out[..., i:i + h, j:j + w] = value
        return _wrap(out, is_tensor)

    def __repr__(self) -> str:
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio})"


class Cutout:
    """Zero ``n_holes`` squares of side ``length`` centred on random pixels (DeVries & Taylor,
    2017); squares are clipped at the border, so part of one may fall outside the image."""

    def __init__(self, n_holes: int = 1, length: int = 8, fill: float = 0.0,
                 generator=None) -> None:
        self.n_holes, self.length, self.fill, self.generator = n_holes, length, fill, generator

    def __call__(self, x):
        a, is_tensor = _unwrap(x)
        _check_hw("Cutout", a)
        h, w = a.shape[-2:]
        out = a.copy()
        rng = numpy_generator(self.generator)
        for _ in range(self.n_holes):
            cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
            y1, y2 = max(cy - self.length // 2, 0), min(cy + self.length // 2, h)
            x1, x2 = max(cx - self.length // 2, 0), min(cx + self.length // 2, w)
            out[..., y1:y2, x1:x2] = self.fill
        return _wrap(out, is_tensor)

    def __repr__(self) -> str:
        return f"Cutout(n_holes={self.n_holes}, length={self.length})"
