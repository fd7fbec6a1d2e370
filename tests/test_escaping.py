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


BIDI = "\u202e"      # RIGHT-TO-LEFT OVERRIDE: reorders what follows on screen


def test_bidi_and_c1_escaped_on_every_surface(tmp_path):
    """Subject and issuer holding U+202E and U+009B: the text report, the
    CLI, HTML and JSON (as a decoded string) show \\xNN, never the control."""
    import json

    from pytlscheck import _html

    root = CA.root(cn=f"Root{BIDI}gpj.exe{CSI}")
    leaf = root.leaf("bidi.test", cn=f"leaf{BIDI}cod.txt")
    path = tmp_path / "chain.pem"
    path.write_text(pem_of(leaf))
    r = pytlscheck.verify_chain(str(path), hostname="bidi.test")
    surfaces = {
        "explain": r.explain(),
        "text": str(pytlscheck._text.render_text(r)),
        "html": _html.render_html(r),
        "json": json.dumps(json.loads(r.to_json()), ensure_ascii=False),
        "subject": r.chain[0].subject + r.chain[0].issuer,
    }
    out = subprocess.run([sys.executable, "-m", "pytlscheck", "file", str(path), "--host",
                          "bidi.test"], capture_output=True, timeout=60)
    surfaces["cli"] = out.stdout.decode("utf-8")
    for name, text in surfaces.items():
        assert BIDI not in text and CSI not in text, name
    assert "\\xe2\\x80\\xae" in surfaces["subject"]
    assert "\\xe2\\x80\\xae" in surfaces["explain"] and "\\xe2\\x80\\xae" in surfaces["cli"]
    assert "\\xc2\\x9b" in json.loads(r.to_json())["chain"][0]["issuer"]
