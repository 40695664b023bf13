"""Order statistics and counts: mode, nanmedian, nanquantile, msort, unique_consecutive,
histogram."""

__all__ = []
