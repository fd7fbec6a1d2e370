"""Shared fixtures: a test PKI minted once per session (tests/pki.py)."""
import pytest

from pki import CA


@pytest.fixture(scope="session")
def root() -> CA:
    """A self-signed root CA (EC P-256)."""
    return CA.root("pytlscheck Test Root CA")


@pytest.fixture(scope="session")
def inter(root: CA) -> CA:
    """An intermediate CA issued by `root`."""
    return root.intermediate("pytlscheck Test Issuing CA")


@pytest.fixture(scope="session")
def other_root() -> CA:
    """A second, unrelated root: trusting it trusts nothing of `root`'s."""
    return CA.root("Unrelated Root CA")
