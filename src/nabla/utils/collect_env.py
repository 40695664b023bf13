"""What nabla runs on, for bug reports and speed questions (PyTorch's ``torch.utils.collect_env``).

    python -m nabla.utils.collect_env        # or: nabla info

Prints the versions (nabla, Python, NumPy, the optional extras), the BLAS library NumPy calls for
every matrix product and convolution (its kernels and threads, read through threadpoolctl when the
``speed`` extra is installed), the SIMD features NumPy found on the CPU, and advice where the set-up
leaves speed unused. Nothing here is imported by ``import nabla``.
"""

import os
import platform
import sys
from importlib import metadata

# the packages behind nabla's extras (and the test oracle), by distribution name
OPTIONAL = ("scikit-learn", "mnist1d", "matplotlib", "tqdm", "safetensors", "threadpoolctl",
            "onnx", "onnxruntime", "torch")
# OpenBLAS kernel sets that use AVX-512 (OpenBLAS's names for its core types)
AVX512_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")


def get_env_info() -> dict:
    """The facts, as a dict of plain values (printable, comparable, JSON-able)."""
    import numpy

    import nabla

    return {
        "nabla": nabla.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": numpy.__version__,
        "cpu_features": _cpu_features(),
        "blas": _blas(numpy),
        "packages": {name: _version(name) for name in OPTIONAL},
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


def advice(info: dict) -> list:
    """Lines of advice for the set-up ``info`` describes (see ``get_env_info``); [] if none."""
    lines = []
    blas = info["blas"]
    features = set(info["cpu_features"])
    if blas is None:
        lines.append("Install nabla[speed] (threadpoolctl): it shows which BLAS kernels NumPy "
                     "uses, and convolutions use it to keep BLAS off the cores their own "
                     "threads run on.")
    elif blas.get("internal_api") == "openblas" and "AVX512F" in features:
        arch = str(blas.get("architecture", "")).lower()
        if arch and arch not in AVX512_KERNELS:
            forced = info["openblas_coretype"]
            if forced:
                held = (f"OPENBLAS_CORETYPE={forced} in the environment holds OpenBLAS to its "
                        f"{blas['architecture']} kernels. Unset it (OpenBLAS then detects the "
                        "CPU) or set OPENBLAS_CORETYPE=SkylakeX")
            else:
                held = (f"OpenBLAS chose its {blas['architecture']} kernels. Set "
                        "OPENBLAS_CORETYPE=SkylakeX")
            lines.append(
                f"This CPU has AVX-512 but {held} before Python starts: large matrix products "
                "can run up to about 3x faster and convolutions about 1.2x (products of a few "
                "dozen rows, as in small RNNs, may get slower: measure with benchmarks/).")
    return lines


def pretty(info: dict) -> str:
    """The report as text."""
    blas = info["blas"]
    if blas is None:
        blas_line = "unknown (install threadpoolctl: pip install nabla[speed])"
    else:
        blas_line = (f"{blas.get('internal_api')} {blas.get('version')}, "
                     f"{blas.get('architecture') or 'unknown'} kernels, "
                     f"{blas.get('num_threads')} threads")
    rows = [
        ("nabla", info["nabla"]),
        ("Python", info["python"]),
        ("platform", info["platform"]),
        ("CPUs", info["cpu_count"]),
        ("NumPy", info["numpy"]),
        ("BLAS", blas_line),
        ("OPENBLAS_CORETYPE", info["openblas_coretype"] or "not set"),
        ("SIMD", " ".join(_simd_summary(info["cpu_features"])) or "unknown"),
    ]
    rows += [(name, version or "not installed") for name, version in info["packages"].items()]
    width = max(len(name) for name, _ in rows)
    text = "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
    tips = advice(info)
    if tips:
        text += "\n\nAdvice:\n" + "\n".join(f"- {tip}" for tip in tips)
    return text


def main() -> int:
    print(pretty(get_env_info()))
    return 0


def _version(name: str) -> str | None:
    """The installed version of a distribution, without importing it."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_features() -> list:
    """The CPU features NumPy detected at run time (its dispatch uses the best of them)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy moved it: report nothing rather than fail
        return []
    return sorted(name for name, present in __cpu_features__.items() if present)


def _simd_summary(features: list) -> list:
    """The widest vector extensions of ``features``, the ones that matter for speed."""
    return [f for f in ("SSE42", "AVX", "AVX2", "FMA3", "AVX512F", "AVX512_SKX", "AVX512_ICL",
                        "ASIMD", "SVE") if f in features]


def _blas(numpy) -> dict | None:
    """NumPy's BLAS as threadpoolctl reports it (library, version, kernels, threads)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    numpy.ones((2, 2)) @ numpy.ones((2, 2))  # make sure the library is loaded
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return {k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                             "num_threads", "filepath")}
    return None


if __name__ == "__main__":
    sys.exit(main())
