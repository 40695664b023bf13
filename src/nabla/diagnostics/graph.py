"""The computation graph of a tensor as Graphviz DOT text (the picture behind ``nabla.viz``).

Like torchviz's ``make_dot``: one box per op node (its backward name and output shape), one per
leaf tensor that receives a gradient (its name from ``params``, shape and requires_grad), and an
arrow from each input to the op that consumed it, so the picture reads in the forward direction
while the walk follows ``grad_fn`` backward. The walk is a loop (breadth-first from the roots),
not a recursion, so a graph of 100,000 ops can be drawn (if not looked at).
"""

import os
import shutil
import subprocess
from collections import deque

from nabla.tensor import Tensor

_OP_STYLE = 'fillcolor="lightgrey"'
_ROOT_STYLE = 'fillcolor="darkolivegreen1"'
_LEAF_STYLE = 'fillcolor="lightblue"'
_SAVED_STYLE = 'fillcolor="orange"'


def graph(tensor, params: dict | None = None, show_saved: bool = False) -> str:
    """The graph that produced ``tensor``, as DOT text for Graphviz.

    Args:
        tensor: a Tensor, or a list/tuple of Tensors (several outputs of one graph).
        params: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) naming leaf
            tensors in the picture.
        show_saved: also draw the values each op saved for backward (while they are held, i.e.
            before a backward without ``retain_graph``), linked to their op by a dashed arrow.

    Returns:
        The DOT source: ``digraph { ... }``. Node ids are ``n0, n1, ...`` in walk order.
    """
    roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
    walk = _DotWalk({id(t): name for name, t in (params or {}).items()}, show_saved)
    for t in roots:
        walk.add_root(t)
    while walk.queue:
        walk.visit(*walk.queue.popleft())
    header = [
        "digraph {",
        '  graph [size="12,12" rankdir=TB]',
        '  node [shape=box style=filled align=left fontsize=10 height=0.2 fontname=monospace]',
    ]
    return "\n".join(header + walk.lines + walk.edges + ["}"]) + "\n"


class _DotWalk:
    """The breadth-first walk behind ``graph``: node ids by object, the DOT lines of nodes and
    edges found so far, and the queue of op nodes still to visit (with whether each is a root).
    """

    def __init__(self, names: dict, show_saved: bool) -> None:
        self.names, self.show_saved = names, show_saved
        self.ids: dict[int, str] = {}
        self.keep = []  # the walked objects stay referenced, so no id() is reused during the walk
        self.lines, self.edges = [], []
        self.shapes: dict[int, dict] = {}  # id(op) -> {output index: shape}
        self.queue = deque()

    def node_id(self, obj) -> tuple[str, bool]:
        """The DOT id of ``obj``, and whether it is new (seen for the first time)."""
        key, ids = id(obj), self.ids
        new = key not in ids
        if new:
            ids[key] = f"n{len(ids)}"
            self.keep.append(obj)
        return ids[key], new

    def add_root(self, t: Tensor) -> None:
        """A tensor to draw the graph of: its op node joins the queue (a leaf is drawn as is)."""
        fn = t.grad_fn
        if fn is None:
            nid, new = self.node_id(t)
            if new:
                self.lines.append(_leaf_line(nid, t, self.names))
            return
        self.shapes.setdefault(id(fn), {})[t._output_nr] = t.shape
        _, new = self.node_id(fn)
        if new:
            self.queue.append((fn, True))

    def visit(self, fn, is_root: bool) -> None:
        """Draw op node ``fn`` and an edge from each of its inputs; queue the new op inputs."""
        nid = self.ids[id(fn)]
        self.lines.append(_op_line(nid, fn, self.shapes.get(id(fn), {}), is_root))
        for edge in fn._edges:
            if not edge:
                continue
            target, nr, shape = edge[0], edge[1], edge[2]
            tid, new = self.node_id(target)
            self.edges.append(f"  {tid} -> {nid}")
            if isinstance(target, Tensor):
                if new:
                    self.lines.append(_leaf_line(tid, target, self.names))
                continue
            self.shapes.setdefault(id(target), {})[nr] = tuple(shape)
            if new:
                self.queue.append((target, False))
        if self.show_saved:
            _saved_lines(fn, nid, self.lines, self.edges)


def render(tensor, path: str, format: str = "png", params: dict | None = None,
           show_saved: bool = False) -> str:
    """Write the DOT text of ``graph(tensor)`` to ``path`` and render it with Graphviz's ``dot``
    into ``path + "." + format``.

    Args:
        tensor: as for ``graph``.
        path: file for the DOT text (e.g. ``"model.gv"``); the image goes beside it.
        format: any output format of ``dot -T`` (png, svg, pdf, ...).
        params, show_saved: as for ``graph``.

    Returns:
        The path of the rendered image.

    Raises:
        RuntimeError: if the ``dot`` program is not installed (the DOT file is still written)
            or fails.
    """
    if not format.isalnum():
        raise ValueError(f"render: format must be a Graphviz output format like 'png', got "
                         f"{format!r}")
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(graph(tensor, params=params, show_saved=show_saved))
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            f"render: the Graphviz 'dot' program was not found on PATH, so only the DOT text "
            f"was written to {path!r}. Install Graphviz (apt install graphviz, brew install "
            "graphviz, conda install graphviz) or paste the text into an online DOT viewer."
        )
    out = f"{path}.{format}"
    done = subprocess.run([dot, f"-T{format}", path, "-o", out], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed on {path!r}: {done.stderr.strip()}")
    return out


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(shape) -> str:
    return str(tuple(int(n) for n in shape))


def _op_line(nid: str, fn, shapes: dict, is_root: bool) -> str:
    meta = getattr(fn, "_outputs_meta", None)
    if meta:  # several outputs: every shape is known from the node itself
        shapes = {i: m[0] for i, m in enumerate(meta)}
    shape_text = " ".join(_shape(shapes[i]) for i in sorted(shapes))
    label = f"{fn.name()}Backward\n{shape_text}" if shape_text else f"{fn.name()}Backward"
    return f"  {nid} [label={_quote(label)} {_ROOT_STYLE if is_root else _OP_STYLE}]"


def _leaf_line(nid: str, t: Tensor, names: dict) -> str:
    name = names.get(id(t))
    parts = ([name] if name else []) + [_shape(t.shape), f"requires_grad={t.requires_grad}"]
    return f"  {nid} [label={_quote(chr(10).join(parts))} {_LEAF_STYLE}]"


def _saved_lines(fn, nid: str, lines: list, edges: list) -> None:
    """Boxes for the values ``fn`` saved for backward (none once backward has freed them)."""
    try:
        saved = fn.saved_tensors
    except RuntimeError:  # freed by backward, or changed in place: nothing to draw
        return
    for i, value in enumerate(saved):
        sid = f"{nid}_saved{i}"
        if hasattr(value, "shape"):  # a Tensor (or an array a user Function saved)
            text = f"saved {i}\n{_shape(value.shape)}"
        else:
            text = f"saved {i}\n{value!r}"
        lines.append(f"  {sid} [label={_quote(text)} {_SAVED_STYLE}]")
        edges.append(f"  {sid} -> {nid} [style=dashed]")
