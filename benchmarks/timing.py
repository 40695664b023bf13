"""Timing shared by the benchmark scripts: several workloads, run in turns in one process.

Running the workloads in turns makes a busy machine slow all of them alike; the fastest round of
each is kept. The libraries' thread pools interfere, though: after a call, OpenBLAS's worker
threads (NumPy's matmul) and libgomp's (PyTorch's) keep spinning for up to about 0.1 s, and on a
2-core machine that takes a core from whatever runs next (a PyTorch LSTM step measured 20 ms
after a pause and 40 ms right after a nabla step). So each timed run starts after an untimed
pause that lets the previous one's threads fall asleep, and untimed calls for WARM_UP seconds
that wake its own threads and caches and the CPU's clock again (after the pause the first steps
of the small MLP ran 1.5-5x slower for about 10 ms, measured on this 2-core VM): each library is
timed in its steady state, as in a training loop of its own.
"""

import time

PAUSE = 0.2  # seconds before each timed run, longer than the spinning threads wait
WARM_UP = 0.03  # seconds of untimed calls after the pause (at least one call)


def interleaved(fns: dict, rounds: int, number: int = 1, clock=time.perf_counter,
                pause: float = PAUSE) -> dict:
    """Seconds per call of each function in ``fns`` (name -> callable): the best of ``rounds``
    rounds, each timing ``number`` calls of every function in turn (after a pause and untimed
    calls for WARM_UP seconds)."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(pause)
            warm_until = time.perf_counter() + WARM_UP
            fn()
            while time.perf_counter() < warm_until:
                fn()
            start = clock()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (clock() - start) / number)
    return best
