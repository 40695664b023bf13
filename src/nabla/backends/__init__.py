"""``torch.backends`` flags that training scripts set while seeding, accepted for porting:
``nabla.backends.cudnn.deterministic = True`` and ``benchmark = False`` change nothing here
(nabla's CPU results are already deterministic: the same inputs give the same bits)."""

from types import SimpleNamespace

__all__ = ["cudnn"]

cudnn = SimpleNamespace(enabled=False, deterministic=False, benchmark=False)
