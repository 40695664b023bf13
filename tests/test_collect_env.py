"""``nabla info`` / ``python -m nabla.utils.collect_env``: the facts it reports and its advice."""

import json
import subprocess
import sys

import numpy as np

import nabla
from nabla.cli import main as cli_main
from nabla.utils.collect_env import advice, get_env_info, pretty


def _info(**changes):
    info = {"nabla": "0", "python": "3.11", "platform": "Linux", "cpu_count": 2, "numpy": "2",
            "cpu_features": ["AVX2", "AVX512F"], "openblas_coretype": None,
            "blas": {"internal_api": "openblas", "version": "0.3", "architecture": "Haswell",
                     "num_threads": 2, "filepath": "libopenblas.so"},
            "packages": {"torch": "2.13.0", "onnx": None}}
    info.update(changes)
    return info


def test_env_info_reports_this_process():
    info = get_env_info()
    assert info["nabla"] == nabla.__version__ and info["numpy"] == np.__version__
    assert info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(info["packages"]) >= {"torch", "threadpoolctl", "safetensors"}
    assert info["packages"]["torch"].startswith("2.13.0")  # the test oracle is installed
    # threadpoolctl (a test dependency) reads NumPy's BLAS
    assert info["blas"]["internal_api"] in ("openblas", "mkl", "blis", "accelerate")
    json.dumps(info)  # plain values only


def test_advice_for_avx512_cpu_on_haswell_kernels():
    (tip,) = advice(_info())
    assert "AVX-512" in tip and "Haswell" in tip and "OPENBLAS_CORETYPE=SkylakeX" in tip
    (tip,) = advice(_info(openblas_coretype="Haswell"))
    assert "in the environment" in tip and "Unset it" in tip


def test_no_advice_where_the_kernels_fit_the_cpu():
    assert advice(_info(cpu_features=["AVX2"])) == []  # no AVX-512: Haswell kernels are right
    fitting = _info()
    fitting["blas"] = dict(fitting["blas"], architecture="SkylakeX")
    assert advice(fitting) == []
    mkl = _info()
    mkl["blas"] = dict(mkl["blas"], internal_api="mkl", architecture=None)
    assert advice(mkl) == []


def test_advice_without_threadpoolctl():
    (tip,) = advice(_info(blas=None))
    assert "nabla[speed]" in tip
    assert "unknown (install threadpoolctl" in pretty(_info(blas=None))


def test_report_lists_versions_and_missing_packages():
    text = pretty(_info())
    assert "openblas 0.3, Haswell kernels, 2 threads" in text
    assert "onnx" in text and "not installed" in text
    assert "Advice:" in text


def test_cli_info_and_module_entry_point(capsys):
    assert cli_main(["info"]) == 0
    out = capsys.readouterr().out
    assert nabla.__version__ in out and "NumPy" in out and "BLAS" in out
    run = subprocess.run([sys.executable, "-m", "nabla.utils.collect_env"], capture_output=True,
                         text=True, check=True)
    assert "NumPy" in run.stdout
