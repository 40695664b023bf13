"""The benchmark helpers that are not timings themselves: the bare engine computes what nabla
computes, and the instruction counter's child program builds and runs each workload."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bare_engine  # noqa: E402
import instructions  # noqa: E402


def test_bare_engine_gives_nabla_gradients_and_times_its_steps():
    bare_engine.check_against_nabla()
    assert bare_engine.best_us_per_op(bare_engine.chain_bare(), blocks=1, number=2) > 0


@pytest.mark.parametrize("workload", sorted(instructions.WORKLOADS))
def test_instruction_counter_child_runs_each_workload(workload):
    src = str(BENCHMARKS.parent / "src")
    code = instructions.CHILD.format(src=src, here=str(BENCHMARKS), workload=workload, steps=2)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
