"""Draw the computation graph of a tensor, as torchviz's ``make_dot`` does for PyTorch.

    import nabla
    y = model(x).sum()
    print(nabla.viz.graph(y, params=dict(model.named_parameters())))   # DOT text
    nabla.viz.render(y, "model.gv", format="svg")                      # needs Graphviz's dot

The implementation lives in ``nabla.diagnostics.graph``.
"""

from nabla.diagnostics.graph import graph, render

__all__ = ["graph", "render"]
