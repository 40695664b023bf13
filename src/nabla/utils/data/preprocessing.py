"""Feature scaling (정규화) with scikit-learn's API: ``MinMaxScaler`` and ``StandardScaler``.

Fit on the training set only, then transform every split with the same statistics (fitting on
test data leaks it into training). Inputs are 2-D, (n_samples, n_features): NumPy arrays give
arrays (integers become float64, as in scikit-learn), tensors give tensors (integers become the
default float dtype), and a tensor that requires grad is transformed with differentiable ops.
Statistics are computed in float64 and ignore NaNs; constant features get scale 1, as in
scikit-learn, so they map to the low end of the range (min-max) or to 0 (z-score).
"""

import numpy

from nabla import dtype as _dt
from nabla.tensor import Tensor


class NotFittedError(ValueError, AttributeError):
    """A scaler was used before ``fit`` (scikit-learn's exception of the same name)."""


def _as_2d(X, who: str) -> numpy.ndarray:
    try:
        arr = numpy.asarray(X._data if isinstance(X, Tensor) else X)
    except ValueError:  # NumPy: "setting an array element with a sequence"
        raise ValueError(f"{who}: X is ragged (its rows have different lengths); give a 2-D "
                         f"array of shape (n_samples, n_features)") from None
    if arr.ndim != 2:
        raise ValueError(f"{who}: expected a 2-D array of shape (n_samples, n_features), got "
                         f"shape {arr.shape}; reshape a single feature with X.reshape(-1, 1)")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: expected numbers, got dtype {arr.dtype}")
    if who.endswith(".fit") and arr.shape[0] == 0:
        raise ValueError(f"{who}: X has 0 samples (shape {arr.shape}); fitting needs at least "
                         f"one")
    return arr


def _out_dtype(X) -> numpy.dtype:
    dtype = (X._data if isinstance(X, Tensor) else numpy.asarray(X)).dtype
    if dtype.kind == "f":
        return dtype
    return _dt.get_default_dtype() if isinstance(X, Tensor) else numpy.dtype(numpy.float64)


def _safe_scale(scale: numpy.ndarray, constant: numpy.ndarray) -> numpy.ndarray:
    scale = scale.copy()
    scale[constant] = 1.0
    return scale


class _Scaler:
    """Shared plumbing: fit checks, feature counts, and affine maps ``X * a + b``."""

    _fitted_attr = "scale_"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call "
                                 f"fit(X_train) first")

    def _check_features(self, arr: numpy.ndarray) -> None:
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")

    def _affine(self, X, mul, add):
        """``X * mul + add`` (None skips a term), in X's kind and float dtype."""
        who = f"{type(self).__name__}.transform"
        self._check_fitted()
        arr = _as_2d(X, who)
        self._check_features(arr)
        dtype = _out_dtype(X)
        if isinstance(X, Tensor) and X.requires_grad:
            out = X
            if mul is not None:
                out = out * Tensor._make(mul.astype(dtype))
            if add is not None:
                out = out + Tensor._make(add.astype(dtype))
            return out
        out = arr.astype(numpy.float64)
        if mul is not None:
            out = out * mul
        if add is not None:
            out = out + add
        out = out.astype(dtype, copy=False)
        return Tensor._make(out) if isinstance(X, Tensor) else out

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range``: ``(x - min) / (max - min) * (hi - lo) + lo``.

    Sensitive to outliers: one extreme value squeezes all others together.

    Attributes (after fit): ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_``
    (so that ``transform(X) = X * scale_ + min_``), ``n_features_in_``, ``n_samples_seen_``.
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, clip: bool = False):
        self.feature_range = feature_range
        self.clip = clip

    def fit(self, X, y=None) -> "MinMaxScaler":
        """Learn each feature's min and max from X of shape (n_samples, n_features)."""
        try:
            lo, hi = self.feature_range
        except (TypeError, ValueError):
            raise TypeError(f"MinMaxScaler: feature_range must be a pair (min, max) such as "
                            f"(0, 1), got {self.feature_range!r}") from None
        if lo >= hi:
            raise ValueError(f"MinMaxScaler: minimum of desired feature range must be smaller "
                             f"than maximum, got {tuple(self.feature_range)}")
        arr = _as_2d(X, "MinMaxScaler.fit").astype(numpy.float64)
        self.data_min_ = numpy.nanmin(arr, axis=0)
        self.data_max_ = numpy.nanmax(arr, axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        constant = self.data_range_ < 10 * numpy.finfo(numpy.float64).eps
        self.scale_ = (hi - lo) / _safe_scale(self.data_range_, constant)
        self.min_ = lo - self.data_min_ * self.scale_
        self.n_features_in_ = arr.shape[1]
        self.n_samples_seen_ = arr.shape[0]
        return self

    def transform(self, X):
        """Map X of shape (n_samples, n_features) into the feature range."""
        self._check_fitted()
        out = self._affine(X, self.scale_, self.min_)
        if self.clip:
            lo, hi = self.feature_range
            out = out.clamp(lo, hi) if isinstance(out, Tensor) else numpy.clip(out, lo, hi)
        return out

    def inverse_transform(self, X):
        """Undo ``transform``: back to the original units."""
        self._check_fitted()
        return self._affine(X, 1.0 / self.scale_, -self.min_ / self.scale_)


class StandardScaler(_Scaler):
    """Standardize each feature (z-score): ``(x - mean) / std`` with the population std.

    Attributes (after fit): ``mean_`` and ``var_`` (None when neither centering nor scaling),
    ``scale_`` (None unless ``with_std``), ``n_features_in_``, ``n_samples_seen_``.
    """

    _fitted_attr = "n_samples_seen_"

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None) -> "StandardScaler":
        """Learn each feature's mean and standard deviation from X (n_samples, n_features)."""
        arr = _as_2d(X, "StandardScaler.fit").astype(numpy.float64)
        n = arr.shape[0]
        self.mean_ = self.var_ = self.scale_ = None
        if self.with_mean or self.with_std:
            self.mean_ = numpy.nanmean(arr, axis=0)
            self.var_ = numpy.nanvar(arr, axis=0)
        if self.with_std:
            # scikit-learn's test for a constant feature: variance within rounding error
            eps = numpy.finfo(numpy.float64).eps
            constant = self.var_ <= n * eps * self.var_ + (n * self.mean_ * eps) ** 2
            self.scale_ = _safe_scale(numpy.sqrt(self.var_), constant)
        self.n_features_in_ = arr.shape[1]
        self.n_samples_seen_ = n
        return self

    def _mul_add(self):
        mul = 1.0 / self.scale_ if self.with_std else None
        add = None
        if self.with_mean:
            add = -self.mean_ * (mul if mul is not None else 1.0)
        return mul, add

    def transform(self, X):
        """Standardize X of shape (n_samples, n_features)."""
        self._check_fitted()
        return self._affine(X, *self._mul_add())

    def inverse_transform(self, X):
        """Undo ``transform``: ``x * std + mean``."""
        self._check_fitted()
        mul = self.scale_ if self.with_std else None
        add = self.mean_ if self.with_mean else None
        return self._affine(X, mul, add)
