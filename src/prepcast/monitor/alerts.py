"""Alerts of incidents: a JSON POST to a webhook and an email through a configured SMTP server."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import asdict, dataclass
from datetime import tzinfo
from email.message import EmailMessage

import httpx

from prepcast.monitor.incidents import Incident, Incidents
from prepcast.monitor.wording import hora_local

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSettings:
    webhook: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "monitor-prep@localhost"
    mail_to: tuple[str, ...] = ()
    contact_too: bool = False  # also write to the difusor's technical contact


def _subject(inc: Incident, state: str) -> str:
    verb = "ABIERTO" if state == "open" else "CERRADO"
    return f"[PREP monitor] {verb}: {inc.difusor} — {inc.what}"


def _body(inc: Incident, state: str, zone: tzinfo | None = None) -> str:
    lines = [_subject(inc, state), "", f"Difusor: {inc.difusor}", f"Incidente: {inc.id}",
             f"Desde: {hora_local(inc.since, zone)}"]
    if inc.closed:
        lines.append(f"Cerrado: {hora_local(inc.closed, zone)}")
    lines += ["Evidencia:", *(f"  - {e}" for e in inc.evidence)]
    if inc.contact:
        lines.append("Contacto técnico: " + ", ".join(inc.contact.values()))
    return "\n".join(lines) + "\n"


class Alerter:
    def __init__(self, settings: AlertSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.zone: tzinfo | None = None  # the election's offset, once a probe shows a cut

    async def _send(self, inc: Incident, state: str) -> bool:
        s = self.settings
        ok = True
        if s.webhook:
            try:
                r = await self.client.post(s.webhook, json={
                    "state": state, "subject": _subject(inc, state), "incident": asdict(inc)},
                    timeout=10.0)
                ok = ok and r.status_code < 300
            except httpx.HTTPError as exc:
                log.warning("webhook %s: %s", s.webhook, exc)
                ok = False
        to = list(s.mail_to)
        if s.contact_too and inc.contact.get("email"):
            to.append(inc.contact["email"])
        if s.smtp_host and to:
            msg = EmailMessage()
            msg["Subject"], msg["From"], msg["To"] = _subject(inc, state), s.mail_from, ", ".join(to)
            msg.set_content(_body(inc, state, self.zone))
            try:
                await asyncio.to_thread(self._mail, msg)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("smtp %s:%s: %s", s.smtp_host, s.smtp_port, exc)
                ok = False
        return ok

    def _mail(self, msg: EmailMessage) -> None:
        assert self.settings.smtp_host is not None
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)

    async def flush(self, incidents: Incidents) -> int:
        """Send every alert owed (one per opening, one per closing); the number sent."""
        if not (self.settings.webhook or self.settings.smtp_host):
            return 0
        sent = 0
        for inc in incidents.items:
            if not inc.alerted_open and await self._send(inc, "open"):
                inc.alerted_open, sent = True, sent + 1
            if inc.closed and inc.alerted_open and not inc.alerted_close and \
                    await self._send(inc, "close"):
                inc.alerted_close, sent = True, sent + 1
        return sent
