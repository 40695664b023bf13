"""Instructions per step of bench.py's Python-bound workloads, counted by valgrind: a noise-free
A/B test for changes to the per-op overhead.

    python benchmarks/instructions.py                 # the working tree
    python benchmarks/instructions.py --src /tmp/base/src   # another checkout (git worktree)

On a shared or throttled machine wall-clock timings of the same code differ by 1.5x from one
minute to the next, which hides a 5% change. The number of instructions the CPU runs does not
depend on the machine's state: valgrind's callgrind counts them (about 50x slower than a plain
run). Each workload runs twice, with few and with many steps, and the difference is divided by
the extra steps, which removes the start-up (importing NumPy and nabla). Instructions are not
time (a cache miss costs more than an add) but for Python-level overhead the two move together:
on 2026-11-23 a change that cut the chain's count by 6.4% cut its time in quiet runs by 7%.

Needs valgrind on the PATH (Debian/Ubuntu: ``apt install valgrind``).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# what a child process runs: build one workload of bench.py, then call its step `steps` times
CHILD = """
import sys
sys.path.insert(0, {src!r})
sys.path.insert(0, {here!r})
import nabla
import bench
assert nabla.__file__.startswith({src!r}), nabla.__file__
make = {{
    "chain": lambda: bench.chain_framework(
        nabla, lambda a, grad=True: nabla.tensor(a, requires_grad=grad)),
    "small_mlp": lambda: bench.mlp_nabla((40, 100, 100, 10), 32, "adam"),
}}[{workload!r}]
step = make()
for _ in range({steps}):
    step()
"""

WORKLOADS = {"chain": ("per op", 100), "small_mlp": ("per step", 1)}  # unit, ops per step


def count(src: str, workload: str, steps: int) -> int:
    """Instructions valgrind counts for start-up plus ``steps`` steps."""
    code = CHILD.format(src=src, here=HERE, workload=workload, steps=steps)
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/callgrind.out",
             sys.executable, "-c", code], capture_output=True, text=True, env=env)
    found = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed ({workload}, {steps} steps):\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=os.path.join(os.path.dirname(HERE), "src"),
                        help="the src folder of the checkout to measure")
    parser.add_argument("--steps", type=int, default=200, help="extra steps counted")
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("instructions.py needs valgrind on the PATH (apt install valgrind)")
    src = os.path.abspath(args.src)
    for workload in args.workloads:
        unit, ops = WORKLOADS[workload]
        few, many = count(src, workload, 20), count(src, workload, 20 + args.steps)
        print(f"{workload}: {(many - few) / args.steps / ops:,.0f} instructions {unit}  ({src})")


if __name__ == "__main__":
    main()
