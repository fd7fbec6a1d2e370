"""Every example in docs/*.md runs as written, against the built-in lab
(issue 13 item 11).

What is an example: every fenced ```python block, and every ```console,
```sh, ```bash or ```shell block with a pytlscheck command in it (a line
whose command is `pytlscheck`, `python -m pytlscheck`, or `python -c` with
pytlscheck in it, also after `$ ` or a `|`).  Shell blocks of other tools
(building, fuzzing, the project's own test runs in security.md and
conformance.md) are developer procedures, not collected.  Unlabelled
fences are output or diagrams and are not run.

How each one runs, in a fresh temporary directory:
  - python: saved as example.py and run with sys.executable in a
    subprocess (so a Dask example without its `if __name__ == "__main__":`
    guard fails here as it does for a user); a block that defines
    `def test_...` functions is a test file and runs under pytest;
  - console (`$ ` lines): each command through bash, in order, in the same
    directory; lines after a command are its output, and those lines must
    appear in what it printed (whitespace-normalised);
  - sh/bash/shell without `$ `: the whole block as one bash script.

Marker conventions, HTML comments (invisible when rendered) on the lines
right before the opening fence:
  - `<!-- no-run: REASON -->`: not run; collected as a skipped test with
    that reason, so every exception is counted and shown (`pytest -rs`);
  - `<!-- exit: N -->` or `<!-- exit: N M ... -->`: the exit status the
    example documents, for the whole block or one per `$ ` command
    (default 0); e.g. a check of a broken lab endpoint exits 2.

The files the examples name stand for the reader's own: the directory holds
`endpoints.txt` (one target per line: every endpoint of a lab started by
this module, which the examples check), `corp-root.pem` and `lab-root.pem`
(that lab's root) and `fullchain.pem` (the chain the lab's healthy server
sends, issued for localhost).  Each example gets a test id `FILE.md:LINE`.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
TIMEOUT = 60

pytestmark = pytest.mark.skipif(not DOCS.is_dir(), reason="docs/ not present "
                                                          "(installed package only)")

SHELL_LANGS = {"console", "sh", "bash", "shell"}
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*(no-run|exit):\s*(.*?)\s*-->\s*$")
COMMAND = re.compile(
    r"(^|\|\s*|\$\s+)(pytlscheck\b|python3?\s+-m\s+pytlscheck\b|python3?\s+-c\s+.*pytlscheck)")


@dataclass
class Example:
    path: Path
    line: int                  # of the opening fence, 1-based
    lang: str
    code: str
    no_run: str | None = None
    exit: list[int] = field(default_factory=lambda: [0])

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def is_example(lang: str, code: str) -> bool:
    if lang == "python":
        return True
    if lang in SHELL_LANGS:
        return any(COMMAND.search(line.strip()) for line in code.splitlines())
    return False


def extract(path: Path) -> list[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        code = "\n".join(lines[start + 1:i]) + "\n"
        i += 1
        if not is_example(lang, code):
            continue
        ex = Example(path, start + 1, lang, code)
        j = start - 1
        while j >= 0 and (mm := MARKER.match(lines[j].strip())):
            if mm.group(1) == "no-run":
                ex.no_run = mm.group(2) or "(no reason given)"
            else:
                ex.exit = [int(n) for n in mm.group(2).split()]
            j -= 1
        found.append(ex)
    return found


EXAMPLES = [ex for md in sorted(DOCS.glob("*.md")) for ex in extract(md)]


def params():
    for ex in EXAMPLES:
        marks = [pytest.mark.skip(reason=f"{ex.id} no-run: {ex.no_run}")] if ex.no_run else []
        yield pytest.param(ex, id=ex.id, marks=marks)


@pytest.fixture(scope="module")
def lab_files(tmp_path_factory):
    """A lab for the module, and the files the examples name."""
    from pytlscheck.lab import Lab

    d = tmp_path_factory.mktemp("docs-files")
    with Lab() as lab:
        (d / "endpoints.txt").write_text("".join(ep.target + "\n" for ep in lab))
        shutil.copy(lab.root_pem_path, d / "corp-root.pem")
        shutil.copy(lab.root_pem_path, d / "lab-root.pem")
        shutil.copy(lab["healthy"].chain_path, d / "fullchain.pem")
        yield d


def env() -> dict[str, str]:
    e = dict(os.environ)
    # `python` and `pytlscheck` in shell examples: this interpreter's.
    e["PATH"] = os.path.dirname(sys.executable) + os.pathsep + e.get("PATH", "")
    e["COLUMNS"] = "100"
    e.pop("PYTEST_ADDOPTS", None)
    return e


def shell_commands(code: str) -> list[tuple[str, list[str]]]:
    """console text -> [(command, output lines)]; continuation lines
    ending in `\\` join the command."""
    cmds: list[tuple[str, list[str]]] = []
    lines = code.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1] + " " + lines[i]
            cmds.append((cmd, []))
        elif cmds and line.strip():
            cmds[-1][1].append(line)
        i += 1
    return cmds


def norm(s: str) -> str:
    return " ".join(s.split())


def run(argv: list[str], cwd: Path, shell: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv if not shell else argv[0], shell=shell, executable=(
        "/bin/bash" if shell else None), cwd=cwd, env=env(), capture_output=True,
        text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def explain(ex: Example, what: str, proc: subprocess.CompletedProcess[str]) -> str:
    return (f"{ex.id}: {what}\n--- code\n{ex.code}--- stdout\n{proc.stdout[-3000:]}"
            f"--- stderr\n{proc.stderr[-3000:]}")


@pytest.mark.parametrize("ex", list(params()))
def test_docs_example_runs_as_written(ex: Example, lab_files: Path, tmp_path: Path):
    for f in lab_files.iterdir():
        shutil.copy(f, tmp_path / f.name)
    if ex.lang == "python":
        if re.search(r"^def test_", ex.code, re.M):
            script = tmp_path / "test_example.py"
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
        else:
            script = tmp_path / "example.py"
            argv = [sys.executable, str(script)]
        script.write_text(ex.code, encoding="utf-8")
        proc = run(argv, tmp_path)
        assert proc.returncode == ex.exit[0], explain(ex, f"exit {proc.returncode}", proc)
        return
    if ex.lang == "console" or any(line.startswith("$ ") for line in ex.code.splitlines()):
        cmds = shell_commands(ex.code)
        assert cmds, f"{ex.id}: a console block without `$ ` commands"
    else:
        cmds = [(ex.code, [])]
    statuses = ex.exit if len(ex.exit) == len(cmds) else ex.exit[:1] * len(cmds)
    assert len(ex.exit) in (1, len(cmds)), f"{ex.id}: exit marker for {len(cmds)} commands"
    for (cmd, output), status in zip(cmds, statuses):
        proc = run([cmd], tmp_path, shell=True)
        assert proc.returncode == status, explain(ex, f"`{cmd}` exited {proc.returncode}, "
                                                      f"the doc says {status}", proc)
        printed = {norm(line) for line in (proc.stdout + proc.stderr).splitlines()}
        missing = [line for line in output if norm(line) not in printed]
        assert not missing, explain(ex, f"`{cmd}` did not print {missing}", proc)


#: The examples marked no-run, reviewed: adding one means adding it here.
#: Each by its file and its reason (a line number would move with every
#: edit above it).
NO_RUN = {
    ("cli.md", "the forms a target takes, with placeholder hosts"),
    ("cli.md", "needs kubectl and a cluster"),
    ("cli.md", "a transcript; the lab's port is a new one every run"),
    ("hostname.md", '`cert` stands for your certificate; the script under "See it by hand" '
                    "mints one and checks these names"),
    ("live.md", "needs your cert.pem and key.pem; each s_server runs until Ctrl-C"),
    ("many.md", "placeholder hosts, to show per-target options"),
    ("pytest.md", "a template for your own endpoints (placeholder hosts); pytest.md's lab "
                  "tests below run"),
    ("pytest.md", "a template for your own endpoint (placeholder host)"),
    ("quickstart.md", "a transcript; the lab runs until Ctrl-C and its ports are new every "
                      "run"),
    ("quickstart.md", "your own endpoints (placeholder hosts)"),
    ("quickstart.md", "a template for your own endpoint (placeholder host)"),
    ("starttls.md", "placeholder hosts"),
}


def test_every_example_is_found_and_the_exceptions_are_the_reviewed_ones():
    assert len(EXAMPLES) >= 30     # 31 today: 20 run, 11 no-run
    assert {(ex.id.split(":")[0], ex.no_run) for ex in EXAMPLES if ex.no_run} == NO_RUN
    assert all(ex.no_run.strip() for ex in EXAMPLES if ex.no_run)
