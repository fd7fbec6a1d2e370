"""One rule for untrusted bytes in text (issue 12, bug 1): a C1 control
(U+009B is CSI, which terminals act on) in an issuer's name is escaped in
the problem messages exactly as in the certificate's own fields."""
import os
import subprocess
import sys

import pytlscheck
from pki import CA, pem_of

CSI = "\u009b"


def _chain(tmp_path):
    root = CA.root(cn=f"Evil{CSI}31mRoot")
    inter = root.intermediate(cn=f"Evil{CSI}2JIssuing")
    leaf = inter.leaf("c1.test")
    path = tmp_path / "chain.pem"
    path.write_text(pem_of(leaf, inter))
    return root, path


def test_c1_control_is_escaped_in_messages_and_fields(tmp_path):
    root, path = _chain(tmp_path)
    r = pytlscheck.verify_chain(str(path), hostname="c1.test")   # root not trusted
    assert not r.ok
    texts = [p.message for p in r.problems] + [p.fix for p in r.problems]
    assert any("\\xc2\\x9b" in t for t in texts), texts
    for t in texts + [c.subject for c in r.chain] + [c.issuer for c in r.chain]:
        assert CSI not in t, t


def test_cli_never_writes_a_raw_c1_control(tmp_path):
    _, path = _chain(tmp_path)
    out = subprocess.run([sys.executable, "-m", "pytlscheck", "file", str(path),
                          "--host", "c1.test"], capture_output=True, timeout=60,
                         env={**os.environ, "NO_COLOR": "1"})
    assert out.returncode == 2, out   # 2: the chain has a problem
    assert b"\xc2\x9b" not in out.stdout + out.stderr
    assert b"\\xc2\\x9b" in out.stdout
