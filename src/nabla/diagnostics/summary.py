"""``nabla.summary(model, input_size)``: for each layer its output shape, its parameter count
(with the formula for linear and convolution layers), its multiply-accumulates and its receptive
field; then the totals. It runs one real forward pass with hooks, so it works for any model."""

import numpy

from nabla.autograd.grad_mode import no_grad
from nabla.creation import randn
from nabla.diagnostics.receptive_field import ReceptiveFields
from nabla.tensor import Tensor


class LayerInfo:
    """One row of the summary."""

    def __init__(self, name: str, kind: str, depth: int) -> None:
        self.name, self.kind, self.depth = name, kind, depth
        self.output_shape = ()
        self.params = self.trainable = 0
        self.formula = ""
        self.macs = 0
        self.receptive_field = None


class ModelSummary:
    """The rows (``layers``) and totals; ``str()`` renders the table."""

    def __init__(self, layers: list, input_shape: tuple, param_bytes: int,
                 activation_bytes: int, total: int, trainable: int) -> None:
        self.layers = layers
        self.input_shape = input_shape
        self.total_params, self.trainable_params = total, trainable
        self.non_trainable_params = total - trainable
        self.total_macs = sum(row.macs for row in layers)
        self.param_bytes, self.activation_bytes = param_bytes, activation_bytes

    def __str__(self) -> str:
        head = f"{'layer (type)':<34}{'output shape':<22}{'params':>11}  {'formula':<24}" \
               f"{'MACs':>13}{'RF':>6}"
        lines = [head, "=" * len(head)]
        for row in self.layers:
            label = ("  " * row.depth + f"{row.name} ({row.kind})")[:33]
            rf = row.receptive_field
            rf = "" if rf is None else "x".join(map(str, rf)) if isinstance(rf, tuple) else str(rf)
            lines.append(f"{label:<34}{str(list(row.output_shape)):<22}{row.params:>11,}  "
                         f"{row.formula[:23]:<24}{row.macs:>13,}{rf:>6}")
        lines += ["=" * len(head),
                  "params formula: Linear in*out + out; Conv C_out*(C_in/groups)*k_h*k_w (*k_d in "
                  "3-D) + C_out.  RF: receptive field in input pixels, per dim when they differ "
                  "(padding counts: it can be wider than the input)",
                  f"input shape: {list(self.input_shape)}",
                  f"total params: {self.total_params:,}",
                  f"trainable params: {self.trainable_params:,}",
                  f"non-trainable params: {self.non_trainable_params:,}",
                  f"multiply-accumulates per forward pass: {self.total_macs:,}",
                  f"parameter memory: {self.param_bytes / 2**20:.2f} MiB",
                  f"activation memory (forward, this batch): "
                  f"{self.activation_bytes / 2**20:.2f} MiB"]
        return "\n".join(lines)

    __repr__ = __str__


def summary(model, input_size=None, input_data=None, dtype=None, batch_size: int = 1):
    """Summarize ``model`` by running it once on random (or given) input.

    Args:
        model: an ``nn.Module``.
        input_size: the shape of one sample (without the batch dimension), e.g. (1, 28, 28).
        input_data: a tensor (or tuple of tensors) to run instead of random input.
        dtype: dtype of the random input (default: the model's parameters' dtype).
        batch_size: batch size of the random input.

    Returns:
        A ``ModelSummary``; print it for the table.
    """
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (the shape of one sample) or input_data")
        first = next(iter(model.parameters()), None)
        dtype = dtype or (first.dtype if first is not None else None)
        input_data = randn(batch_size, *tuple(input_size), dtype=dtype)
    inputs = input_data if isinstance(input_data, tuple) else (input_data,)
    rows, handles, seen = [], [], set()
    fields = ReceptiveFields(inputs[0])
    for name, module in model.named_modules():
        if module is model and list(module.children()):
            continue
        depth = name.count(".") + (0 if module is model else 1)
        handles.append(module.register_forward_hook(
            _recorder(rows, name or type(module).__name__, depth, seen, fields)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    param_bytes = sum(p.numel() * p.element_size() for p in params)
    leaf_rows = [r for r in rows if r.leaf]
    act_bytes = sum(r.activation_bytes for r in leaf_rows)
    return ModelSummary(rows, tuple(inputs[0].shape), param_bytes, act_bytes, total, trainable)


def _recorder(rows, name, depth, seen, fields):
    def hook(module, args, output):
        row = LayerInfo(name, type(module).__name__, depth)
        out = output[0] if isinstance(output, tuple) else output
        row.output_shape = tuple(out.shape) if isinstance(out, Tensor) else ()
        row.leaf = not list(module.children())
        row.activation_bytes = out.numel() * out.element_size() if isinstance(out, Tensor) else 0
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        row.params = sum(p.numel() for p in own)
        row.trainable = sum(p.numel() for p in own if p.requires_grad)
        x = args[0] if args and isinstance(args[0], Tensor) else None
        row.formula, row.macs = _formula_and_macs(module, x, out)
        row.receptive_field = fields.record(module, x, out)
        rows.append(row)

    return hook


def _formula_and_macs(module, x, out):
    """The parameter-count formula and the multiply-accumulates per forward pass."""
    kind = type(module).__name__
    if kind in ("Linear", "LazyLinear") and isinstance(out, Tensor):
        i, o = module.in_features, module.out_features
        bias = " + out" if module.bias is not None else ""
        rows = out.numel() // o
        return f"{i}*{o}{' + ' + str(o) if bias else ''}", rows * i * o
    if kind.startswith("Conv") and isinstance(out, Tensor):
        w = module.weight
        k = "*".join(str(s) for s in w.shape[2:])
        # the bias has one value per output channel (w.shape[1] * groups when transposed)
        bias = f" + {module.bias.shape[0]}" if module.bias is not None else ""
        per_output = int(numpy.prod(w.shape[1:]))
        positions = out.numel() // out.shape[1] if out.ndim > 1 else 1
        if kind.startswith("ConvTranspose"):
            positions = x.numel() // x.shape[1] if x is not None else positions
            macs = positions * int(numpy.prod(w.shape))
        else:
            macs = positions * out.shape[1] * per_output
        return f"{w.shape[0]}*{w.shape[1]}*{k}{bias}", macs
    return "", 0
