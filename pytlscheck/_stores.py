"""The named trust stores, in one place: which names ``trust=`` accepts
("system", "certifi"), where certifi's bundle is, and how a ``trust=``
input is named in words (check() and diagnose() both use these).

The stores themselves are built by the C core (api._trust_store); this
module only finds and names them.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Optional, Tuple

#: The names ``trust=`` accepts besides files, data and certificates.
STORE_NAMES = ("system", "certifi")

#: How to get certifi when ``trust="certifi"`` is asked for without it.
CERTIFI_INSTALL = "pip install 'pytlscheck[certifi]' (or pip install certifi)"


def names_phrase(conj: str = "or") -> str:
    """"'system' or 'certifi'", for error messages."""
    return f" {conj} ".join(repr(n) for n in STORE_NAMES)


def certifi_bundle() -> Optional[Tuple[str, str]]:
    """(path of certifi's cacert.pem, certifi's version) when certifi is
    installed and its bundle exists, else None.  certifi is not a client
    library: importing it loads no code beyond a path lookup."""
    mod: Any = sys.modules.get("certifi")
    if mod is None:
        try:
            import certifi as mod  # type: ignore[import-not-found,no-redef]
        except ImportError:
            return None
    try:
        path = mod.where()
    except Exception:
        return None
    if not isinstance(path, str) or not os.path.isfile(path):
        return None
    version = getattr(mod, "__version__", None)
    return path, version if isinstance(version, str) and version else "(version unknown)"


def certifi_path() -> Optional[str]:
    """certifi's bundle when certifi is installed, else None."""
    found = certifi_bundle()
    return found[0] if found is not None else None


def certifi_missing() -> str:
    """The error for trust="certifi" without certifi."""
    return ("trust='certifi' needs the certifi package (Mozilla's CA bundle), which is not "
            f"installed: {CERTIFI_INSTALL}")


def describe_input(trust: Any) -> Optional[str]:
    """In words, the store a ``trust=`` input names, when it names one
    (None, a store name, a path); None for data and certificates."""
    if trust is None or trust == "system":
        return "the system trust store"
    if trust == "certifi":
        found = certifi_bundle()
        return (f"certifi's CA bundle {found[1]} ({found[0]})" if found is not None
                else "certifi's CA bundle")
    if isinstance(trust, (str, os.PathLike)):
        return os.fspath(trust)
    return None
