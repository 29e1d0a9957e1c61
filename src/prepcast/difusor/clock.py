"""How far this machine's clock is from an NTP server (SNTP, RFC 4330), to refuse an early show.

The embargo is a wall-clock time: a difusor whose clock runs ahead would publish a cut before
20:00. The daemon asks its NTP server before each activation and refuses to activate while the
offset exceeds its bound.
"""

from __future__ import annotations

import socket
import struct
import time

from prepcast.errors import TransportError

_NTP_EPOCH = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def _to_ntp(t: float) -> bytes:
    sec = int(t) + _NTP_EPOCH
    frac = int((t - int(t)) * (1 << 32)) & 0xFFFFFFFF
    return struct.pack("!II", sec, frac)


def _from_ntp(data: bytes) -> float:
    sec, frac = struct.unpack("!II", data)
    return float(int(sec) - _NTP_EPOCH + int(frac) / (1 << 32))


def clock_offset(server: str, port: int = 123, timeout: float = 2.0) -> float:
    """Seconds to add to the local clock to match ``server`` (positive: we are behind)."""
    packet = bytearray(48)
    packet[0] = 0x23  # LI 0, version 4, mode 3 (client)
    t1 = time.time()
    packet[40:48] = _to_ntp(t1)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(bytes(packet), (server, port))
            reply, _ = s.recvfrom(512)
    except OSError as exc:
        raise TransportError(f"NTP server {server}:{port}: {exc.strerror or exc}") from None
    t4 = time.time()
    if len(reply) < 48 or reply[0] & 0x07 not in (4, 5):
        raise TransportError(f"NTP server {server}:{port}: not an NTP reply")
    if reply[24:32] != bytes(packet[40:48]):
        raise TransportError(f"NTP server {server}:{port}: reply does not answer our request")
    t2 = _from_ntp(reply[32:40])
    t3 = _from_ntp(reply[40:48])
    return ((t2 - t1) + (t3 - t4)) / 2


def sntp_reply(request: bytes, offset: float = 0.0) -> bytes:
    """A server's answer to ``request`` with its clock ``offset`` seconds from ours (tests, simulacro)."""
    now = time.time() + offset
    reply = bytearray(48)
    reply[0] = 0x24  # version 4, mode 4 (server)
    reply[1] = 1     # stratum
    reply[24:32] = request[40:48]
    reply[32:40] = _to_ntp(now)
    reply[40:48] = _to_ntp(now)
    return bytes(reply)
