"""OCSPResponse: the OCSP response a server stapled, as the core judged it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional

from .certificate import iso

__all__ = ["OCSPResponse"]


def _when(seconds: Optional[int]) -> Optional[datetime]:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(frozen=True)
class OCSPResponse:
    """The OCSP response the server stapled in the handshake (``Report.ocsp``),
    read and verified by the C core against the leaf's issuer.

    ``status`` is what the responder says about the leaf: ``"good"``,
    ``"revoked"`` or ``"unknown"`` (it does not know the certificate); None
    when the staple says nothing usable about the leaf (it cannot be read,
    is a responder's error answer, or is about another certificate).
    ``verified`` is True when the response is for the leaf, signed by the
    leaf's issuer or a responder that issuer authorised (OCSPSigning), and
    current (its ``next_update`` has not passed); ``error`` says in words
    why not, else None.  ``this_update`` / ``next_update`` bound the
    response's validity, ``revoked_at`` and ``reason`` (a CRLReason name
    such as ``"keyCompromise"``) are set for a revoked certificate; times
    are timezone-aware UTC datetimes, or None when absent.
    """

    status: Optional[str]
    verified: bool
    this_update: Optional[datetime]
    next_update: Optional[datetime]
    revoked_at: Optional[datetime]
    reason: Optional[str]
    error: Optional[str]

    @classmethod
    def _from_core(cls, data: Optional[Mapping[str, Any]]) -> Optional["OCSPResponse"]:
        if data is None:
            return None
        return cls(status=data["status"], verified=bool(data["verified"]),
                   this_update=_when(data["this_update"]),
                   next_update=_when(data["next_update"]),
                   revoked_at=_when(data["revoked_at"]), reason=data["reason"],
                   error=data["error"])

    def to_dict(self) -> Dict[str, Any]:
        return {
            "status": self.status,
            "verified": self.verified,
            "this_update": iso(self.this_update),
            "next_update": iso(self.next_update),
            "revoked_at": iso(self.revoked_at),
            "reason": self.reason,
            "error": self.error,
        }
