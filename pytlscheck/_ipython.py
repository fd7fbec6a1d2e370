"""``%load_ext pytlscheck``: IPython and Jupyter show a TLS failure's
diagnosis right under its traceback.

The handler is IPython's custom exception handler
(``InteractiveShell.set_custom_exc``) for every ``Exception``: it shows the
traceback exactly as IPython would, then, for a TLS failure only, displays
the :class:`~pytlscheck.Report` of :func:`pytlscheck.diagnose`, which a
notebook renders as HTML and a terminal IPython as text.  The cell still
counts as failed.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

from . import _defaults
from ._diagnose import HEADER, diagnose, is_tls_failure

__all__ = ["load", "unload"]


def _handler(shell: Any, etype: type, value: BaseException, tb: Any,
             tb_offset: Optional[int] = None) -> None:
    if issubclass(etype, SyntaxError):
        # run_cell also routes a cell that does not parse here
        shell.showsyntaxerror()
        return None
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    if not is_tls_failure(value):
        return None
    try:
        report = diagnose(value, timeout=_defaults.DIAGNOSE_TIMEOUT)
    except ValueError as e:
        print(f"{HEADER} none: {e}", file=sys.stderr)
        return None
    from IPython.display import display   # only ever run inside IPython

    display(report)
    return None


def load(shell: Any) -> None:
    shell.set_custom_exc((Exception,), _handler)


def unload(shell: Any) -> None:
    shell.set_custom_exc((), None)
