"""Alerts reach a local webhook receiver and a local SMTP sink once per incident opening and
once per closing, however many rounds the incident lasts."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from prepcast.analytics.incidents import read_events
from prepcast.monitor import AlertSettings, Monitor, MonitorOptions, ProbeSettings, availability
from tests.distribution.dist_servers import free_port
from tests.monitor.monitor_lab import Lab, make_lab

pytestmark = pytest.mark.server


class Receiver:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.mails: list[Any] = []


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str, int]]:
    rec = Receiver()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec.posts.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Sink:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            rec.mails.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    smtp_port = free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        yield rec, f"http://127.0.0.1:{http.server_address[1]}/alerta", smtp_port
    finally:
        smtp.stop()
        http.shutdown()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = make_lab(tmp_path_factory.mktemp("alerts"), cuts=1)
    try:
        lab.advance(1, [])
        lab.add("honesto", upto=1)
        lab.add("intermitente", upto=1)
        yield lab
    finally:
        lab.stop()


def test_one_alert_per_incident_opening_and_closing(lab: Lab, receiver: tuple[Receiver, str, int],
                                                     tmp_path: Path) -> None:
    rec, hook, smtp_port = receiver
    reg = lab.registry(path=tmp_path / "difusores.toml")
    opts = MonitorOptions(reg, lab.trust, lab.reference, tmp_path / "state",
                          probe=ProbeSettings(round_s=0.1),
                          alerts=AlertSettings(webhook=hook, smtp_host="127.0.0.1",
                                               smtp_port=smtp_port, mail_to=("uie@ieem.example",),
                                               contact_too=True))
    web = lab.servers["intermitente"]

    async def night() -> None:
        mon = Monitor(opts)
        try:
            await mon.round()
            web.stop()                       # down for four rounds
            for _ in range(4):
                await mon.round()
            web.start()
            for _ in range(3):
                await mon.round()
        finally:
            await mon.close()

    asyncio.run(night())
    assert [(p["state"], p["incident"]["difusor"], p["incident"]["kind"]) for p in rec.posts] == [
        ("open", "intermitente", "down"), ("close", "intermitente", "down")]
    opened = rec.posts[0]["incident"]
    assert opened["contact"]["email"] == "intermitente@medio.example"
    assert opened["evidence"] and opened["since"]
    assert rec.posts[1]["incident"]["closed"] is not None
    assert [m["Subject"] for m in rec.mails] == [
        "[PREP monitor] ABIERTO: intermitente — sitio caído o sin el PREP",
        "[PREP monitor] CERRADO: intermitente — sitio caído o sin el PREP"]
    assert all(m["To"] == "uie@ieem.example, intermitente@medio.example" for m in rec.mails)
    incs = json.loads((tmp_path / "state" / "incidents.json").read_text())["incidents"]
    assert len(incs) == 1 and incs[0]["rounds"] == 4 and incs[0]["alerted_close"]
    # the difusor's own probe events: its informe shows the outage and the availability
    log = read_events(tmp_path / "state" / "events" / "intermitente.jsonl")
    assert (log.probes_total, log.probes_ok) == (8, 4)
    [outage] = [i for i in log.incidents if i.source == "sondas del instituto"]
    assert outage.duration_s is not None and outage.duration_s > 0
    assert read_events(tmp_path / "state" / "events" / "honesto.jsonl").incidents == []
    avail = availability(tmp_path / "state" / "events.jsonl", round_s=0.1)
    assert avail["honesto"]["availability"] == 100.0
    assert 0 < avail["intermitente"]["availability"] < 100
