"""Looking inside a model: the computation graph as a picture (``nabla.viz``)."""

from nabla.diagnostics.graph import graph, render

__all__ = ["graph", "render"]
