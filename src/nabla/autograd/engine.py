"""The backward walk: reverse-mode differentiation over the recorded graph.

1. Every node carries a sequence number from the moment it was recorded; a node's consumers were
   recorded after it, so they have larger numbers.
2. Start from the roots' gradients and always run the pending node with the largest number (a heap,
   as Chainer orders by generation): by then every consumer has sent its gradient, summed per
   output. No recursion (a 100,000-op chain works) and no counting pass over the graph. When a
   single node is pending (a chain of ops) it runs next without going through the heap.
3. Each gradient an input receives is reduced to the input's shape here, in one place, so no op
   handles broadcasting in its rule; leaves accumulate into ``.grad``.

Two modes. With ``create_graph=True`` gradients are Tensors and the rules record a graph of their
own (for higher-order derivatives). Otherwise gradients travel as raw arrays: rules of ops marked
``array_backward`` (written with operators and ``nabla.ops`` functions, which accept arrays too) run
at NumPy speed, and only what reaches a ``.grad`` or a hook is wrapped in a Tensor.
"""

import warnings
from heapq import heapify, heappop, heappush

from nabla.autograd import post_accumulate as _post_accumulate
from nabla.autograd.anomaly import check_backward
from nabla.autograd.grad_mode import _anomaly as _anomaly_mode
from nabla.autograd.grad_mode import _mode
from nabla.backend import array_module, as_array, ndarray
from nabla.ops.shape import sum_to_size
from nabla.tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into the ``.grad`` of every leaf that requires grad
    (only of ``inputs`` when given)."""
    tensors, grads = _roots(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    _run(tensors, grads, retain_graph, create_graph, inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching any ``.grad``.

    ``only_inputs`` is PyTorch's deprecated flag (gradient-penalty scripts still pass it): it is
    ignored, as there, and False only warns; ``backward(inputs=...)`` accumulates into leaves.
    """
    if not only_inputs:
        warnings.warn("autograd.grad: only_inputs is deprecated and ignored (grad never "
                      "accumulates into other leaves); use backward() for that", FutureWarning,
                      stacklevel=2)
    outputs, grads = _roots(outputs, grad_outputs, "autograd.grad")
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad: an input of shape {tuple(t.shape)} does not require grad; "
                "call requires_grad_() on it before computing the outputs"
            )
    if retain_graph is None:
        retain_graph = create_graph
    captured = _run(outputs, grads, retain_graph, create_graph, inputs, accumulate=False)
    result = []
    for t in inputs:
        g = captured[id(t)]
        if g is None:
            if materialize_grads:
                g = Tensor._make(array_module(t._data).zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    f"autograd.grad: an input of shape {tuple(t.shape)} was not used to compute "
                    "the outputs; pass allow_unused=True if that is expected"
                )
        result.append(g)
    return tuple(result)


def _roots(tensors, grads, where):
    """Pair each root tensor with its starting gradient (ones for a scalar)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None or isinstance(grads, Tensor):
        grads = [grads] * len(tensors)
    grads = list(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"{where}: got {len(tensors)} tensors but {len(grads)} gradients")
    out = []
    for t, g in zip(tensors, grads):
        if not t._requires_grad:
            raise RuntimeError(
                f"{where}: a tensor of shape {tuple(t.shape)} does not require grad and has no "
                "grad_fn. Did you create it under no_grad(), or forget requires_grad=True on "
                "the inputs?"
            )
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"{where}: grad can be created implicitly only for scalar outputs, got shape "
                    f"{tuple(t.shape)}. Reduce it first (loss.sum() or loss.mean()), or pass a "
                    "gradient of the same shape: t.backward(gradient)."
                )
            g = Tensor._make(array_module(t._data).ones_like(t._data))  # not x*0+1: nan-safe
        elif not isinstance(g, Tensor):
            g = Tensor._make(array_module(t._data).full_like(t._data, g))
        elif g.shape != t.shape:
            raise RuntimeError(
                f"{where}: gradient of shape {tuple(g.shape)} does not match the tensor's "
                f"shape {tuple(t.shape)}"
            )
        out.append(g)
    return tensors, out


def _run(tensors, grads, retain_graph, create_graph, inputs, accumulate):
    """Walk the graph with recording on only for create_graph (so the walk builds a graph of
    the gradient itself, for higher-order derivatives)."""
    prev_mode = _mode.enabled
    _mode.enabled = bool(create_graph)
    try:
        return _walk(tensors, grads, retain_graph, create_graph, inputs, accumulate)
    finally:
        _mode.enabled = prev_mode


def _walk(tensors, grads, retain_graph, create_graph, inputs, accumulate):
    """Run each reached node's rule once, the latest recorded first, passing gradients along the
    edges; then hand the leaves (or ``capture``, for autograd.grad) their totals."""
    fast = not create_graph
    capture = None if inputs is None else {id(t): None for t in inputs}
    stored = set()  # arrays kept in a .grad: the same memory never goes to two tensors
    pending, roots, leaf_grads = _seed(tensors, grads, fast, stored)
    needed = reads = None
    if inputs is not None:
        needed, reads = _needed_nodes(inputs, _consumers(roots))
    anomaly = _anomaly_mode.mode
    plain = fast and needed is None and not anomaly  # no per-node extras: the hot path
    heap = [(-fn._seq, fn) for fn in roots]
    heapify(heap)
    nxt = None  # the next node when it is the only one pending (a chain): it skips the heap
    while nxt is not None or heap:
        if nxt is None:
            fn = heappop(heap)[1]
        else:
            fn, nxt = nxt, None
        grad = pending.pop(fn)
        if plain and fn.array_backward and fn._n_outputs == 1 and fn._pre_hooks is None:
            grads_in = fn.backward(fn, grad)  # the hot path: one output, rule on arrays
            if type(grads_in) is not tuple:
                grads_in = (grads_in,)
        else:
            buf = grad if fn._n_outputs > 1 else [grad]
            if fn._pre_hooks is not None:
                _run_pre_hooks(fn, buf, fast, stored)
            if needed is not None:
                for nr, key in reads.get(fn, ()):
                    capture[key] = buf[nr]
                if fn not in needed:
                    continue  # leads to no requested input: nothing of it is needed
            grads_in = _call_backward(fn, buf, fast)
            if anomaly:
                check_backward(fn, buf, grads_in)
        if not retain_graph:
            fn._saved = fn._saved_refs = None  # release what was saved: this node won't run again
        for edge, g in zip(fn._edges, grads_in):
            if not edge or g is None:  # None or (): no gradient flows there (see function._edge)
                continue
            target, nr, shape, dtype = edge
            if g.shape != shape:
                g = _reduce_to_shape(fn, g, shape)
            if g.dtype is not dtype and g.dtype != dtype:
                g = g.astype(dtype) if fast else g.to(dtype)
            if isinstance(target, Tensor):  # a leaf: sum this pass's gradients first
                prev = leaf_grads.get(target)
                leaf_grads[target] = g if prev is None else prev + g  # never in place: g may
                continue  # still be in flight to other nodes
            if target._n_outputs == 1:  # _send's common case, inlined
                prev = pending.get(target)
                pending[target] = g if prev is None else prev + g
                waiting = prev is not None
            else:
                waiting = not _send(pending, target, nr, g)
            if waiting:
                continue
            if nxt is None and not heap:  # the only node pending: it runs next
                nxt = target
            else:
                if nxt is not None:
                    heappush(heap, (-nxt._seq, nxt))
                    nxt = None
                heappush(heap, (-target._seq, target))
    _deliver(leaf_grads, inputs, capture, accumulate, fast, stored)
    return capture


def _seed(tensors, grads, fast, stored):
    """The roots' gradients: pending per node (see _send), summed per leaf for a root that is a
    leaf. Returns (pending, the root nodes, leaf gradients)."""
    pending = {}  # node -> its summed gradient (a list, one per output, for several: see _send)
    roots = []
    leaf_grads = {}  # leaf -> its gradient summed over this pass (hooks see the total)
    for t, g in zip(tensors, grads):
        stored.add(_base_id(g._data))  # the caller's gradient: never kept as someone's .grad
        if fast:
            g = g._data
        fn = t.grad_fn
        if fn is None:
            prev = leaf_grads.get(t)
            leaf_grads[t] = g if prev is None else prev + g
        elif _send(pending, fn, t._output_nr, g):
            roots.append(fn)
    return pending, roots, leaf_grads


def _deliver(leaf_grads, inputs, capture, accumulate, fast, stored) -> None:
    """After the walk: each leaf's total through its hooks into ``.grad``, or into ``capture``
    (autograd.grad, and backward(inputs=...), which then accumulates those)."""
    for leaf, g in leaf_grads.items():
        if fast and capture is None and leaf._grad is None and not leaf._hooks:
            leaf._grad = _make(_own(g, stored))  # _deliver_leaf's common case
        else:
            _deliver_leaf(leaf, g, fast, capture, stored)
    if capture is not None:
        for key, g in capture.items():
            if g is not None and fast:
                capture[key] = _make(_as_ndarray(g))
        if accumulate:
            for t in inputs:
                g = capture[id(t)]
                if g is not None:
                    _accumulate(t, g._data if fast else g, fast, stored)
    if accumulate and _post_hooks:  # register_post_accumulate_grad_hook; empty: no cost
        done = leaf_grads if capture is None else [t for t in inputs if capture[id(t)] is not None]
        _post_accumulate.run(done)


def _send(pending, node, nr, g) -> bool:
    """Add ``g`` to the gradient waiting for output ``nr`` of ``node``: kept as it is for a node
    with one output, in a list with one entry per output otherwise. True if ``node`` was not
    waiting yet."""
    if node._n_outputs == 1:
        prev = pending.get(node)
        pending[node] = g if prev is None else prev + g
        return prev is None
    buf = pending.get(node)
    new = buf is None
    if new:
        buf = pending[node] = [None] * node._n_outputs
    buf[nr] = g if buf[nr] is None else buf[nr] + g
    return new


def _consumers(roots) -> dict:
    """For each node or leaf reachable from ``roots``, the nodes whose edges point at it
    (an iterative depth-first search)."""
    consumers = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        fn = stack.pop()
        for edge in fn._edges:
            if not edge:
                continue
            target = edge[0]
            consumers.setdefault(target, []).append(fn)
            if not isinstance(target, Tensor) and target not in seen:
                seen.add(target)
                stack.append(target)
    return consumers


def _needed_nodes(inputs, consumers):
    """For gradients w.r.t. ``inputs`` only: the nodes whose backward must run (those on a path
    to an input), and where to read each non-leaf input's gradient: node -> [(output, key)]."""
    reads = {}
    stack = []
    for t in inputs:
        fn = t.grad_fn
        if fn is None:
            stack.extend(consumers.get(t, ()))
        else:
            reads.setdefault(fn, []).append((t._output_nr, id(t)))
            stack.extend(consumers.get(fn, ()))
    needed = set()
    while stack:
        fn = stack.pop()
        if fn not in needed:
            needed.add(fn)
            stack.extend(consumers.get(fn, ()))
    return needed, reads


def _call_backward(fn, buf, fast):
    """Run one node's backward; check it returned one gradient per forward argument."""
    meta = fn._outputs_meta
    if meta is not None:  # several outputs: one nobody used has a zero gradient
        for i, g in enumerate(buf):
            if g is None:
                shape, dtype, xp = meta[i]
                buf[i] = xp.zeros(shape, dtype) if fast else _make(xp.zeros(shape, dtype))
    if fast and not fn.array_backward:
        grads_in = fn.backward(fn, *[_make(_as_ndarray(g)) for g in buf])
    else:
        grads_in = fn.backward(fn, *buf)
    if type(grads_in) is not tuple:
        grads_in = (grads_in,)
    n = len(fn._edges)
    if len(grads_in) != n:
        if len(grads_in) > n and all(g is None for g in grads_in[n:]):
            grads_in = grads_in[:n]
        else:
            raise RuntimeError(
                f"{fn.name()}.backward returned {len(grads_in)} gradients, expected one per "
                f"forward argument ({n})"
            )
    if fast:
        grads_in = [g._data if isinstance(g, Tensor) else g for g in grads_in]
    return grads_in


def _reduce_to_shape(fn, g, shape):
    """Sum a broadcast gradient back to the input's shape; name the op if that is impossible."""
    try:
        return sum_to_size(g, shape)
    except (ValueError, RuntimeError):
        raise RuntimeError(
            f"{fn.name()}.backward returned a gradient of shape {tuple(g.shape)} for an input of "
            f"shape {tuple(shape)}: the rule is wrong"
        ) from None


def _deliver_leaf(leaf, g, fast, capture, stored):
    """Run the leaf's hooks on its total gradient of this pass, then accumulate it into
    ``.grad`` (or into ``capture`` for autograd.grad)."""
    hooks = leaf._hooks
    if hooks:
        g = _apply_hooks(hooks, g, fast, stored)
    if capture is None:
        _accumulate(leaf, g, fast, stored)
    else:
        key = id(leaf)
        if key in capture:
            capture[key] = g if capture[key] is None else capture[key] + g


def _accumulate(leaf, g, fast, stored):
    """Add ``g`` (an array in fast mode, else a Tensor) into ``leaf.grad``: in place across
    backward calls, as PyTorch; a first gradient is kept only if no one else holds its memory."""
    old = leaf.grad
    if not fast:
        leaf.grad = g if old is None else old + g
    elif old is None:
        leaf.grad = _make(_own(g, stored))
    elif old._requires_grad or old._data is g:
        leaf.grad = old + _make(_as_ndarray(g))
    else:
        old._data += g


def _own(g, stored):
    """``g`` as an array to keep in a ``.grad``: copied if its memory is held elsewhere or
    read-only."""
    array = g if type(g) is ndarray else as_array(g)
    key = id(array) if array.base is None else _base_id(array)  # most gradients are fresh
    if key in stored or not array.flags.writeable:
        array = array.copy()
        key = id(array)
    stored.add(key)
    return array


def _base_id(array) -> int:
    """The identity of the memory ``array`` views: NumPy points a view at the array owning the
    memory, but a strided view (as_strided: diagonal, unfold) at a wrapper whose base is that
    array, hence the loop."""
    base = array.base
    if base is None:
        return id(array)
    while getattr(base, "base", None) is not None:
        base = base.base
    return id(base)


def _as_ndarray(g):
    """NumPy turns 0-d results into scalars; gradients stay arrays."""
    return g if type(g) is ndarray else as_array(g)


def _apply_hooks(hooks, g, fast, stored):
    """Call each hook with the gradient as a Tensor; a non-None result replaces it. A hook may
    keep what it sees or returns, so that memory is marked as held (a .grad will copy it)."""
    t = _make(_as_ndarray(g)) if fast else g
    for hook in hooks:
        stored.add(_base_id(t._data))
        new = hook(t)
        if new is not None:
            t = new
    stored.add(_base_id(t._data))
    return t._data if fast else t


def _run_pre_hooks(fn, buf, fast, stored) -> None:
    for nr, hooks in fn._pre_hooks.items():
        if buf[nr] is not None:
            buf[nr] = _apply_hooks(hooks, buf[nr], fast, stored)


_make = Tensor._make
_post_hooks = _post_accumulate.hooks  # the registry itself (never rebound): one dict test per walk
