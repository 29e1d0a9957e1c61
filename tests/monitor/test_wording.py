"""What the institute reads from the monitor is Spanish: findings as a Spanish sentence (the
technical original quoted), alert e-mails with local times without microseconds."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from prepcast.monitor.alerts import _body
from prepcast.monitor.incidents import Incident
from prepcast.monitor.wording import evidencia, hora_local, zone_of


@pytest.mark.parametrize(("english", "spanish"), [
    ("http://127.0.0.1:8090: plain HTTP; the site must be served over HTTPS",
     "http://127.0.0.1:8090: el sitio se sirve por HTTP sin cifrar; las convocatorias piden HTTPS"),
    ("data/AYUN/entidad.fb7fc7a715fb.json: sha256 does not match the manifest (content changed)",
     "data/AYUN/entidad.fb7fc7a715fb.json: el contenido difiere del publicado por el Instituto "
     "(su SHA-256 no coincide con el manifiesto)"),
    ("index.html: size 2277, manifest says 2220 (content changed)",
     "index.html: mide 2277 bytes y el Instituto publicó 2220: el contenido cambió"),
    ("json/main.json: HTTP 503", "json/main.json: el sitio respondió con el código HTTP 503"),
    ("Cannot connect to host 127.0.0.1:2298 ssl:default [Connect call failed]",
     "no se pudo conectar con el servidor 127.0.0.1 (original: «Cannot connect to host "
     "127.0.0.1:2298 ssl:default [Connect call failed]»)"),
    ("something new went wrong", "hallazgo técnico (original: «something new went wrong»)"),
    ("el certificado vence en 3.0 días", "el certificado vence en 3.0 días"),
])
def test_findings_read_in_spanish(english: str, spanish: str) -> None:
    assert evidencia(english) == spanish


def test_the_alert_mail_gives_local_times_without_microseconds() -> None:
    inc = Incident("el-sol/down/20240603T024000", "el-sol", "down", "sitio caído o sin el PREP",
                   "2024-06-03T02:40:00.390293+00:00",
                   [evidencia("json/main.json: HTTP 503")], {"email": "tec@elsol.example"},
                   closed="2024-06-03T02:52:10.001+00:00")
    zone = zone_of("02/06/2024 20:20 (UTC-6)")
    assert zone == timezone(timedelta(hours=-6))
    body = _body(inc, "close", zone)
    assert "Desde: 02/06/2024 20:40:00 (UTC-6)" in body
    assert "Cerrado: 02/06/2024 20:52:10 (UTC-6)" in body
    assert "390293" not in body and "+00:00" not in body
    assert "el sitio respondió con el código HTTP 503" in body
    assert hora_local("2019-06-03T10:47:00+00:00", zone_of("(UTC-5)")) == "03/06/2019 05:47:00 (UTC-5)"
