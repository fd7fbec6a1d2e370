/*
 * kinds.h - THE table of problem kinds.  An X-macro: include it with
 * TC_KIND defined.  The C enum (tlscheck.h), tc_kind_get() (kinds.c), the
 * Python kinds and exceptions, and docs/kinds.md all come from it; a test
 * proves the Python side matches.
 *
 * Rows are in "most fundamental first" order: a report lists problems in
 * this order (then by depth), so the first one is what to fix first.
 *
 * Columns:
 *   id        C enum suffix (TC_KIND_<id>)
 *   name      the stable kind string every surface uses
 *   sev       TC_SEV_ERROR or TC_SEV_WARNING
 *   exc       the Python exception class raised for it
 *   cat       its family: TC_CAT_CERTIFICATE, TC_CAT_CONNECTION or
 *             TC_CAT_HANDSHAKE (the Python exception's base class)
 *   breaks    1 when it says the path itself does not hold (no anchor, a
 *             CA that may not issue, a constraint broken, a revocation):
 *             the report then has no verified chain
 *   cause     its typical cause (docs/kinds.md)
 *   message   one sentence: what is wrong and why it matters
 *   fix       what to do about it
 *   see_file  openssl command that shows it by hand for a chain file
 *   see_live  openssl command that shows it by hand for an endpoint
 *
 * Template variables (tc_render_vars): {cert} {subject} {issuer}
 * {not_before} {not_after} {days} {hostname} {detail} {target} {sni}
 * {trust} {leaf_file} {chain_file} {starttls}.  {detail} is a kind-specific fragment
 * computed by the checker; {leaf_file} and {chain_file} are "leaf.pem" and
 * "chain.pem", or the caller's chain file (shell-quoted) when it gave one.
 * {days} is a phrase with its unit ("1 day", "12 days", "less than a day"),
 * as tc_cert_vars_fill() writes it, so templates say "{days} ago".
 */

/* Every s_client command against a live server can block (a server that
 * accepts and never speaks keeps it waiting forever), so each one is given
 * with a time limit: this prefix is the one place that says so.  It also
 * carries {starttls} ("-starttls smtp" after a STARTTLS check, else
 * nothing), so every live command speaks the same preamble the check did. */
#ifndef TC_SEE_SCLIENT
#define TC_SEE_SCLIENT "timeout 10 openssl s_client {starttls}"
#endif

/* The {detail} words of untrusted_root, self_signed and unknown_root when
 * the root missing from the store is in the other named list
 * (tc_trust_elsewhere): the system store and Mozilla's (certifi). */
#ifndef TC_WORDS_ONLY_MOZILLA
#define TC_WORDS_ONLY_MOZILLA "trusted by current browsers (Mozilla's list) but missing from this machine's bundle, which is probably outdated: update ca-certificates"
#define TC_WORDS_ONLY_SYSTEM "trusted by this machine's store but not by Mozilla's current list: Mozilla removed or distrusted it, or it is a private CA added to this machine"
#define TC_WORDS_THIS_ROOT " This root is "
#define TC_WORDS_ITS_ISSUER "; here the issuer is a root "
/* The fix those words call for, before the kind's own ({remedy}). */
#define TC_REMEDY_ONLY_MOZILLA "Update this machine's CA bundle (Debian and Ubuntu: apt-get install --only-upgrade ca-certificates; RHEL and Fedora: dnf upgrade ca-certificates; in a container, rebuild it on a current base image), or check against Mozilla's current list with trust='certifi' / --trust certifi. Otherwise: "
#define TC_REMEDY_ONLY_SYSTEM "If this machine's store holds that root on purpose (a private CA added here), give it to every client that must trust the server (trust='system' here, or the root's file); if Mozilla removed or distrusted it, move to a certificate from a CA on Mozilla's current list. Otherwise: "
#endif

/* ---- could not reach a TLS server at all -------------------------- */
TC_KIND(DNS_FAILURE, "dns_failure", TC_SEV_ERROR, "DNSLookupFailed",
    TC_CAT_CONNECTION, 0,
    "A typo in the host name, a missing DNS record, or a resolver that does not know an internal name.",
    "The name {hostname} could not be resolved to an address: {detail}.",
    "Check the spelling of the host name and that it has an A or AAAA record in DNS (dig +short {hostname}); from inside a private network, check that you use the resolver that knows it.",
    "",
    "getent ahosts {hostname}")
TC_KIND(CONNECTION_REFUSED, "connection_refused", TC_SEV_ERROR, "ConnectionRefused",
    TC_CAT_CONNECTION, 0,
    "The server process is down, listens on another port or address, or a firewall rejects the connection.",
    "Nothing is listening on {target}: the host answered the TCP connection attempt with a refusal ({detail}).",
    "Check the port number and that the server process is running and bound to this address (ss -ltnp on the server); a firewall that rejects rather than drops the connection gives the same answer.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(CONNECTION_TIMEOUT, "connection_timeout", TC_SEV_ERROR, "ConnectionTimedOut",
    TC_CAT_CONNECTION, 0,
    "A firewall or security group silently drops the packets, or the host is down or unreachable.",
    "No TCP connection to {target} could be made before the deadline: {detail}.",
    "A firewall or security group is probably dropping packets to this port, or the host is down; check the route and the rules between you and {target}, or raise the timeout if the network is just slow.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(CONNECTION_RESET, "connection_reset", TC_SEV_ERROR, "ConnectionReset",
    TC_CAT_CONNECTION, 0,
    "A TLS listener with no certificate for the requested name, a crashing server, or a middlebox that kills TLS.",
    "The server at {target} accepted the TCP connection and then closed or reset it during the TLS handshake ({detail}).",
    "Look at the server's error log at the time of the check: it usually means the TLS listener is misconfigured (no certificate loaded, an SNI name it does not serve) or a middlebox that drops TLS.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -state -debug </dev/null")
TC_KIND(STARTTLS_PROTOCOL_MISMATCH, "starttls_protocol_mismatch", TC_SEV_ERROR, "StartTLSProtocolMismatch",
    TC_CAT_HANDSHAKE, 0,
    "Another service on the port (HTTP, a database, implicit TLS as on 465 or 993), the wrong STARTTLS protocol chosen for it, or a hung server that accepts and never greets.",
    "The server at {target} did not speak the plaintext protocol expected before STARTTLS: {detail}.",
    "Check which service listens on this port (ss -ltnp on the server) and which protocol to check it with (starttls=..., --starttls PROTO); a port that serves TLS from the first byte (465, 993, 995, 636) is checked with starttls=False (--starttls none).",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(STARTTLS_UNAVAILABLE, "starttls_unavailable", TC_SEV_ERROR, "StartTLSUnavailable",
    TC_CAT_HANDSHAKE, 0,
    "TLS is not configured on the server (Postfix: smtpd_tls_security_level = none; PostgreSQL: ssl = off; Dovecot: ssl = no; slapd without olcTLSCertificateFile), or a middlebox strips STARTTLS from what the server offers.",
    "The server at {target} does not offer an upgrade to TLS: {detail}. Clients either refuse to go on or send everything, passwords included, in plain text.",
    "Configure a certificate and key on the server and turn TLS on (Postfix: smtpd_tls_cert_file, smtpd_tls_key_file, smtpd_tls_security_level = may; PostgreSQL: ssl = on; Dovecot: ssl = yes); if the server offers it and this check does not see it, a firewall or proxy in between removes it (a downgrade attack): check it from another network.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(STARTTLS_REFUSED, "starttls_refused", TC_SEV_ERROR, "StartTLSRefused",
    TC_CAT_HANDSHAKE, 0,
    "The server offers TLS but cannot start it (no certificate or key it can read, a broken TLS configuration), or refuses this client (a session limit, an access rule).",
    "The server at {target} refused to start TLS: {detail}.",
    "Read the server's log at the time of the check: a server that offers STARTTLS and refuses it usually cannot load its certificate or key (permissions, a wrong path); an access rule or a connection limit gives a refusal too.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(NOT_TLS, "not_tls", TC_SEV_ERROR, "NotTLS",
    TC_CAT_HANDSHAKE, 0,
    "The port serves plain HTTP (or SSH, SMTP, ...) instead of TLS: TLS was never configured on this listener.",
    "The server at {target} does not speak TLS on this port: {detail}.",
    "Configure TLS on this listener (for nginx: listen 443 ssl; with ssl_certificate and ssl_certificate_key), or connect to the port that serves TLS; plain HTTP on a TLS port is the classic cause of SSL_ERROR_RX_RECORD_TOO_LONG.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(PROTOCOL_MISMATCH, "protocol_mismatch", TC_SEV_ERROR, "ProtocolVersionMismatch",
    TC_CAT_HANDSHAKE, 0,
    "An old server that only speaks TLS 1.0 or 1.1, which modern clients no longer offer.",
    "The server at {target} and this client have no TLS version in common: {detail}.",
    "Enable TLS 1.2 and TLS 1.3 on the server (nginx: ssl_protocols TLSv1.2 TLSv1.3;) and retire TLS 1.0 and 1.1, which modern clients refuse (RFC 8996).",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -tls1_2 </dev/null")
TC_KIND(NO_SHARED_CIPHER, "no_shared_cipher", TC_SEV_ERROR, "NoSharedCipher",
    TC_CAT_HANDSHAKE, 0,
    "A server restricted to obsolete cipher suites (RC4, 3DES, CBC-only, export) or a mis-typed cipher list.",
    "The server at {target} and this client have no cipher suite in common: {detail}.",
    "Enable modern AEAD suites on the server (TLS 1.3 suites, and for TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305; nginx: ssl_ciphers and ssl_protocols).",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -cipher 'ECDHE+AESGCM' </dev/null")
TC_KIND(CLIENT_CERTIFICATE_REQUIRED, "client_certificate_required", TC_SEV_ERROR, "ClientCertificateRequired",
    TC_CAT_HANDSHAKE, 0,
    "A mutual-TLS endpoint called without the client certificate it requires.",
    "The server at {target} requires a client certificate (mutual TLS) and the handshake was refused without one{detail}.",
    "Pass the client certificate and key issued for this service (check(..., client_cert=..., client_key=...), or --client-cert/--client-key); if this endpoint should be public, turn off client verification on the server.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -cert client.pem -key client.key </dev/null")
TC_KIND(HANDSHAKE_TIMEOUT, "handshake_timeout", TC_SEV_ERROR, "HandshakeTimedOut",
    TC_CAT_HANDSHAKE, 0,
    "A hung server process, or a service that waits for the client to speak another protocol first.",
    "The server at {target} accepted the TCP connection but did not complete the TLS handshake before the deadline: {detail}.",
    "The process behind the port may be hung or may be waiting for the client to speak a different protocol first; check the server and any proxy in front of it.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -state </dev/null")
TC_KIND(HANDSHAKE_FAILURE, "handshake_failure", TC_SEV_ERROR, "HandshakeFailed",
    TC_CAT_HANDSHAKE, 0,
    "Server and client disagree on an extension, curve, signature algorithm or SNI name; the alert says which.",
    "The TLS handshake with {target} failed: {detail}.",
    "Read the alert named here and the server's TLS error log; compare the server's TLS settings (versions, ciphers, curves, SNI names) with what modern clients offer.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -state </dev/null")

/* ---- the certificates themselves --------------------------------- */
TC_KIND(MALFORMED_CERTIFICATE, "malformed_certificate", TC_SEV_ERROR, "MalformedCertificate",
    TC_CAT_CERTIFICATE, 0,
    "A truncated or hand-edited certificate file, or a broken certificate generator.",
    "{cert} is not a well-formed X.509 certificate: {detail}.",
    "Re-issue the certificate with a standard CA tool; a hand-edited or truncated certificate file, or one produced by a broken generator, causes this.",
    "openssl x509 -noout -text -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(CHAIN_TOO_LARGE, "chain_too_large", TC_SEV_ERROR, "ChainTooLarge",
    TC_CAT_CERTIFICATE, 0,
    "Certificates repeated in the served chain file (a renewal script that appends instead of replacing), a chain padded with unrelated certificates, or a leaf with thousands of names.",
    "The certificate chain is too large for most clients: {detail}. Clients built on OpenSSL (Python's ssl, requests, curl, openssl s_client) refuse a Certificate message over 102,400 bytes, their default limit, with \"excessive message size\".",
    "Serve only the leaf and the intermediates it needs, each once (certbot: fullchain.pem); split a certificate with thousands of names into several certificates.",
    "openssl crl2pkcs7 -nocrl -certfile {chain_file} -outform DER | wc -c",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null")
TC_KIND(LEAF_NOT_FIRST, "leaf_not_first", TC_SEV_ERROR, "LeafNotFirst",
    TC_CAT_CERTIFICATE, 0,
    "The chain file was assembled in the wrong order (the intermediate pasted before the server's own certificate), or the certificate and chain files were swapped in the server's configuration.",
    "The chain does not start with the server's own certificate: {detail}. Every client takes the first certificate sent as the server's, so it checks the host name and the purpose against a CA certificate and refuses the connection.",
    "Put the server's own certificate first and each issuer after what it signed: cat cert.pem intermediate.pem > fullchain.pem (nginx: ssl_certificate fullchain.pem;).",
    "openssl crl2pkcs7 -nocrl -certfile {chain_file} | openssl pkcs7 -print_certs -noout",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:|^ *i:'")
TC_KIND(INCOMPLETE_CHAIN, "incomplete_chain", TC_SEV_ERROR, "IncompleteChain",
    TC_CAT_CERTIFICATE, 1,
    "The server sends only its own certificate (cert.pem instead of fullchain.pem), so clients cannot reach a trusted root.",
    "The chain is incomplete: the issuer of {cert}, {issuer}, was not sent and is not one of the trust anchors, so no path to a trusted root can be built{detail}.",
    "{remedy}Serve the full chain: the leaf followed by every intermediate (with certbot use fullchain.pem, not cert.pem; nginx: ssl_certificate fullchain.pem;).",
    "openssl verify -show_chain -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(UNTRUSTED_ROOT, "untrusted_root", TC_SEV_ERROR, "UntrustedRoot",
    TC_CAT_CERTIFICATE, 1,
    "A private or corporate CA that this client was not told to trust, or a chain that leads to the wrong root.",
    "The chain ends in the root {subject}, which is not in {trust}: clients that do not already trust this CA will refuse the connection.{detail}",
    "{remedy}Use a certificate from a publicly trusted CA, or, for a private CA, distribute its root to every client and pass it explicitly (trust='root.pem' / --trust root.pem).",
    "openssl verify -show_chain -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(UNKNOWN_ROOT, "unknown_root", TC_SEV_ERROR, "UnknownRoot",
    TC_CAT_CERTIFICATE, 1,
    "A private or corporate CA whose root this client was not told to trust; less often, a second intermediate the server does not send.",
    "The chain the server sent ends in {cert}, a CA certificate whose issuer, {issuer}, is not in {trust}: most likely {issuer} is a private root this client does not trust (the chain itself is then complete), or else a second intermediate that was not sent{detail}.",
    "{remedy}For a private CA, pass its root explicitly (trust='root.pem' / --trust root.pem) and distribute it to every client. To tell the two apart, look at the issuer's certificate: a root's subject and issuer are the same (openssl x509 -noout -subject -issuer -in issuer.pem); if they differ it is an intermediate, and the server must send it after {subject}.",
    "openssl x509 -noout -subject -issuer -in issuer.pem",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9] s:|^ *i:'")
TC_KIND(SELF_SIGNED, "self_signed", TC_SEV_ERROR, "SelfSignedCertificate",
    TC_CAT_CERTIFICATE, 1,
    "A default or test certificate generated on the server was left in place.",
    "{cert} is self-signed: it vouches for itself, and it is not among {trust}.{detail}",
    "{remedy}Replace it with a certificate issued by a trusted CA (for a public name, Let's Encrypt or your provider's managed certificates); for a private service, issue it from a private CA and pass that CA's root with trust=.",
    "openssl x509 -noout -subject -issuer -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer")
TC_KIND(INVALID_CA, "invalid_ca", TC_SEV_ERROR, "InvalidCA",
    TC_CAT_CERTIFICATE, 1,
    "A leaf certificate used to sign others, an intermediate without CA:TRUE or keyCertSign, or a chain served out of order.",
    "{cert} is used to sign another certificate but is not allowed to act as a CA: {detail}.",
    "Issue certificates only from a CA certificate with basicConstraints CA:TRUE (critical) and keyUsage keyCertSign; if the order of the served chain is wrong, serve the leaf first, then its issuer.",
    "openssl x509 -noout -ext basicConstraints,keyUsage -in intermediate.pem",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(PATH_LENGTH_EXCEEDED, "path_length_exceeded", TC_SEV_ERROR, "PathLengthExceeded",
    TC_CAT_CERTIFICATE, 1,
    "More intermediates below a CA than its pathLenConstraint allows.",
    "The chain is longer than {cert} allows: {detail}.",
    "Issue the leaf from a CA whose pathLenConstraint allows the intermediates below it, or shorten the chain.",
    "openssl x509 -noout -ext basicConstraints -in intermediate.pem",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(NAME_CONSTRAINTS_VIOLATION, "name_constraints_violation", TC_SEV_ERROR, "NameConstraintsViolation",
    TC_CAT_CERTIFICATE, 1,
    "A constrained (e.g. corporate) CA issued a certificate for a name outside its permitted namespace.",
    "{cert} carries a name outside what its CA is allowed to issue for: {detail}.",
    "Issue the certificate only for names inside the CA's permitted subtrees (and outside its excluded ones), or use a CA without that constraint.",
    "openssl x509 -noout -ext nameConstraints -in intermediate.pem",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(INVALID_POLICY, "invalid_policy", TC_SEV_ERROR, "InvalidPolicy",
    TC_CAT_CERTIFICATE, 1,
    "An enterprise or government CA that requires an explicit certificate policy (policyConstraints requireExplicitPolicy) above certificates that do not assert it, a policy mapping that inhibitPolicyMapping forbids, or anyPolicy where inhibitAnyPolicy forbids it.",
    "No certificate policy is valid for the whole path, because of {cert}: {detail}.",
    "Issue the certificates below that CA with a policy it accepts (certificatePolicies with the same OID, or one its policyMappings map to it); if the CA's policyConstraints or inhibitAnyPolicy is stricter than your PKI means it to be, re-issue the CA certificate.",
    "openssl verify -policy_check -explicit_policy -policy_print -x509_strict -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(REVOKED, "revoked", TC_SEV_ERROR, "CertificateRevoked",
    TC_CAT_CERTIFICATE, 1,
    "The CA revoked the certificate, usually after a key compromise or mis-issuance.",
    "{cert} has been revoked by its issuer{detail}: its CA says it must no longer be trusted.",
    "Replace the certificate now with a newly issued one and a new private key (revocation usually means the old key was exposed or the certificate was mis-issued).",
    "openssl verify -crl_check -CRLfile crl.pem -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -status </dev/null")
TC_KIND(EXPIRED, "expired", TC_SEV_ERROR, "CertificateExpired",
    TC_CAT_CERTIFICATE, 0,
    "Renewal failed or was never automated, or the renewed certificate was not deployed to every server.",
    "{cert} expired on {not_after}, {days} ago: clients reject it.",
    "Renew the certificate and install the new one on every server that serves it; automate renewal (certbot, ACME, or your provider's managed certificates) and alert when fewer than 30 days remain.",
    "openssl x509 -noout -dates -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -dates")
TC_KIND(NOT_YET_VALID, "not_yet_valid", TC_SEV_ERROR, "CertificateNotYetValid",
    TC_CAT_CERTIFICATE, 0,
    "A wrong clock on the issuing machine or on the client, or a certificate issued with a future start date.",
    "{cert} is not valid until {not_before}, {days} from now: clients reject it until then.",
    "Check the clock of the machine that issued it and of this one (timedatectl); if it was issued with a future start date by mistake, re-issue it starting now.",
    "openssl x509 -noout -dates -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -dates")
TC_KIND(HOSTNAME_MISMATCH, "hostname_mismatch", TC_SEV_ERROR, "HostnameMismatch",
    TC_CAT_CERTIFICATE, 0,
    "The certificate was issued for another name (a missing SAN, an alias, internal vs public name, a wildcard one level too shallow).",
    "{cert} is not valid for {hostname}: {detail}.",
    "Re-issue the certificate with {hostname} in its Subject Alternative Names, or check that you are calling the right name (an alias, or an internal name instead of the public one).",
    "openssl x509 -noout -ext subjectAltName -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName")
TC_KIND(INVALID_PURPOSE, "invalid_purpose", TC_SEV_ERROR, "InvalidPurpose",
    TC_CAT_CERTIFICATE, 0,
    "A CA certificate served as the leaf, or a certificate issued for another use (client auth, code signing, e-mail).",
    "{cert} may not be used for this purpose: {detail}.",
    "Issue a leaf certificate (CA:FALSE) whose extendedKeyUsage includes the purpose needed (serverAuth for a TLS server, clientAuth for a TLS client) and whose keyUsage allows digitalSignature.",
    "openssl x509 -noout -ext basicConstraints,keyUsage,extendedKeyUsage -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -ext basicConstraints,keyUsage,extendedKeyUsage")
TC_KIND(WEAK_SIGNATURE, "weak_signature", TC_SEV_ERROR, "WeakSignature",
    TC_CAT_CERTIFICATE, 0,
    "A certificate issued long ago, or by an old internal CA, signed with SHA-1 or MD5.",
    "{cert} is signed with {detail}, a broken hash algorithm: signatures like it can be forged and clients reject them.",
    "Re-issue the certificate signed with SHA-256 or stronger.",
    "openssl x509 -noout -text -in {leaf_file} | grep 'Signature Algorithm'",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -text | grep 'Signature Algorithm'")
TC_KIND(WEAK_KEY, "weak_key", TC_SEV_ERROR, "WeakKey",
    TC_CAT_CERTIFICATE, 0,
    "An old key (RSA 1024 bits) or a small curve, generated before today's minimums.",
    "{cert} has a {detail} key, which modern TLS clients refuse: it is too small, or of a type they no longer accept.",
    "Generate a new key of at least RSA 2048 bits or ECDSA P-256 and re-issue the certificate for it.",
    "openssl x509 -noout -text -in {leaf_file} | grep 'Public-Key'",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -text | grep 'Public-Key'")
TC_KIND(CHAIN_INVALID, "chain_invalid", TC_SEV_ERROR, "ChainInvalid",
    TC_CAT_CERTIFICATE, 0,
    "A certificate breaks an X.509 rule OpenSSL checks (bad signature, bad extension, unsupported critical extension, ...).",
    "The chain failed validation at {cert}: {detail}.",
    "Inspect the chain with the command shown and re-issue the certificate that breaks the rule.",
    "openssl verify -x509_strict -show_chain -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")

/* ---- warnings: works today, needs attention ---------------------- */
TC_KIND(EXPIRES_SOON, "expires_soon", TC_SEV_WARNING, "CertificateExpiresSoon",
    TC_CAT_CERTIFICATE, 0,
    "Renewal is not automated, or automated renewal has been failing silently.",
    "{cert} expires on {not_after}, in {days}{detail}.",
    "Renew it now and install the new certificate; then automate renewal so this warning becomes rare.",
    "openssl x509 -noout -enddate -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -enddate")
TC_KIND(PROFILE_DEVIATION, "profile_deviation", TC_SEV_WARNING, "ProfileDeviation",
    TC_CAT_CERTIFICATE, 0,
    "A CA built to RFC 3280 or an older tool (easy-rsa, an old corporate CA, a test CA) that encodes something the way RFC 5280 tells issuers not to.",
    "{cert} breaks a rule RFC 5280 sets for the CA that issued it: {detail}.",
    "Nothing to change on this server for most clients; when the CA is next re-issued, issue it to RFC 5280 (ask whoever runs the CA, or use a current CA tool).",
    "openssl x509 -noout -text -in {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null")
TC_KIND(REVOCATION_NOT_CHECKED, "revocation_not_checked", TC_SEV_WARNING, "RevocationNotChecked",
    TC_CAT_CERTIFICATE, 0,
    "CRLs given for part of the chain only (the leaf's issuer's and not the root's, or the other way round), a CRL whose scope (issuingDistributionPoint, onlySomeReasons) leaves the certificate out, or an indirect CRL or one signed by a separate key given without its signer's certificate.",
    "{cert} was not checked for revocation, although CRLs were given: {detail}. Revocation was checked wherever a CRL given covers a certificate; this one may be revoked without this check knowing it.",
    "Download the CRL named here from its distribution point and pass it in crls=, with the certificate of its signer when that is neither in the chain nor the trust store (in the same PEM file or list); a CRL signer's certificate is used only to check its CRL, never to build the path.",
    "openssl verify -crl_check_all -extended_crl -use_deltas -CRLfile crls.pem -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | openssl x509 -noout -ext crlDistributionPoints")
TC_KIND(OCSP_STAPLE_INVALID, "ocsp_staple_invalid", TC_SEV_WARNING, "OCSPStapleInvalid",
    TC_CAT_HANDSHAKE, 0,
    "A stapling cache that is no longer refreshed (the server cannot reach the CA's OCSP responder, or a stapling file is updated by hand), a response kept from the certificate before a renewal, or one from another CA's responder.",
    "The OCSP response that the server at {target} staples for {cert} cannot be relied on: {detail}. A client that checks stapled responses throws it away, and one that requires it (a certificate with OCSP Must-Staple) refuses the connection.",
    "Make the server staple a fresh response from the OCSP responder of the CA that issued the certificate it serves now (nginx: ssl_stapling on; ssl_stapling_verify on; ssl_trusted_certificate with the issuer's chain; the server must reach the responder), or turn stapling off rather than staple this one. To compare, ask the responder yourself: openssl ocsp -issuer issuer.pem -cert leaf.pem -url URL -resp_text, with the certificate's OCSP URL.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -status </dev/null 2>/dev/null | sed -n '/OCSP response:/,/^=====/p'")
TC_KIND(LEGACY_PROTOCOL, "legacy_protocol", TC_SEV_WARNING, "LegacyProtocolAccepted",
    TC_CAT_HANDSHAKE, 0,
    "An old default configuration (ssl_protocols or SSLProtocol left at a value from before 2020), or a server kept open for very old clients.",
    "The server at {target} still accepts {detail}: versions deprecated by RFC 8996 in 2021, with no modern cipher suites and known weaknesses (BEAST, SHA-1 in the handshake). Modern clients refuse them, so only a downgraded or very old client would use them.",
    "Allow TLS 1.2 and TLS 1.3 only (nginx: ssl_protocols TLSv1.2 TLSv1.3; Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3; HAProxy: ssl-min-ver TLSv1.2).",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -tls1 -cipher DEFAULT@SECLEVEL=0 </dev/null")
TC_KIND(WEAK_CIPHER, "weak_cipher", TC_SEV_WARNING, "WeakCipherAccepted",
    TC_CAT_HANDSHAKE, 0,
    "A cipher list written by hand long ago (ALL, or one that names eNULL, aNULL, RC4 or 3DES), or a server built for very old clients.",
    "The server at {target} accepts cipher suites no client should use: {detail}. A client that offers one of them (an old or misconfigured one, or one an attacker downgraded) gets a connection that protects little or nothing.",
    "Offer only AEAD suites with forward secrecy (nginx: ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20; Apache: SSLCipherSuite the same), and remove NULL, anonymous, EXPORT, RC4, DES and 3DES suites from the list.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -tls1_2 -cipher 'eNULL:aNULL:RC4:DES:3DES:EXPORT@SECLEVEL=0' </dev/null")
TC_KIND(NO_FORWARD_SECRECY, "no_forward_secrecy", TC_SEV_WARNING, "NoForwardSecrecy",
    TC_CAT_HANDSHAKE, 0,
    "A cipher list that still includes static-RSA key exchange suites (AES128-SHA, AES256-GCM-SHA384 and the like) for old clients.",
    "The server at {target} accepts TLS 1.2 suites without forward secrecy: {detail}. With them the session key travels encrypted under the server's long-term key, so anyone who records the traffic today and obtains that key later can decrypt it.",
    "Accept only ECDHE (or DHE) key exchange for TLS 1.2 (nginx: ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20; remove the plain RSA suites: kRSA); TLS 1.3 always has forward secrecy.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -tls1_2 -cipher kRSA </dev/null")
TC_KIND(WEAK_DH, "weak_dh", TC_SEV_WARNING, "WeakDHGroup",
    TC_CAT_HANDSHAKE, 0,
    "DHE suites with an old or built-in Diffie-Hellman group (a dhparam file of 1024 bits, or a server's legacy default).",
    "The server at {target} uses a Diffie-Hellman group that is too small for its DHE suites: {detail}. Groups under 2048 bits are within reach of precomputation attacks (Logjam), and clients such as browsers refuse them.",
    "Use a DH group of at least 2048 bits (the RFC 7919 ffdhe2048 group: nginx ssl_dhparam with such a file), or drop DHE suites and keep ECDHE only.",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} -tls1_2 -cipher 'DHE@SECLEVEL=0' </dev/null 2>/dev/null | grep 'Server Temp Key'")
TC_KIND(CLIENT_CERTIFICATE_REQUESTED, "client_certificate_requested", TC_SEV_WARNING, "ClientCertificateRequested",
    TC_CAT_HANDSHAKE, 0,
    "A server set up for optional client certificates (nginx: ssl_verify_client optional;), or a mutual-TLS endpoint checked without the certificate its clients use.",
    "The server at {target} asked for a client certificate (mutual TLS) and none was given; it went on without one{detail}. If this endpoint's clients are meant to authenticate, a check without their certificate does not show what they get.",
    "Check it with the client certificate its clients use (client_cert=, --client-cert); if no client should authenticate, stop asking on the server (nginx: ssl_verify_client off;).",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | sed -n '/Acceptable client certificate CA names/,/Requested Signature/p'")
TC_KIND(CLIENT_CERTIFICATE_NOT_ACCEPTED, "client_certificate_not_accepted", TC_SEV_WARNING, "ClientCertificateNotAccepted",
    TC_CAT_HANDSHAKE, 0,
    "A client certificate from another CA (a test CA, an old one, another environment's), or a server whose list of client CAs is out of date.",
    "{cert}, given to the server at {target}, is issued by {issuer}, which is none of the CAs the server says it accepts{detail}. A server that enforces its list refuses this certificate, in TLS 1.3 often only after the handshake, on the first request.",
    "Use a client certificate issued by one of the CAs named; if {issuer} should be accepted, add it to the server's client CA list (nginx: ssl_client_certificate).",
    "",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | sed -n '/Acceptable client certificate CA names/,/Requested Signature/p'")
TC_KIND(CHAIN_WRONG_ORDER, "chain_wrong_order", TC_SEV_WARNING, "ChainWrongOrder",
    TC_CAT_CERTIFICATE, 0,
    "Intermediates concatenated in the wrong order, or a root or cross-certificate placed between them.",
    "The chain is sent out of order: {detail}. TLS 1.2 (RFC 5246 section 7.4.2) requires each certificate to be followed by the one that certifies it; OpenSSL, browsers and Go reorder it; a client that does not refuses the connection.",
    "Order the served file as the path runs: the leaf, then its issuer, then that one's issuer (cat cert.pem intermediate.pem > fullchain.pem).",
    "openssl crl2pkcs7 -nocrl -certfile {chain_file} | openssl pkcs7 -print_certs -noout",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:|^ *i:'")
TC_KIND(CHAIN_DUPLICATES, "chain_duplicates", TC_SEV_WARNING, "ChainHasDuplicates",
    TC_CAT_CERTIFICATE, 0,
    "A chain file built by appending (a renewal or deployment script that adds the intermediate again each time) instead of being written anew.",
    "The chain carries the same certificate more than once: {detail}. Clients ignore the copies; each one only makes every handshake larger.",
    "Send each certificate once: rebuild the chain file from the leaf and its intermediates instead of appending to it.",
    "openssl crl2pkcs7 -nocrl -certfile {chain_file} | openssl pkcs7 -print_certs -noout | grep subject= | sort | uniq -c",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:' | sort -k2 | uniq -c -f1")
TC_KIND(CHAIN_UNNEEDED_CERTIFICATES, "chain_unneeded_certificates", TC_SEV_WARNING, "ChainHasUnneededCertificates",
    TC_CAT_CERTIFICATE, 0,
    "A bundle of several CAs' certificates served as the chain, an old intermediate left in after a renewal, or another service's certificate pasted in.",
    "The chain carries certificates that are not on the path from the leaf to a trusted root: {detail}. Clients skip them; they only make every handshake larger, and an old intermediate left in may hide that the right one is missing.",
    "Send only the leaf and the intermediates on its path to the root: remove the certificates named.",
    "openssl verify -show_chain -untrusted {chain_file} {leaf_file}",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:|^ *i:'")
TC_KIND(CHAIN_INCLUDES_ROOT, "chain_includes_root", TC_SEV_WARNING, "ChainIncludesRoot",
    TC_CAT_CERTIFICATE, 0,
    "A chain file built from the whole CA bundle, root included.",
    "The chain includes the root certificate itself, {detail}: a client trusts a root only from its own store and never the copy sent (RFC 8446 section 4.4.2 lets servers leave it out), so it only makes every handshake larger.",
    "Leave the root out of the served chain: send the leaf and the intermediates only.",
    "openssl crl2pkcs7 -nocrl -certfile {chain_file} | openssl pkcs7 -print_certs -noout",
    TC_SEE_SCLIENT " -connect {target} {sni} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:|^ *i:'")
TC_KIND(CHAIN_EXTRA_ROUND_TRIP, "chain_extra_round_trip", TC_SEV_WARNING, "ChainCostsRoundTrip",
    TC_CAT_CERTIFICATE, 0,
    "A long chain, RSA 4096 certificates, many names per certificate, or certificates the chain does not need.",
    "The certificate chain takes {detail}: with the rest of the server's first flight that is more than TCP's initial congestion window (10 segments, about 14 KB: RFC 6928), so every new connection waits one extra round trip for the client's acknowledgements before the handshake can finish.",
    "Send fewer or smaller certificates: drop duplicates, unneeded certificates and the root; ECDSA P-256 certificates are about half the size of RSA 2048 ones; fewer names per certificate.",
    "openssl crl2pkcs7 -nocrl -certfile {chain_file} -outform DER | wc -c",
    TC_SEE_SCLIENT " -connect {target} {sni} </dev/null 2>/dev/null | grep 'handshake has read'")
