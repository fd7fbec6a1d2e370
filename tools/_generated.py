"""The one way the tools/gen_*.py scripts write what they generate:
--stdout prints it, --check says whether the file on disk is current
(exit 1 when stale), and otherwise the file is written."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def arguments(description: str, argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    ap.add_argument("--stdout", action="store_true", help="print instead of writing")
    return ap.parse_args(argv)


def emit(args: argparse.Namespace, text: str, path: str, shown: str, command: str) -> int:
    """Prints, checks or writes text as path (shown: its name in the
    stale message; command: what regenerates it)."""
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = ""
        if current != text:
            print(f"{shown} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return 0
