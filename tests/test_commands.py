"""The "see it by hand" command is rendered once, in the core, with its
context (issue 12): the caller's chain file, shell-quoted; the target and
SNI of a live check; and spaces inside certificate text are kept."""
import shlex

import pytlscheck
from pki import CA, pem_of
from servers import tls_server


def test_a_chain_file_is_named_shell_quoted(tmp_path):
    root = CA.root("Cmd Root")
    inter = root.intermediate("Cmd Issuing")
    leaf = inter.leaf("cmd.test")
    path = tmp_path / "it's my chain.pem"
    path.write_text(pem_of(leaf))                       # intermediate missing
    r = pytlscheck.verify_chain(str(path), hostname="cmd.test", trust=root.pem)
    cmd = r.problems[0].inspect_command
    assert cmd == f"openssl verify -show_chain -untrusted {shlex.quote(str(path))} " \
                  f"{shlex.quote(str(path))}", cmd
    data = pytlscheck.verify_chain(pem_of(leaf), hostname="cmd.test", trust=root.pem)
    assert data.problems[0].inspect_command == \
        "openssl verify -show_chain -untrusted chain.pem leaf.pem"


def test_spaces_inside_certificate_text_are_kept(tmp_path):
    root = CA.root("Cmd  Root   With Spaces")
    leaf = root.leaf("cmd.test")
    r = pytlscheck.verify_chain(pem_of(leaf), hostname="cmd.test")
    assert any("Cmd  Root   With Spaces" in p.message for p in r.problems), \
        [p.message for p in r.problems]


def test_live_commands_name_target_and_sni():
    root = CA.root("Cmd Root")
    leaf = root.leaf("cmd.test")
    with tls_server(pem_of(leaf), leaf.key_pem) as (host, port):
        r = pytlscheck.check(f"{host}:{port}", server_name="other.test", trust=root.pem, timeout=5)
    assert r.kinds == ["hostname_mismatch"], r.explain()
    assert r.problems[0].inspect_command.startswith(
        f"timeout 10 openssl s_client -connect {host}:{port} -servername other.test ")
    assert "  " not in r.problems[0].inspect_command
