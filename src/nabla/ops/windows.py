"""Window functions (signal processing): hann, hamming, blackman, bartlett, kaiser."""

__all__ = []
