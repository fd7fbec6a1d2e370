"""A small test-time PKI: roots, intermediates, leaves and CRLs minted with
`cryptography`, each knob a keyword so a test can name what it breaks.

    root = CA.root()
    inter = root.intermediate("Test Issuing CA")
    leaf = inter.leaf("api.example.com", not_after=days(-3))   # expired
    chain = leaf.pem + inter.pem

SHA-1 and MD5 signatures: `cryptography` refuses to make them, so the
certificate is signed with SHA-256 and then re-signed by the `openssl x509`
command line tool (`-sha1` / `-md5`, `-preserve_dates`).  Tests that need it
skip with a reason when the tool is missing.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

UTC = _dt.timezone.utc

EKU_OIDS = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
}

_DIGESTS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def now() -> _dt.datetime:
    return _dt.datetime.now(UTC).replace(microsecond=0)


def days(n: float) -> _dt.datetime:
    """now + n days (negative: in the past)."""
    return now() + _dt.timedelta(days=n)


def not_before_utc(cert: x509.Certificate) -> _dt.datetime:
    """cert.not_valid_before as an aware UTC datetime (cryptography >= 41)."""
    v = getattr(cert, "not_valid_before_utc", None)
    return v if v is not None else cert.not_valid_before.replace(tzinfo=UTC)


def not_after_utc(cert: x509.Certificate) -> _dt.datetime:
    v = getattr(cert, "not_valid_after_utc", None)
    return v if v is not None else cert.not_valid_after.replace(tzinfo=UTC)


def have_openssl_cli() -> bool:
    return shutil.which("openssl") is not None


def new_key(key_type: str = "ec", bits: Optional[int] = None):
    """ec (P-256), ec384, ec192 (a weak curve), rsa (bits, default 2048), ed25519."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "ec192":
        return ec.generate_private_key(ec.SECP192R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits or 2048)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key type {key_type!r}")


def _name(cn: Optional[str], org: Optional[str] = None) -> x509.Name:
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


@dataclass
class Issued:
    """A minted certificate and its private key."""

    cert: x509.Certificate
    key: object
    issuer: Optional["Issued"] = None

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> str:
        return _key_pem(self.key)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    def write(self, directory: Union[str, os.PathLike], name: str, *, with_key: bool = False) -> str:
        """Writes <name>.pem (and <name>.key) and returns the .pem path."""
        path = os.path.join(os.fspath(directory), name + ".pem")
        with open(path, "w") as f:
            f.write(self.pem)
        if with_key:
            with open(os.path.join(os.fspath(directory), name + ".key"), "w") as f:
                f.write(self.key_pem)
        return path


class CA(Issued):
    """An Issued that can issue: intermediates, leaves, CRLs."""

    @classmethod
    def root(cls, cn: str = "pytlscheck Test Root CA", **opts) -> "CA":
        opts.setdefault("is_ca", True)
        issued = mint(cn, None, **opts)
        return cls(issued.cert, issued.key, None)

    def intermediate(self, cn: str = "pytlscheck Test Issuing CA", **opts) -> "CA":
        opts.setdefault("is_ca", True)
        issued = mint(cn, self, **opts)
        return CA(issued.cert, issued.key, self)

    def leaf(self, *names: str, cn: Optional[str] = "", **opts) -> Issued:
        """A server leaf for DNS names / IP addresses given as strings."""
        dns, ips = [], []
        for n in names:
            try:
                ips.append(str(ipaddress.ip_address(n)))
            except ValueError:
                dns.append(n)
        opts.setdefault("dns_names", dns)
        opts.setdefault("ip_addresses", ips)
        opts.setdefault("eku", ["serverAuth"])
        if cn == "":
            cn = names[0] if names else "leaf"
        return mint(cn, self, **opts)

    def crl(self, revoked: Iterable[Union[Issued, "tuple[Issued, str]"]] = (), *,
            last_update: Optional[_dt.datetime] = None,
            next_update: Optional[_dt.datetime] = None,
            signer: Optional[Issued] = None, number: int = 1,
            delta_of: Optional[int] = None,
            idp: Optional[x509.IssuingDistributionPoint] = None,
            freshest: Optional[str] = None) -> str:
        """A CRL (PEM) revoking the given certificates (or (certificate,
        reason) pairs, reason a x509.ReasonFlags name such as
        "key_compromise").

        signer: who signs it, when not this CA (a separate CRL-signing
        certificate, the CA's new key after a rollover, the authority of an
        indirect CRL): its subject is the CRL's issuer and its key signs.
        A revoked certificate whose issuer is not the CRL's issuer gets a
        certificateIssuer entry extension (RFC 5280 section 5.3.3).
        number: the CRLNumber; delta_of: the base CRL's number, which makes
        it a delta CRL (DeltaCRLIndicator); idp: an IssuingDistributionPoint;
        freshest: a URL for a freshestCRL extension (where the delta CRLs
        are).
        """
        by = signer or self
        b = (x509.CertificateRevocationListBuilder()
             .issuer_name(by.cert.subject)
             .last_update(last_update or days(-1))
             .next_update(next_update or days(7)))
        entry_issuer = by.cert.subject
        for r in revoked:
            cert, reason = r if isinstance(r, tuple) else (r, None)
            e = (x509.RevokedCertificateBuilder()
                 .serial_number(cert.cert.serial_number)
                 .revocation_date(days(-1)))
            if reason is not None:
                e = e.add_extension(x509.CRLReason(x509.ReasonFlags[reason]), False)
            if cert.cert.issuer != entry_issuer:
                entry_issuer = cert.cert.issuer
                e = e.add_extension(x509.CertificateIssuer([x509.DirectoryName(entry_issuer)]), True)
            b = b.add_revoked_certificate(e.build())
        try:
            ski = by.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
        except x509.ExtensionNotFound:
            pass
        b = b.add_extension(x509.CRLNumber(number), False)
        if delta_of is not None:
            b = b.add_extension(x509.DeltaCRLIndicator(delta_of), True)
        if idp is not None:
            b = b.add_extension(idp, True)
        if freshest is not None:
            b = b.add_extension(x509.FreshestCRL([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(freshest)], None, None, None)]), False)
        crl = b.sign(by.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


def crl_dp(*urls: str, crl_issuer: Optional[Issued] = None,
           reasons: Optional[Sequence[str]] = None) -> x509.CRLDistributionPoints:
    """A cRLDistributionPoints extension (for mint's extra_extensions): one
    distribution point with these URLs, a cRLIssuer (an indirect CRL's
    authority) and reasons (x509.ReasonFlags names) when given."""
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(u) for u in urls] or None, None,
        frozenset(x509.ReasonFlags[r] for r in reasons) if reasons else None,
        [x509.DirectoryName(crl_issuer.cert.subject)] if crl_issuer else None)])


def idp(*urls: str, only_ca: bool = False, only_user: bool = False, indirect: bool = False,
        reasons: Optional[Sequence[str]] = None) -> x509.IssuingDistributionPoint:
    """An IssuingDistributionPoint (for CA.crl's idp): the CRL's scope."""
    return x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(u) for u in urls] or None,
        relative_name=None, only_contains_user_certs=only_user,
        only_contains_ca_certs=only_ca,
        only_some_reasons=frozenset(x509.ReasonFlags[r] for r in reasons) if reasons else None,
        indirect_crl=indirect, only_contains_attribute_certs=False)


def mint(cn: Optional[str], issuer: Optional[Issued], *,
         org: Optional[str] = None,
         key_type: str = "ec", bits: Optional[int] = None, key=None,
         digest: str = "sha256",
         not_before: Optional[_dt.datetime] = None,
         not_after: Optional[_dt.datetime] = None,
         dns_names: Sequence[str] = (), ip_addresses: Sequence[str] = (),
         email_addresses: Sequence[str] = (), extra_extensions: Sequence[x509.ExtensionType] = (),
         is_ca: bool = False, path_length: Optional[int] = None,
         basic_constraints: bool = True, bc_critical: bool = True,
         key_usage: Optional[Sequence[str]] = None,
         eku: Optional[Sequence[str]] = None,
         permitted_dns: Optional[Sequence[str]] = None,
         excluded_dns: Optional[Sequence[str]] = None,
         aia_ca_issuers: Optional[str] = None, ocsp_url: Optional[str] = None,
         serial: Optional[int] = None) -> Issued:
    """One certificate.  issuer=None: self-signed.

    key_usage: names among digitalSignature, keyEncipherment, keyCertSign,
    cRLSign, ...  (default: keyCertSign+cRLSign for CAs, digitalSignature
    for leaves; [] for none).  eku: names of EKU_OIDS or dotted OIDs (None:
    no EKU extension).  permitted_dns/excluded_dns: nameConstraints.
    extra_extensions: more extension values (an UnrecognizedExtension
    with ``_critical = True`` set on it is added as critical).
    """
    key = key or new_key(key_type, bits)
    subject = _name(cn, org)
    if issuer is None:
        issuer_name, signer, issuer_key_pub = subject, key, key.public_key()
    else:
        issuer_name, signer, issuer_key_pub = issuer.cert.subject, issuer.key, issuer.key.public_key()
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_name)
         .public_key(key.public_key())
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(not_before or days(-1 / 24))
         .not_valid_after(not_after or days(90)))
    if basic_constraints:
        b = b.add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None),
                            critical=bc_critical)
    if key_usage is None:
        key_usage = ["keyCertSign", "cRLSign"] if is_ca else ["digitalSignature"]
    if key_usage:
        ku = {n: False for n in ("digital_signature", "content_commitment", "key_encipherment",
                                 "data_encipherment", "key_agreement", "key_cert_sign",
                                 "crl_sign", "encipher_only", "decipher_only")}
        for n in key_usage:
            snake = "".join("_" + c.lower() if c.isupper() else c for c in n)
            snake = {"_c_r_l_sign": "crl_sign", "c_r_l_sign": "crl_sign"}.get(snake, snake)
            if snake not in ku:
                raise ValueError(f"unknown key usage {n!r}")
            ku[snake] = True
        b = b.add_extension(x509.KeyUsage(**ku), critical=True)
    if eku is not None:
        oids = [EKU_OIDS.get(e) or x509.ObjectIdentifier(e) for e in eku]
        b = b.add_extension(x509.ExtendedKeyUsage(oids), critical=False)
    sans: List[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
    sans += [x509.RFC822Name(e) for e in email_addresses]
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if permitted_dns is not None or excluded_dns is not None:
        b = b.add_extension(x509.NameConstraints(
            permitted_subtrees=[x509.DNSName(d) for d in permitted_dns] if permitted_dns else None,
            excluded_subtrees=[x509.DNSName(d) for d in excluded_dns] if excluded_dns else None),
            critical=True)
    access = []
    if aia_ca_issuers:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                             x509.UniformResourceIdentifier(aia_ca_issuers)))
    if ocsp_url:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                             x509.UniformResourceIdentifier(ocsp_url)))
    if access:
        b = b.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    for ext in extra_extensions:
        b = b.add_extension(ext, critical=getattr(ext, "_critical", False))
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key_pub),
                        critical=False)
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else \
        _DIGESTS.get(digest, hashes.SHA256)()
    cert = b.sign(signer, algorithm)
    if digest not in _DIGESTS:
        cert = _resign(cert, issuer, key, digest)
    return Issued(cert, key, issuer)


def _resign(cert: x509.Certificate, issuer: Optional[Issued], key, digest: str) -> x509.Certificate:
    """Re-signs with the openssl CLI (for digests cryptography refuses)."""
    if not have_openssl_cli():
        import pytest
        pytest.skip(f"signing with {digest} needs the openssl command line tool")
    with tempfile.TemporaryDirectory() as d:
        def w(name: str, data: str) -> str:
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(data)
            return p
        cert_path = w("in.pem", cert.public_bytes(serialization.Encoding.PEM).decode())
        out = os.path.join(d, "out.pem")
        if issuer is None:
            cmd = ["openssl", "x509", "-in", cert_path, "-signkey", w("k.pem", _key_pem(key)),
                   "-preserve_dates"]
        else:
            # openssl x509 -CA insists on a self-signed input: go through a
            # CSR carrying the same subject, key and extensions.
            csr = x509.CertificateSigningRequestBuilder().subject_name(cert.subject)
            for ext in cert.extensions:
                csr = csr.add_extension(ext.value, ext.critical)
            csr_pem = csr.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
            lifetime = max(1, (not_after_utc(cert) - now()).days)
            cmd = ["openssl", "x509", "-req", "-in", w("in.csr", csr_pem.decode()), "-CA",
                   w("ca.pem", issuer.cert.public_bytes(serialization.Encoding.PEM).decode()),
                   "-CAkey", w("ca.key", _key_pem(issuer.key)),
                   "-set_serial", str(cert.serial_number), "-days", str(lifetime),
                   "-copy_extensions", "copyall"]
        cmd += [f"-{digest}", "-out", out]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])} ... -{digest} failed: {done.stderr.strip()}")
        with open(out, "rb") as f:
            return x509.load_pem_x509_certificate(f.read())


def pem_of(*items: Issued) -> str:
    """The PEM bundle of several certificates, in the order given."""
    return "".join(i.pem for i in items)
