"""Number-theoretic and floating-point helpers: gcd/lcm, frexp/ldexp, nextafter, isposinf/
isneginf/isreal, i0, erfinv, cross, trapezoid, vander."""

__all__ = []
