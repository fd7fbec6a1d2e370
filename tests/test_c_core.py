"""Runs the C core's own test programs (csrc/tests/test_*.c) through make.

They link the core without Python, proving it is callable from C, and each
prints "N passed, N failed".
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CSRC = Path(__file__).resolve().parent.parent / "csrc"


@pytest.mark.skipif(not (CSRC / "Makefile").exists(), reason="csrc/ not present (installed package only)")
@pytest.mark.skipif(shutil.which("make") is None or shutil.which("cc") is None, reason="needs make and a C compiler")
def test_c_core_programs(tmp_path):
    env = dict(os.environ, BUILD=str(tmp_path / "build"))
    proc = subprocess.run(["make", "-s", "-C", str(CSRC), "test"], env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    results = re.findall(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.M)
    assert results, out[-4000:]
    assert all(int(failed) == 0 for _, failed in results), out[-4000:]
    assert sum(int(passed) for passed, _ in results) > 0
