"""A line search that satisfies the strong Wolfe conditions (for LBFGS), as ``torch.optim``.

Along the direction d from θ, with φ(t) = loss(θ + t·d) and φ'(t) = grad(θ + t·d)·d, a step t is
accepted when it decreases the loss enough and flattens the slope enough:

    φ(t) <= φ(0) + c1·t·φ'(0)        (sufficient decrease)
    |φ'(t)| <= -c2·φ'(0)             (curvature)

First a bracket containing such a t is found by extrapolating (cubic interpolation, bounded to
[t + 0.01 (t - t_prev), 10 t]), then the bracket is shrunk ("zoom") by cubic interpolation with
safeguards against steps too close to its ends (Nocedal and Wright, Numerical Optimization,
algorithms 3.5 and 3.6).
"""

from dataclasses import dataclass


@dataclass
class _Point:
    """A trial step: t, the loss φ(t), the flat gradient there and the slope φ'(t)."""

    t: object
    f: float
    g: object
    gtd: object


def cubic_minimizer(a: _Point, b: _Point, bounds: tuple | None = None):
    """The minimizer of the cubic through (t, f, slope) at a and b, clipped to ``bounds`` (by
    default the interval between them); the middle of the bounds if the cubic has none."""
    low, high = bounds if bounds is not None else sorted((a.t, b.t))
    d1 = a.gtd + b.gtd - 3 * (a.f - b.f) / (a.t - b.t)
    d2_square = d1 * d1 - a.gtd * b.gtd
    if d2_square < 0:
        return (low + high) / 2
    d2 = d2_square ** 0.5
    if a.t <= b.t:
        t = b.t - (b.t - a.t) * ((b.gtd + d2 - d1) / (b.gtd - a.gtd + 2 * d2))
    else:
        t = a.t - (a.t - b.t) * ((a.gtd + d2 - d1) / (a.gtd - b.gtd + 2 * d2))
    return min(max(t, low), high)


def strong_wolfe(obj_func, t, d, f: float, g, gtd, c1: float = 1e-4, c2: float = 0.9,
                 tolerance_change: float = 1e-9, max_ls: int = 25):
    """Search a step t along d that satisfies the strong Wolfe conditions.

    Args:
        obj_func: ``t -> (loss, flat gradient)`` at θ + t·d (leaving θ unchanged).
        t: the first trial step.
        d: (P,) the search direction.
        f: the loss at θ.
        g: (P,) the flat gradient at θ.
        gtd: the slope g·d at θ (negative: d is a descent direction).
        c1: the sufficient-decrease constant.
        c2: the curvature constant.
        tolerance_change: stop zooming when the bracket is narrower (times max |d|).
        max_ls: at most this many evaluations after the first.

    Returns:
        (loss, flat gradient, t, number of evaluations) of the step found.
    """
    search = _Search(obj_func, d, _Point(0, f, g, gtd), c1, c2, max_ls)
    bracket, done = search.bracket(t)
    return search.zoom(bracket, done, float(abs(d).max()), tolerance_change)


class _Search:
    """The state of one line search: the start, the evaluation count and the constants."""

    def __init__(self, obj_func, d, start: _Point, c1: float, c2: float, max_ls: int) -> None:
        self.obj_func, self.d, self.start = obj_func, d, start
        self.c1, self.c2, self.max_ls = c1, c2, max_ls
        self.evals, self.iters = 0, 0

    def evaluate(self, t) -> _Point:
        f, g = self.obj_func(t)
        self.evals += 1
        return _Point(t, f, g, g.dot(self.d))

    def too_high(self, p: _Point) -> bool:
        """The sufficient-decrease condition fails at p."""
        return p.f > self.start.f + self.c1 * p.t * self.start.gtd

    def flat_enough(self, p: _Point) -> bool:
        """The curvature condition holds at p."""
        return abs(p.gtd) <= -self.c2 * self.start.gtd

    def bracket(self, t) -> tuple[list, bool]:
        """Extrapolate until an interval holds an acceptable step (or one is found: done)."""
        prev, new = self.start, self.evaluate(t)
        while self.iters < self.max_ls:
            if self.too_high(new) or (self.iters > 1 and new.f >= prev.f):
                return [prev, new], False
            if self.flat_enough(new):
                return [new], True
            if new.gtd >= 0:
                return [prev, new], False
            bounds = (new.t + 0.01 * (new.t - prev.t), new.t * 10)
            t = cubic_minimizer(prev, new, bounds)
            prev, new = new, self.evaluate(t)
            self.iters += 1
        return [self.start, new], False

    def zoom(self, bracket: list, done: bool, d_norm: float, tolerance_change: float):
        """Shrink the bracket to a step satisfying both conditions; the lowest point found."""
        low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
        insufficient_progress = False
        while not done and self.iters < self.max_ls:
            if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
                break
            t = self._safeguarded(cubic_minimizer(bracket[0], bracket[1]), bracket,
                                  insufficient_progress)
            insufficient_progress = t[1]
            new = self.evaluate(t[0])
            self.iters += 1
            if self.too_high(new) or new.f >= bracket[low].f:
                bracket[high] = new
                low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
                continue
            if self.flat_enough(new):
                done = True
            elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]  # the slope points away from the old high end
            bracket[low] = new
        best = bracket[low]
        return best.f, best.g, best.t, self.evals

    @staticmethod
    def _safeguarded(t, bracket: list, insufficient_progress: bool) -> tuple:
        """Keep t at least 10% of the bracket from its ends, once progress has stalled or t
        falls outside; returns (t, whether progress is insufficient)."""
        low_t = min(bracket[0].t, bracket[1].t)
        high_t = max(bracket[0].t, bracket[1].t)
        eps = 0.1 * (high_t - low_t)
        if min(high_t - t, t - low_t) >= eps:
            return t, False
        if insufficient_progress or t >= high_t or t <= low_t:
            return (high_t - eps if abs(t - high_t) < abs(t - low_t) else low_t + eps), False
        return t, True
