"""Independent work items (the convolutions' batch chunks) split over two threads.

NumPy releases the GIL in copies, ufuncs and matmul, so a second Python thread runs the
im2col / col2im copies of half the chunks while the calling thread runs the other half. The
split is static (first half here, second half on the helper) and results come back in item
order, so the output does not depend on timing: every run, threaded or not, gives the same bits.

While the two threads run, BLAS is held to one thread (through threadpoolctl, when it is
installed: the ``all`` and ``test`` extras bring it): OpenBLAS's own threads would otherwise spin
on the same two cores between products. On this 2-core machine that takes the 3x3 conv benchmark
from about 75 to about 100 GFLOP/s.

The helper is one worker thread, created on first use (never at import) and recreated in a
forked child. ``set_num_threads(1)`` turns the split off; callers from several threads share
the helper safely (its queue is first in, first out and a job never waits on another job).

``set_num_threads`` / ``get_num_threads`` are also nabla's public ``torch.set_num_threads`` /
``torch.get_num_threads``: the number also limits BLAS's own threads.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["get_num_threads", "set_num_threads", "map_chunks"]

_lock = threading.Lock()
_state = {"threads": os.cpu_count() or 1, "pool": None, "pid": None, "blas": None}


def set_num_threads(n: int) -> None:
    """The threads nabla's CPU work may use, as ``torch.set_num_threads``: BLAS's threads
    (through threadpoolctl, when installed) and the convolutions' chunk loops (split over two
    threads when n >= 2, run on the calling thread when n = 1)."""
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _state["threads"] = int(n)
    controller = _controller()
    if controller:
        controller.limit(limits=int(n), user_api="blas")  # applies now, and stays


def get_num_threads() -> int:
    """The number set by ``set_num_threads`` (default: the machine's CPU count)."""
    return _state["threads"]


def _helper() -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None or _state["pid"] != os.getpid():
            _state["pool"] = ThreadPoolExecutor(1, thread_name_prefix="nabla-conv")
            _state["pid"] = os.getpid()
        return _state["pool"]


def _controller():
    """threadpoolctl's controller of the loaded BLAS libraries, or False without it."""
    controller = _state["blas"]
    if controller is None:
        try:
            from threadpoolctl import ThreadpoolController  # optional: not a core dependency
            controller = ThreadpoolController()
        except ImportError:
            controller = False
        _state["blas"] = controller
    return controller


def _one_blas_thread():
    """A context in which BLAS uses one thread (a no-op without threadpoolctl)."""
    controller = _controller()
    if controller is False:
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def map_chunks(fn, items: list, split: bool = True) -> list:
    """[fn(item) for item in items], the second half on the helper thread when threads are on
    and ``split`` (the caller's judgement that the work outweighs the hand-over); fn must touch
    only its item's part of any shared output."""
    if not split or _state["threads"] < 2 or len(items) < 2:
        return [fn(item) for item in items]
    half = (len(items) + 1) // 2
    with _one_blas_thread():
        rest = _helper().submit(lambda: [fn(item) for item in items[half:]])
        try:
            first = [fn(item) for item in items[:half]]
        finally:
            later = rest.result()  # waits even if the first half raised: no write outlives it
    return first + later
