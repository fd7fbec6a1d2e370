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


def test_load_ext_shows_the_traceback_then_the_diagnosis(tmp_path):
    """`%load_ext pytlscheck` (issue 17): a cell whose requests call fails on
    the lab's expired server shows the normal traceback, then the diagnosis
    as HTML; other failures are left as they were."""
    pytest.importorskip("requests")
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from pytlscheck.lab import Lab\nlab = Lab(only=['expired']).start()",
        "%load_ext pytlscheck",
        "import requests\nrequests.get(lab['expired'].url, verify=lab.root_pem_path, timeout=5)",
        "1 / 0",
        "if True print('a syntax error still reads as one')",
        "lab.close()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [c.outputs for c in nb.cells]
    tls = outputs[2]
    kinds = [o["output_type"] for o in tls]
    assert kinds[0] == "error" and tls[0]["ename"] == "SSLError", kinds
    assert any("CERTIFICATE_VERIFY_FAILED" in line for line in tls[0]["traceback"])
    html = [o["data"]["text/html"] for o in tls[1:] if o["output_type"] == "display_data"]
    assert len(html) == 1, kinds
    assert 'data-role="diagnosis"' in html[0] and 'data-agrees="true"' in html[0]
    assert "CERTIFICATE_VERIFY_FAILED: certificate has expired" in html[0]
    assert 'data-kind="expired"' in html[0]
    # a failure that is not TLS: its traceback only
    assert [o["output_type"] for o in outputs[3]] == ["error"]
    assert outputs[3][0]["ename"] == "ZeroDivisionError"
    assert [o["output_type"] for o in outputs[4]] == ["error"]
    assert outputs[4][0]["ename"] == "SyntaxError"
    assert outputs[5] == []


def test_load_ext_in_terminal_ipython_prints_text(tmp_path):
    """The same in a terminal IPython: the diagnosis as text, after the
    traceback."""
    pytest.importorskip("requests")
    import subprocess
    import sys

    from pytlscheck.lab import Lab

    with Lab(only=["expired"]) as lab:
        script = tmp_path / "cell.ipy"
        script.write_text(
            "%load_ext pytlscheck\n"
            "import requests\n"
            f"requests.get({lab['expired'].url!r}, verify={lab.root_pem_path!r}, timeout=5)\n")
        done = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor",
                               str(script)], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path)
    out = done.stdout + done.stderr
    assert "SSLError" in out and "Traceback" in out, out
    at = out.index("Your client (requests) reported CERTIFICATE_VERIFY_FAILED")
    assert out.index("Traceback") < at
    assert "agrees: expired" in " ".join(out[at:].split())
    assert "<div" not in out
