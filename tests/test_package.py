"""The package as a user meets it: importing nabla needs nothing but NumPy, and the command line
answers --help."""

import subprocess
import sys

OPTIONAL = ("torch", "sklearn", "matplotlib", "scipy", "tqdm", "safetensors", "mnist1d", "PIL")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_nabla_and_its_layers_loads_no_optional_dependency():
    loaded = _run(
        "import sys, nabla, nabla.nn, nabla.optim, nabla.utils.data, nabla.train, nabla.models;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r})))"
    )
    assert loaded == "[]"


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
