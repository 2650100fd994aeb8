"""The client's address, honouring X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in getattr(settings, "CEIBA_TRUSTED_PROXIES", ()))


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent the request.

    Behind nginx every request comes from the proxy; then the right-most address in
    X-Forwarded-For that is not itself a trusted proxy is the client. Headers from untrusted
    peers are ignored, so a client cannot choose its address (lockout and security events
    depend on it).
    """
    remote = str(request.META.get("REMOTE_ADDR", "")).strip()
    if not _trusted(remote):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote
    return remote
