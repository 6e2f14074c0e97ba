"""Network guard: refuse every connection that leaves this machine.

The test suite puts this folder on PYTHONPATH, so Python imports it at start-up in pytest
itself and in every Python it launches (Jupyter kernels, nbgrader, papermill, the CLI).
A refused connection or remote name lookup raises in the caller and is also logged to
$MEDAI_NETGUARD_LOG, so the suite fails even when the caller swallows the error.
"""

import ipaddress
import os
import socket

LOG_ENV = "MEDAI_NETGUARD_LOG"


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:  # a remote host name
        return False


def _block(what: str) -> None:
    message = f"network guard: blocked {what} (tests may only use loopback)"
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a") as handle:
            handle.write(f"pid {os.getpid()}: {message}\n")
    raise ConnectionRefusedError(message)


def _guard_connect(method):
    def guarded(self, address, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _block(f"connection to {address!r}")
        return method(self, address, *args, **kwargs)

    return guarded


def _guard_lookup(lookup):
    def guarded(host, *args, **kwargs):
        if not _is_local(host):
            _block(f"name lookup of {host!r}")
        return lookup(host, *args, **kwargs)

    return guarded


def install() -> None:
    if getattr(socket, "_medai_netguard", False):
        return
    socket.socket.connect = _guard_connect(socket.socket.connect)
    socket.socket.connect_ex = _guard_connect(socket.socket.connect_ex)
    socket.getaddrinfo = _guard_lookup(socket.getaddrinfo)
    socket._medai_netguard = True


if os.environ.get(LOG_ENV):
    install()
