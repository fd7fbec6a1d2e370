"""What to say when the compiled core, pytlscheck._core, is not there.

The usual way to get here: ``pip install .`` in a source checkout, then
``python -m pytlscheck`` (or ``import pytlscheck``) from that same folder.
Python puts the current directory first on ``sys.path``, so it imports the
checkout's ``pytlscheck/`` folder, which has the Python files but not the
extension module that ``pip install .`` built into site-packages.  The bare
``ModuleNotFoundError: No module named 'pytlscheck._core'`` says none of
that; :func:`message` does.
"""
from __future__ import annotations

import os
import sys

__all__ = ["message", "exit_if_running_as_main"]


def _is_source_checkout(package_dir: str) -> bool:
    top = os.path.dirname(package_dir)
    return (os.path.isfile(os.path.join(top, "setup.py"))
            or os.path.isdir(os.path.join(top, "csrc")))


def message(package_dir: str) -> str:
    """One paragraph: what is missing, where, why and what to do."""
    head = (f"pytlscheck: the compiled core (pytlscheck._core) is missing from the "
            f"pytlscheck package being imported, {package_dir}")
    if _is_source_checkout(package_dir):
        return (head + ". That folder is a source checkout: Python imports it because it is "
                "under the current directory (or on PYTHONPATH), and it hides any installed "
                "pytlscheck; a plain `pip install .` builds the core into site-packages, not "
                "here. Run from another directory, or install with `pip install -e .` "
                "(which builds the core in place, in this folder).")
    return (head + ". The installation is incomplete (the C extension was not built or "
            "was deleted): reinstall it with `pip install --force-reinstall pytlscheck` "
            "(building it needs a C compiler and the OpenSSL >= 3.0 headers).")


def exit_if_running_as_main(text: str) -> None:
    """``python -m pytlscheck`` imports the package before __main__.py runs,
    so __main__ cannot catch the ImportError; while Python is still locating
    the module (``sys.argv[0] == "-m"``) for ``-m pytlscheck``, print the one
    line and exit 2 (the CLI's status for errors) instead of a traceback."""
    argv = getattr(sys, "orig_argv", [])
    running = any(a == "-m" and b in ("pytlscheck", "pytlscheck.__main__")
                  for a, b in zip(argv, argv[1:]))
    if sys.argv[:1] == ["-m"] and running:
        sys.stderr.write(text + "\n")
        raise SystemExit(2)
