"""`--scheduler local` is locked down (docs/reliability.md, Security): 127.0.0.1 only, TLS with a
temporary CA, no HTTP routes; a client without the certificates cannot connect."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from chaincomp.errors import UsageError


@pytest.mark.slow
def test_local_cluster_is_loopback_tls_without_dashboard():
    distributed = pytest.importorskip("distributed")
    from chaincomp.batch.dask_exec import DaskExecutor

    ex = DaskExecutor("local", jobs=1)
    try:
        addr = ex.client.scheduler.address
        assert addr.startswith("tls://127.0.0.1:"), addr
        assert ex.client.submit(sum, [1, 2]).result(timeout=60) == 3
        info = ex.client.scheduler_info()
        assert all(w.startswith("tls://127.0.0.1:") for w in info["workers"])
        port = info["services"].get("dashboard")
        if port:  # the HTTP server serves no route at all
            for route in ("/status", "/json/identity.json", "/health", "/proxy/8786/127.0.0.1/status"):
                with pytest.raises(urllib.error.HTTPError) as exc:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=5)
                assert exc.value.code == 404
        with pytest.raises(Exception):  # a foreign client without the temporary certificates
            distributed.Client(addr.replace("tls://", "tcp://"), timeout="3s")
    finally:
        ex.close()


def test_tls_options_go_together(tmp_path):
    from chaincomp.batch.dask_exec import tls_security

    assert tls_security(None, None, None) is None
    with pytest.raises(UsageError, match="go together"):
        tls_security(str(tmp_path / "ca.pem"), None, None)
    with pytest.raises(UsageError, match="no such file"):
        tls_security(str(tmp_path / "ca.pem"), str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
