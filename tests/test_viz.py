"""nabla.viz: the DOT text of a computation graph, and rendering it with Graphviz."""

import os
import re
import shutil
import stat

import pytest

import nabla
import nabla.viz

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)
EDGE = re.compile(r"^  (\w+) -> (\w+)( \[style=dashed\])?$", re.M)


def parse(dot: str):
    """{node id: label lines} and [(from, to, dashed)] of a DOT text made by nabla.viz.graph."""
    nodes = {nid: label.split("\\n") for nid, label in NODE.findall(dot)}
    edges = [(a, b, bool(d)) for a, b, d in EDGE.findall(dot)]
    return nodes, edges


def by_label(nodes, first_line):
    return [nid for nid, lines in nodes.items() if lines[0] == first_line]


@pytest.fixture
def small():
    """y = exp(x * w) * x: x used twice, two Mul nodes, one Exp."""
    x = nabla.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    w = nabla.tensor([[0.5], [1.5]], requires_grad=True)
    c = nabla.tensor([2.0, 2.0, 2.0])  # no grad: not drawn
    y = (x * w).exp() * x * c
    return x, w, y


def test_nabla_viz_is_an_attribute():
    assert nabla.viz.graph is nabla.viz.graph and callable(nabla.viz.render)


def test_graph_nodes_edges_and_labels(small):
    x, w, y = small
    dot = nabla.viz.graph(y, params={"x": x, "weight": w})
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    # 3 Mul + 1 Exp ops, 2 leaves; the constant c has no node
    assert len(nodes) == 6
    muls, exps = by_label(nodes, "MulBackward"), by_label(nodes, "ExpBackward")
    assert len(muls) == 3 and len(exps) == 1
    (xn,), (wn,) = by_label(nodes, "x"), by_label(nodes, "weight")
    assert nodes[xn] == ["x", "(1, 3)", "requires_grad=True"]
    assert nodes[wn] == ["weight", "(2, 1)", "requires_grad=True"]
    for op in muls + exps:
        assert nodes[op][1] == "(2, 3)"  # output shape of every op
    # x*w: x, w -> Mul; Mul -> Exp; Exp, x -> Mul; Mul -> Mul (by c)
    assert len(edges) == 6 and not any(d for _, _, d in edges)
    (exp,) = exps
    pairs = {(nodes[a][0], nodes[b][0]) for a, b, _ in edges}
    assert pairs == {("x", "MulBackward"), ("weight", "MulBackward"),
                     ("MulBackward", "ExpBackward"), ("ExpBackward", "MulBackward"),
                     ("MulBackward", "MulBackward")}
    assert sorted(nodes[b][0] for a, b, _ in edges if a == xn) == ["MulBackward"] * 2
    assert [nodes[a][0] for a, b, _ in edges if b == exp] == ["MulBackward"]
    # the root op (the Mul by c) alone is drawn in the output colour
    assert dot.count("darkolivegreen1") == 1


def test_edges_follow_the_graph_to_the_leaves(small):
    x, w, y = small
    nodes, edges = parse(nabla.viz.graph(y))
    into = {}
    for a, b, _ in edges:
        into.setdefault(b, []).append(a)
    # walk from the root (the node with no outgoing edge) back to the leaves
    sources = {a for a, _, _ in edges}
    (root,) = [n for n in nodes if n not in sources]
    assert nodes[root][0] == "MulBackward"
    seen, stack = set(), [root]
    while stack:
        n = stack.pop()
        seen.add(n)
        stack.extend(into.get(n, []))
    assert seen == set(nodes)  # every node lies on a path to the output
    leaves = [n for n in nodes if n not in into]
    assert sorted(nodes[n][0] for n in leaves) == ["(1, 3)", "(2, 1)"]  # unnamed leaves


def test_no_nodes_twice_and_diamond_shared():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = h.sin() * h.cos()
    nodes, edges = parse(nabla.viz.graph(y))
    assert len(by_label(nodes, "ExpBackward")) == 1  # h's node is drawn once
    assert len(nodes) == 5 and len(edges) == 5


def test_show_saved_draws_saved_values_until_freed():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sin()
    nodes, edges = parse(nabla.viz.graph(y, show_saved=True))
    saved = [n for n, lines in nodes.items() if lines[0].startswith("saved")]
    assert len(saved) == 2  # Exp saves its output, Sin its input
    assert all(nodes[n][1] == "(2,)" for n in saved)
    assert sum(d for _, _, d in edges) == 2
    y.backward(nabla.ones(2))
    nodes, edges = parse(nabla.viz.graph(y, show_saved=True))
    assert len(nodes) == 3 and not any(d for _, _, d in edges)
    assert "saved" not in nabla.viz.graph(y)


def test_leaf_and_several_roots():
    x = nabla.tensor([1.0], requires_grad=True)
    nodes, edges = parse(nabla.viz.graph(x, params={"x": x}))
    assert list(nodes.values()) == [["x", "(1,)", "requires_grad=True"]] and edges == []
    a, b = x.exp(), x.sin()
    nodes, edges = parse(nabla.viz.graph([a, b]))
    assert len(nodes) == 3 and len(edges) == 2


def test_labels_are_escaped():
    x = nabla.tensor([1.0], requires_grad=True)
    dot = nabla.viz.graph(x.exp(), params={'odd "name"\\': x})
    assert 'odd \\"name\\"\\\\' in dot


def test_deep_graph_is_walked_iteratively():
    x = nabla.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(5000):
        h = -h
    nodes, edges = parse(nabla.viz.graph(h))
    assert len(nodes) == 5001 and len(edges) == 5000


def test_render_without_dot_writes_dot_and_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x = nabla.tensor([1.0], requires_grad=True)
    path = tmp_path / "g.gv"
    with pytest.raises(RuntimeError, match="Graphviz"):
        nabla.viz.render(x.exp(), path)
    assert path.read_text().startswith("digraph {")


def test_render_calls_dot(tmp_path, monkeypatch):
    """A stand-in ``dot`` on PATH records its arguments and writes the output file."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\ncp "$2" "$4"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    x = nabla.tensor([1.0], requires_grad=True)
    out = nabla.viz.render(x.exp(), str(tmp_path / "g.gv"), format="svg")
    assert out == str(tmp_path / "g.gv.svg")
    assert (bindir / "args").read_text().split() == ["-Tsvg", str(tmp_path / "g.gv"), "-o", out]
    with pytest.raises(ValueError, match="format"):
        nabla.viz.render(x.exp(), str(tmp_path / "g.gv"), format="png; rm")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_real_dot(tmp_path):
    x = nabla.tensor([1.0], requires_grad=True)
    out = nabla.viz.render(x.exp() * x, str(tmp_path / "g.gv"), format="svg")
    assert "<svg" in open(out).read()


def test_model_parameters_named_like_torchviz():
    nn = pytest.importorskip("nabla.nn")
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    y = model(nabla.randn(5, 3)).sum()
    nodes, edges = parse(nabla.viz.graph(y, params=dict(model.named_parameters())))
    names = {lines[0]: lines[1] for lines in nodes.values()}
    assert names["0.weight"] == "(4, 3)" and names["0.bias"] == "(4,)"
    assert names["2.weight"] == "(1, 4)" and names["2.bias"] == "(1,)"
    params = [n for n, lines in nodes.items() if lines[0][0].isdigit()]
    assert len(params) == 4  # x needs no grad: the only leaves are the parameters
    for p in params:
        assert len([1 for a, _, _ in edges if a == p]) == 1  # each feeds one op
    ops = [lines[0] for n, lines in nodes.items() if n not in params]
    assert ops[0] == "SumBackward" and "TanhBackward" in ops
