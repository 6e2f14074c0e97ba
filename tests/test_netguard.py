"""The network guard really blocks traffic that leaves the machine, and allows loopback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

REMOTE = ("192.0.2.1", 80)  # TEST-NET-1: reserved for documentation, never routed


@pytest.fixture
def own_log(tmp_path, monkeypatch):
    """Log this test's deliberate violations apart from the suite's log."""
    log = tmp_path / "netguard.log"
    monkeypatch.setenv("MEDAI_NETGUARD_LOG", str(log))
    return log


def test_remote_connection_is_blocked_in_process(own_log):
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="network guard"):
        sock.connect(REMOTE)
    assert "192.0.2.1" in own_log.read_text()


def test_remote_name_lookup_is_blocked(own_log):
    with pytest.raises(ConnectionRefusedError, match="name lookup"):
        socket.getaddrinfo("example.com", 443)


def test_remote_connection_is_blocked_in_child_processes(own_log):
    code = f"import socket; socket.create_connection({REMOTE!r}, timeout=1)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and "network guard" in result.stderr
    assert own_log.read_text().count("blocked") == 1


def test_loopback_is_allowed(own_log):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    assert not own_log.exists()
