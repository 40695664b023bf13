"""Export to ONNX (the ``onnx`` extra), PyTorch's ``torch.onnx.export``:

    nabla.onnx.export(model, (x,), "model.onnx", input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})

The model runs once on the example inputs, in eval mode; each op it runs is written as ONNX
nodes (``converters*.py``: one small function per op), its parameters and buffers as named
initializers. Nested tuples or lists of outputs are flattened in order (an LSTM's ``(y, (h, c))``
gives three graph outputs). The file runs in onnxruntime or any other ONNX runtime. An op
without a conversion raises ``ExportError`` naming it and listing the supported ones.

Sizes the data decides (``nonzero``, ``unique``, ``bincount``, ``one_hot`` without num_classes,
``x[mask]``) are computed by the file's nodes, and the outputs' dims that take them are left
symbolic.

As with any trace, sizes the model computes in Python are frozen: ``dynamic_axes`` is checked by
tracing again with those dims one larger, and refused (naming the op) where a size changed, e.g.
``expand(x.shape[0], ...)`` or the recurrent layers (RNN, LSTM, GRU: unrolled over the example's
time steps, for its batch size).
"""

from nabla.onnx.export import ExportError, export

__all__ = ["export", "ExportError"]
