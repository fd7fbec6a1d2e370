"""The probe's RTT and cost follow a real added delay: bench's user-space
relay (bench/tundelay.c, two network namespaces; this kernel has no netem)
delays every packet, TCP handshake included.  Needs root, `ip netns` and
/dev/net/tun: skipped elsewhere."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
import probe as bprobe  # noqa: E402
import server as bsrv  # noqa: E402

pytestmark = pytest.mark.skipif(not bsrv.namespaces_available(),
                                reason="needs root, ip netns and /dev/net/tun")


@pytest.mark.parametrize("rtt", [40])
def test_rtt_and_cost_follow_the_delay(rtt):
    exes = bsrv.build_c()
    work = Path(tempfile.mkdtemp(prefix="tcprobe-test-"))
    pki = bsrv.mint_pki(work)
    net = bsrv.Network(rtt)
    try:
        net.start(exes["tundelay"], work)
        srv = bprobe.start_s_server(net, pki, 8445, work)
        try:
            cmd = [*net.client_prefix(True), sys.executable, "-m", "pytlscheck",
                   f"{bsrv.SERVER_ADDR}:8445", "--probe", "--json", "--trust", str(pki.root),
                   "--server-name", bsrv.SNI]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        finally:
            srv.kill()
            srv.wait(5)
    finally:
        net.stop()
    p = json.loads(out.stdout)["results"][0]["probe"]
    assert rtt * 0.95 <= p["rtt_ms"] <= rtt * 1.5, p
    assert p["handshake_round_trips"] == 1
    assert p["cold_start_ms"] == pytest.approx(p["rtt_ms"] * 2)
    assert p["resumption"] == "accepted"
    import pytlscheck
    probe = pytlscheck.Probe._from_core(p)
    assert probe is not None
    assert probe.handshake_cost(1_000_000) == pytest.approx(1_000_000 * p["rtt_ms"] / 1000)
