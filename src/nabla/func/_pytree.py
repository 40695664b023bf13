"""Nested Python containers of tensors ("pytrees"), as ``torch.utils._pytree`` sees them: a
tuple, list, dict (any mapping type, in its key order) or namedtuple is a node, ``None`` is an
empty node, and anything else is a leaf. The transforms flatten their arguments and results to
a list of leaves, work on the leaves and rebuild the containers with ``tree_unflatten``.
"""

from collections import OrderedDict

__all__ = ["tree_flatten", "tree_unflatten", "broadcast_prefix", "tree_map"]

_LEAF = None  # the spec of a leaf


class TreeSpec:
    """The shape of a container: its type, its keys (dicts) and the specs of its children."""

    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind, keys, children: list) -> None:
        self.kind, self.keys, self.children = kind, keys, children

    @property
    def num_leaves(self) -> int:
        return sum(1 if c is _LEAF else c.num_leaves for c in self.children)

    def __eq__(self, other) -> bool:
        return (isinstance(other, TreeSpec) and self.kind is other.kind
                and self.keys == other.keys and self.children == other.children)

    def __repr__(self) -> str:
        inner = ", ".join("*" if c is _LEAF else repr(c) for c in self.children)
        if self.kind is type(None):
            return "None"
        if self.keys is not None:
            inner = ", ".join(f"{k!r}: {'*' if c is _LEAF else c!r}"
                              for k, c in zip(self.keys, self.children, strict=True))
        return f"{self.kind.__name__}({inner})"


def _children(x) -> tuple | None:
    """(keys or None, children) of a node; None for a leaf."""
    if x is None:
        return None, []
    if isinstance(x, (tuple, list)):
        return None, list(x)
    if isinstance(x, dict):
        return list(x.keys()), list(x.values())
    return None


def tree_flatten(tree) -> tuple[list, TreeSpec | None]:
    """(the leaves in order, the spec that ``tree_unflatten`` rebuilds the containers from)."""
    node = _children(tree)
    if node is None:
        return [tree], _LEAF
    keys, children = node
    leaves, specs = [], []
    for child in children:
        child_leaves, child_spec = tree_flatten(child)
        leaves.extend(child_leaves)
        specs.append(child_spec)
    return leaves, TreeSpec(type(tree), keys, specs)


def tree_unflatten(leaves, spec: TreeSpec | None):
    """The inverse of ``tree_flatten``: ``leaves`` put back into containers shaped as ``spec``."""
    it = iter(leaves)
    tree = _build(it, spec)
    if next(it, _END) is not _END:
        raise ValueError("tree_unflatten: more leaves than the spec holds")
    return tree


_END = object()


def _build(it, spec):
    if spec is _LEAF:
        leaf = next(it, _END)
        if leaf is _END:
            raise ValueError("tree_unflatten: fewer leaves than the spec holds")
        return leaf
    children = [_build(it, c) for c in spec.children]
    kind = spec.kind
    if kind is type(None):
        return None
    if spec.keys is not None:
        pairs = zip(spec.keys, children, strict=True)
        return dict(pairs) if kind is dict else (OrderedDict(pairs) if kind is OrderedDict
                                                 else kind(pairs))
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return kind(*children)
    return kind(children)


def tree_map(fn, tree):
    """``tree`` with every leaf replaced by ``fn(leaf)``."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(leaf) for leaf in leaves], spec)


def broadcast_prefix(prefix, tree) -> list | None:
    """One value of ``prefix`` per leaf of ``tree``: ``prefix`` has ``tree``'s containers down to
    some depth, and a leaf of ``prefix`` (an int, None) applies to the whole subtree below it.
    None where the structures do not match (the caller words the error)."""
    out: list = []
    return out if _broadcast(prefix, tree, out) else None


def _broadcast(prefix, tree, out: list) -> bool:
    node = _children(prefix) if prefix is not None else None
    if node is None:  # a leaf of the prefix (None counts as one here: "not mapped")
        out.extend([prefix] * len(tree_flatten(tree)[0]))
        return True
    tree_node = _children(tree)
    if tree_node is None or not _same_kind(prefix, tree):
        return False
    keys, children = node
    tree_keys, tree_children = tree_node
    if keys is not None:
        if set(keys) != set(tree_keys):
            return False
        children = [prefix[k] for k in tree_keys]
    if len(children) != len(tree_children):
        return False
    return all(_broadcast(p, t, out) for p, t in zip(children, tree_children, strict=True))


def _same_kind(a, b) -> bool:
    """Whether two containers are the same kind of node (tuples and lists differ, as in torch;
    a namedtuple matches a plain tuple prefix)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict)
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list)
    return isinstance(a, tuple) and isinstance(b, tuple)
