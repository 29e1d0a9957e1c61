"""The night with the institute's PREP capture system as its source: a drop folder.

The capture system writes each cut's database zips (INE layout,
``YYYYMMDD_HHMM_PREP_<ELECCION>.zip``, and a ``.sha256`` when it does) into a folder.
:class:`DropRunner` is the night runner with that folder as its input: it waits until every
election's zip of the next cut is complete, reads and recounts it
(:func:`prepcast.formats.drop_folder.take_drop`), and either

- **publishes** it: the catalog of ``--election`` (made once by ``prepcast election import``)
  with the drop's rows as the capture feed; the cut is numbered by the proceso's schedule (the
  latest scheduled cut at or before the time the database states) and dated as the database
  states; built, verified, published and pushed exactly as the runner does its own cuts; the
  figures of the package must equal the drop's preamble; or
- **refuses** it: a recount that differs from the preamble, a ``.sha256`` that does not match, a
  database that does not read, a cut not newer than the one published. The previous cut stays
  live, the alert (every figure that differs) goes to the state (``alertas``,
  ``alerta_vigente``) and its log, and a refused cut is looked at again only when the capture
  system writes its files again.

The night ends when the proceso's last scheduled cut is published, when a cut at or after
``--until`` was published or refused, or at SIGTERM.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.election import ElectionDir, cut_number, cut_time, is_last_cut
from prepcast.errors import InputError
from prepcast.formats.drop_folder import (
    Drop,
    RefusedCut,
    drop_signature,
    quoted,
    stamp_of,
    take_drop,
)
from prepcast.package import Manifest
from prepcast.publish.cut import EXPIRES_AFTER_END, CutBuilder
from prepcast.publish.runner import NightRunner, RebuiltDiffers
from prepcast.publish.state import now
from prepcast.publish.status import local_time

log = logging.getLogger(__name__)

KEEP_ALERTS = 50


class DropRunner(NightRunner):
    """The night runner fed by the capture system's drop folder (``RunOptions.drops``)."""

    _drop: Drop | None = None

    @property
    def folder(self) -> Path:
        assert self.opts.drops is not None
        return self.opts.drops

    def _night(self) -> None:
        if not self.folder.is_dir():
            raise InputError.at(self.folder, "is a file, not a folder (--drops)"
                                if self.folder.exists() else "no such folder (--drops)")
        doc = self.state.doc
        drops: dict[str, dict[str, Any]] = doc.setdefault("drops", {})
        doc["source"] = str(self.folder.resolve())
        for entry in drops.values():  # the published cuts are dated as their databases
            if "cut" in entry:
                doc["cut_times"][str(entry["cut"])] = entry["at"]
        done = self._resume()
        proceso = self.ed.proceso
        while not self.stop_requested.is_set():
            if done and is_last_cut(proceso, done):
                self.state.note("fin de la noche: último corte publicado")
                break
            skip = {s for s, e in drops.items()
                    if "cut" in e or e.get("signature") == drop_signature(self.folder, s)}
            try:
                drop = take_drop(self.folder, proceso, skip=skip, settle=self.opts.settle,
                                 last_cut=self._is_last)
                number = self._number(drop, done) if drop is not None else 0
            except RefusedCut as exc:
                stamp = stamp_of(exc.path.name) or exc.path.name
                if self._refuse(stamp, exc.reasons):
                    break
                continue
            if drop is None:
                self._retry_failed()
                self.stop_requested.wait(self.opts.poll)
                continue
            self._drop = drop
            try:
                self._one_cut(number)
            except RebuiltDiffers as exc:
                self.state.cut(number)["skipped"] = True
                if self._refuse(drop.stamp, ["el corte construido de nuevo no es idéntico al "
                                             f"publicado antes {quoted(str(exc))}"]):
                    break
                continue
            except RefusedCut as exc:  # the package's figures are not the drop's
                if self._refuse(drop.stamp, exc.reasons):
                    break
                continue
            finally:
                self._drop = None
            if self.state.published() == number:
                self._published(drop, number)
                done = number
                if self._past_until(drop.at):
                    break

    def _number(self, drop: Drop, done: int) -> int:
        proceso = self.ed.proceso
        first = next(iter(drop.cuts.values())).path
        when = local_time(drop.at, proceso.tz)
        try:
            number = cut_number(proceso, drop.at)
        except InputError as exc:
            raise RefusedCut(first, f"el corte {drop.stamp} ({when}) no está en el calendario "
                                    f"del proceso {quoted(str(exc))}") from None
        if number <= done:
            raise RefusedCut(first, f"el corte {drop.stamp} ({when}) es el corte {number} del "
                                    f"calendario, no posterior al corte {done}, ya publicado")
        return number

    def _is_last(self, at: datetime) -> bool:
        proceso = self.ed.proceso
        try:
            return is_last_cut(proceso, cut_number(proceso, at))
        except InputError:  # before the first cut: refused by _number
            return False

    def _past_until(self, at: datetime) -> bool:
        return self.opts.until is not None and at >= self.opts.until

    def _build_package(self, number: int, pkg: Path, previous: Path | None) -> Manifest:
        """The cut of the drop taken: the catalog of ``--election``, the drop's rows as feed."""
        drop = self._drop
        assert drop is not None and isinstance(self.ed, ElectionDir)  # read on rows for drops
        builder = CutBuilder(replace(self.ed, feeds=drop.feeds), self.signer,
                             difusores=self.opts.difusores, ejercicio=self.ejercicio)
        m = builder.build(drop.at, pkg, previous=previous, exact=True,
                          not_before=self._replay_embargo(number))
        assert builder.last_results is not None
        differs = []
        for eid, dropped in drop.cuts.items():
            built = builder.last_results.elections[eid].preamble.as_dict()
            for name, value in dropped.recount.preamble.as_dict().items():
                if built[name] != value:
                    differs.append(f"{dropped.path.name}: con el catálogo de "
                                   f"{self.opts.election} {name} es {built[name]}, el sistema "
                                   f"de captura da {value}")
        if differs:
            shutil.rmtree(pkg, ignore_errors=True)
            raise RefusedCut(next(iter(drop.cuts.values())).path, differs)
        return m

    def _replay_embargo(self, number: int) -> datetime | None:
        """The cut's own time, unless its package would already have expired (a past night's
        database dropped in a drill): then the instant this runner first started (kept in the
        state, so a cut built again is the same bytes), so the difusores' daemons take it."""
        at = self._drop.at if self._drop is not None else cut_time(self.ed.proceso, number)
        if max(self.ed.proceso.end, at) + EXPIRES_AFTER_END > now():
            return None
        return datetime.fromisoformat(self.state.doc["started"])

    def _published(self, drop: Drop, number: int) -> None:
        with self.state.lock:
            doc = self.state.doc
            doc["drops"][drop.stamp] = {
                "cut": number, "at": drop.at.isoformat(), "taken": now().isoformat(),
                "zips": {eid: {"name": c.path.name, "sha256": c.sha256}
                         for eid, c in drop.cuts.items()}}
            doc["cut_times"][str(number)] = drop.at.isoformat()
            doc.pop("alerta_vigente", None)
            self.state.note(f"corte {number}: publicado desde {drop.stamp} del sistema de captura")

    def _refuse(self, stamp: str, reasons: list[str]) -> bool:
        """Record the refusal of cut ``stamp`` (the previous cut stays live); True when the
        night ends with it (``--until``)."""
        at = now()
        alert = {"at": at.isoformat(), "corte": stamp, "motivos": reasons,
                 "vigente": self.state.published()}
        when = local_time(at, self.ed.proceso.tz)
        log.error("corte %s del sistema de captura rechazado el %s; %s: %s", stamp, when,
                  f"sigue vigente el corte {alert['vigente']}" if alert["vigente"]
                  else "ningún corte publicado aún", "; ".join(reasons))
        with self.state.lock:
            doc = self.state.doc
            doc["drops"][stamp] = {"refused": True, "at": alert["at"], "motivos": reasons,
                                   "signature": drop_signature(self.folder, stamp)}
            alerts: list[dict[str, Any]] = doc.setdefault("alertas", [])
            alerts.append(alert)
            del alerts[:-KEEP_ALERTS]
            doc["alerta_vigente"] = alert
            self.state.note(f"ALERTA: corte {stamp} del sistema de captura rechazado el {when} "
                            f"(sigue vigente el corte {alert['vigente'] or '—'}): "
                            + "; ".join(reasons))
        return self._past_until(_stamp_time(stamp, self.ed.proceso.tz))


def _stamp_time(stamp: str, tz: Any) -> datetime:
    try:
        return datetime.strptime(stamp, "%Y%m%d_%H%M").replace(tzinfo=tz)
    except ValueError:
        return datetime.min.replace(tzinfo=tz)
