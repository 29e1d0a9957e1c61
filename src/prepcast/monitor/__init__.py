"""The institute's monitor of its difusores' public sites (see docs/monitor.md).

    Monitor(MonitorOptions) .round() -> [ProbeResult]     run(opts, once=..., rounds=...)
    Reference(publish_root, root_key)                     the institute's own cuts
    Prober, ProbeSettings, ProbeResult                    one probe of one difusor
    Incidents, AlertSettings                              incidents and their alerts
    availability(events.jsonl)                            per difusor, for IEM's 99.9 %
"""

from prepcast.monitor.alerts import AlertSettings
from prepcast.monitor.availability import availability
from prepcast.monitor.incidents import Incidents
from prepcast.monitor.probe import Prober, ProbeResult
from prepcast.monitor.reference import Reference
from prepcast.monitor.run import Monitor, MonitorOptions, run
from prepcast.monitor.settings import ProbeSettings

__all__ = ["AlertSettings", "Incidents", "Monitor", "MonitorOptions", "ProbeResult",
           "ProbeSettings", "Prober", "Reference", "availability", "run"]
