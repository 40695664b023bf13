"""Small synthetic data sets, generated in milliseconds, for first models and pictures.

Each function returns NumPy arrays ``(X, y)``: features float32, class labels int64 (or float32
targets for regression). ``seed`` is an int, a ``nabla.Generator`` or None (nabla's global
generator), so results are reproducible.
"""

import numbers

import numpy

from nabla.utils.data.split import _count, _rng


def _spread(who: str, name: str, value) -> None:
    """A noise level or standard deviation: a finite number >= 0."""
    if not isinstance(value, numbers.Real) or not 0 <= value < numpy.inf:
        raise ValueError(f"{who}: {name} must be a number >= 0, got {value!r}")


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 seed=None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Interleaved spiral arms, one per class: not linearly separable (CS231n's example).

    Args:
        n_samples: total number of points (split as evenly as possible among the classes).
        n_classes: number of arms.
        noise: standard deviation of the angular noise (radians).
        seed: int, ``nabla.Generator`` or None.

    Returns:
        X of shape (n_samples, 2), float32, within [-1, 1]; y of shape (n_samples,), int64.
    """
    _count("make_spirals", "n_samples", n_samples)
    _count("make_spirals", "n_classes", n_classes, low=1)
    _spread("make_spirals", "noise", noise)
    rng = _rng(seed)
    y = numpy.arange(n_samples) % n_classes
    y.sort()
    counts = numpy.bincount(y, minlength=n_classes)
    radius = numpy.concatenate([numpy.linspace(0.0, 1.0, c) for c in counts])
    theta = (numpy.concatenate([numpy.linspace(0.0, 4.0, c) for c in counts])
             + y * (2 * numpy.pi / n_classes) + rng.normal(0.0, noise, n_samples))
    X = numpy.stack([radius * numpy.sin(theta), radius * numpy.cos(theta)], axis=1)
    return X.astype(numpy.float32), y.astype(numpy.int64)


def make_moons(n_samples: int = 100, noise: float | None = None, shuffle: bool = True,
               seed=None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons`` geometry).

    Args:
        n_samples: total number of points; the inner moon (class 1) gets the odd one.
        noise: standard deviation of Gaussian noise added to the points (None: none).
        shuffle: shuffle the samples (otherwise class 0 comes first).
        seed: int, ``nabla.Generator`` or None.

    Returns:
        X of shape (n_samples, 2), float32; y of shape (n_samples,), int64.
    """
    _count("make_moons", "n_samples", n_samples)
    if noise is not None:
        _spread("make_moons", "noise", noise)
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = numpy.linspace(0, numpy.pi, n_out)
    t_in = numpy.linspace(0, numpy.pi, n_in)
    X = numpy.concatenate([
        numpy.stack([numpy.cos(t_out), numpy.sin(t_out)], axis=1),
        numpy.stack([1 - numpy.cos(t_in), 1 - numpy.sin(t_in) - 0.5], axis=1),
    ])
    y = numpy.concatenate([numpy.zeros(n_out, numpy.int64), numpy.ones(n_in, numpy.int64)])
    if shuffle:
        perm = rng.permutation(n_samples)
        X, y = X[perm], y[perm]
    if noise is not None:
        X = X + rng.normal(0.0, noise, X.shape)
    return X.astype(numpy.float32), y


def make_sine_sequences(n: int = 1000, seq_len: int = 50, noise: float = 0.05,
                        seed=None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Noisy sine windows and the value that follows each: next-step forecasting for RNNs.

    Each sequence is ``sin(2 pi f t + phase) + noise * N(0, 1)`` at t = 0..seq_len, with a
    random frequency f in [0.02, 0.1] cycles per step and a random phase; the model sees the
    first ``seq_len`` values and predicts value number ``seq_len`` (an AR(tau) task with
    tau = seq_len).

    Args:
        n: number of sequences.
        seq_len: length of each input window (L).
        noise: standard deviation of the Gaussian noise.
        seed: int, ``nabla.Generator`` or None.

    Returns:
        X of shape (n, seq_len, 1) and y of shape (n, 1), both float32 (batch-first, as
        ``nn.RNN(batch_first=True)`` takes them).
    """
    _count("make_sine_sequences", "n", n)
    _count("make_sine_sequences", "seq_len", seq_len, low=1)
    _spread("make_sine_sequences", "noise", noise)
    rng = _rng(seed)
    freq = rng.uniform(0.02, 0.1, (n, 1))
    phase = rng.uniform(0.0, 2 * numpy.pi, (n, 1))
    t = numpy.arange(seq_len + 1)[None, :]
    s = numpy.sin(2 * numpy.pi * freq * t + phase) + noise * rng.standard_normal((n, seq_len + 1))
    s = s.astype(numpy.float32)
    return s[:, :seq_len, None], s[:, seq_len:]


def make_ring_of_gaussians(n_samples: int = 1000, n_modes: int = 8, radius: float = 2.0,
                           std: float = 0.05, seed=None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Points from Gaussians evenly spaced on a circle: the classic test of GAN mode collapse.

    Args:
        n_samples: number of points.
        n_modes: number of Gaussians on the ring.
        radius: radius of the ring.
        std: standard deviation of each Gaussian.
        seed: int, ``nabla.Generator`` or None.

    Returns:
        X of shape (n_samples, 2), float32; y of shape (n_samples,), int64: the mode of each
        point.
    """
    _count("make_ring_of_gaussians", "n_samples", n_samples)
    _count("make_ring_of_gaussians", "n_modes", n_modes, low=1)
    _spread("make_ring_of_gaussians", "std", std)
    rng = _rng(seed)
    y = rng.integers(0, n_modes, n_samples)
    angle = 2 * numpy.pi * y / n_modes
    centers = radius * numpy.stack([numpy.cos(angle), numpy.sin(angle)], axis=1)
    X = centers + rng.normal(0.0, std, (n_samples, 2))
    return X.astype(numpy.float32), y.astype(numpy.int64)
