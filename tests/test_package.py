"""The package as a user meets it: importing nabla needs nothing but NumPy, every submodule of
nabla.nn.functional is reachable as a module, and the command line answers --help; on glibc,
importing nabla keeps freed memory for reuse (and hands it back on request)."""

import importlib
import os
import pkgutil
import subprocess
import sys
import types

import pytest

OPTIONAL = ("torch", "sklearn", "matplotlib", "scipy", "tqdm", "safetensors", "mnist1d", "PIL",
            "onnx", "onnxruntime", "threadpoolctl", "gymnasium")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_nabla_and_its_layers_loads_no_optional_dependency():
    loaded = _run(
        "import sys, nabla, nabla.nn, nabla.optim, nabla.utils.data, nabla.train, nabla.models,"
        " nabla.models.dqn;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r})))"
    )
    assert loaded == "[]"


def test_every_nn_functional_submodule_is_reachable_as_a_module():
    """``import nabla.nn.functional.X as m`` gives the module X, not a function the package
    re-exports under the same name (as ``fold.py`` exporting ``fold`` did)."""
    import nabla.nn.functional as F

    names = [m.name for m in pkgutil.iter_modules(F.__path__)]
    assert {"conv", "conv_volumes", "dropout_masks", "folding", "linear_maps"} <= set(names)
    for name in names:
        module = importlib.import_module(f"nabla.nn.functional.{name}")
        assert isinstance(module, types.ModuleType), name
        assert getattr(F, name) is module, f"nabla.nn.functional.{name} is shadowed"


def test_command_line_help_lists_the_commands_and_options():
    text = _run("import sys; sys.argv = ['nabla', 'train', '--help']\n"
                "from nabla.cli import main\n"
                "try:\n    main()\nexcept SystemExit:\n    pass")
    for option in ("--model", "--dataset", "--epochs", "--optimizer", "--lr", "--scheduler",
                   "--patience", "--resume", "--out"):
        assert option in text
    assert "datasets" in _run("import sys; sys.argv = ['nabla', '--help']\n"
                              "from nabla.cli import main\n"
                              "try:\n    main()\nexcept SystemExit:\n    pass")


# 8 arrays of 12 MiB made and freed per round (96 MiB, more than glibc's largest trim
# threshold), as a training step does with its activations; prints the page faults per round
# once the process is warm
_ROUNDS = """
import resource, numpy as np, nabla
def rounds(n):
    for _ in range(n):
        arrays = [np.ones(3 << 20, np.float32) for _ in range(8)]
        del arrays
rounds(3)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(20)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(nabla.backend.malloc_tuned, faults / 20)
"""


_GLIBC_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"),
    reason="malloc tuning applies to glibc only")


def _fault_rounds(tune: str, **extra) -> tuple:
    env = dict(os.environ, NABLA_TUNE_MALLOC=tune, **extra)
    out = subprocess.run([sys.executable, "-c", _ROUNDS], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    return out[0] == "True", float(out[1])


@_GLIBC_ONLY
def test_import_keeps_freed_memory_for_reuse_unless_turned_off():
    tuned, faults = _fault_rounds("1")
    assert tuned and faults < 50  # the 96 MiB come back from the heap: no page is faulted in
    untuned, faults_off = _fault_rounds("0")
    assert not untuned and faults_off > 1000  # glibc's default: trimmed, faulted in again


@_GLIBC_ONLY
def test_malloc_settings_of_the_environment_win():
    tuned, _ = _fault_rounds("1", MALLOC_TRIM_THRESHOLD_="1000000000")
    assert not tuned


@_GLIBC_ONLY
def test_release_memory_hands_freed_memory_back():
    out = _run("import os, numpy as np, nabla\n"
               "def rss():\n"
               "    return int(open('/proc/self/statm').read().split()[1])\n"
               "arrays = [np.ones(3 << 20, np.float32) for _ in range(8)]\n"
               "del arrays\n"
               "kept = rss()\n"
               "released = nabla.backend.release_memory()\n"
               "print(released, (kept - rss()) * os.sysconf('SC_PAGE_SIZE') >> 20)")
    released, mib = out.split()
    assert released == "True" and int(mib) > 64  # most of the 96 MiB freed above
