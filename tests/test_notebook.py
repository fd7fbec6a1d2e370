"""docs/notebook.ipynb runs top to bottom against the built-in lab, and its
output holds the rendered chains (the `notebook` extra: nbclient, ipykernel,
nbformat)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebook.ipynb"
MISSING = [m for m in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(m) is None]

pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=(
        f"the notebook test needs {', '.join(MISSING)}: pip install 'pytlscheck[notebook]'")),
    pytest.mark.skipif(not NOTEBOOK.exists(), reason="docs/notebook.ipynb not present "
                                                     "(installed package only)"),
]


def html_outputs(cell):
    return [o["data"]["text/html"] for o in cell.get("outputs", ())
            if o.get("output_type") in ("execute_result", "display_data")
            and "text/html" in o.get("data", {})]


def test_notebook_executes_and_renders_the_chain(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any failing cell

    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", ()) if o.get("output_type") == "error"]
    assert errors == []

    def cell_with(source_start):
        return next(c for c in code if c.source.startswith(source_start))

    healthy = html_outputs(cell_with('healthy = lab.check("healthy")'))
    assert len(healthy) == 1
    assert healthy[0].count('data-role="certificate"') == 3        # leaf, intermediate, root
    assert healthy[0].count('data-status="ok"') == 3
    assert "pytlscheck lab root" in healthy[0]

    missing = html_outputs(cell_with('report = lab.check("missing_intermediate")'))[0]
    assert 'data-role="missing"' in missing
    assert 'data-kind="incomplete_chain"' in missing

    expired = html_outputs(cell_with('expired = lab.check("expired")'))[0]
    assert 'data-kind="expired"' in expired and 'data-today="1"' in expired
    assert "<script" not in expired.lower()

    printed = "".join(o.get("text", "") for o in cell_with("print(expired.explain())").outputs)
    assert printed.startswith("FAIL") and "expired" in printed


def test_the_notebooks_own_headless_command_runs(tmp_path):
    """The command the notebook's first cell tells users to run works with
    only the `notebook` extra installed (it once named `jupyter nbconvert`,
    which the extra does not bring)."""
    import json
    import re
    import shutil
    import subprocess
    import sys

    intro = "".join(json.loads(NOTEBOOK.read_text())["cells"][0]["source"])
    command = re.search(r"`(jupyter execute [^`]+)`", intro)
    assert command, intro
    argv = command.group(1).split()
    exe = shutil.which(argv[0], path=str(Path(sys.executable).parent)) or shutil.which(argv[0])
    assert exe, f"{argv[0]} is not installed: the notebook extra should bring it"
    argv[-1] = str(NOTEBOOK)              # the instruction's path is relative to the checkout
    # The kernel must import this very pytlscheck, wherever it is installed.
    import os

    import pytlscheck
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(Path(pytlscheck.__file__).parent.parent), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([exe, *argv[1:]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
