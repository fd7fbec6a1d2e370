"""`python -m pytlscheck` in a source checkout after a plain `pip install .`
imports the checkout's pytlscheck/ folder, which has no compiled core: it
says so in one line (and what to do) and exits 2, instead of a bare
ModuleNotFoundError (issue 13 item 10).

The copies run with `python -S`: this venv's editable install adds an
import hook that would find the real `_core` for any folder named
pytlscheck; without site-packages the copy is all Python can see, exactly
as a checkout shadowing a non-editable install is."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pytlscheck

PACKAGE = Path(pytlscheck.__file__).resolve().parent


def copy_without_core(dest: Path) -> Path:
    pkg = dest / "pytlscheck"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns(
        "_core*.so", "_core*.pyd", "__pycache__"))
    assert not list(pkg.glob("_core*.so"))
    return pkg


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_python_m_in_a_source_checkout_says_the_folder_shadows_the_install(tmp_path):
    pkg = copy_without_core(tmp_path)
    (tmp_path / "setup.py").write_text("# the marker of a source checkout\n")
    proc = run(tmp_path, "-m", "pytlscheck", "--version")
    assert proc.returncode == 2, proc
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr               # one line, no traceback
    line = lines[0]
    assert "Traceback" not in proc.stderr and "ModuleNotFoundError" not in proc.stderr
    assert f"the compiled core (pytlscheck._core) is missing from the pytlscheck " \
           f"package being imported, {pkg}" in line
    assert "source checkout" in line and "hides any installed pytlscheck" in line
    assert "Run from another directory" in line and "`pip install -e .`" in line
    assert "builds the core in place" in line


def test_import_in_a_source_checkout_raises_importerror_with_the_same_words(tmp_path):
    pkg = copy_without_core(tmp_path)
    (tmp_path / "csrc").mkdir()                       # the other checkout marker
    proc = run(tmp_path, "-c", "import pytlscheck")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: pytlscheck: the compiled core (pytlscheck._core) "
                           f"is missing from the pytlscheck package being imported, {pkg}")
    assert "`pip install -e .`" in last
    assert "ModuleNotFoundError" not in proc.stderr    # `from None`: no chained bare error


def test_an_installed_package_without_its_core_says_reinstall(tmp_path):
    site = tmp_path / "site-packages"
    pkg = copy_without_core(site)
    proc = run(site, "-m", "pytlscheck", "--version")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert f"missing from the pytlscheck package being imported, {pkg}" in proc.stderr
    assert "source checkout" not in proc.stderr
    assert "pip install --force-reinstall pytlscheck" in proc.stderr


@pytest.mark.parametrize("module", ["pytlscheck", "pytlscheck.__main__"])
def test_with_the_core_python_m_still_works(module):
    proc = subprocess.run([sys.executable, "-m", module, "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("pytlscheck ")
