"""Analytics: web access logs → the informe técnico / memoria técnica a difusor owes the institute.

Stands alone: it imports nothing from the rest of prepcast except :mod:`prepcast.errors`.
"""

from prepcast.analytics.geo import DBIP_ATTRIBUTION, ENTIDADES, Entidad, GeoLocator, entidad_for
from prepcast.analytics.incidents import Incident, read_events
from prepcast.analytics.manual import read_incidents_yaml
from prepcast.analytics.model import ReportSummary
from prepcast.analytics.parse import detect_format
from prepcast.analytics.report import ReportOptions, write_report
from prepcast.analytics.synth import write_log as write_synthetic_log
from prepcast.analytics.useragents import classify as classify_user_agent
from prepcast.analytics.views import VIEW_RULES, ViewRule

__all__ = [
    "DBIP_ATTRIBUTION",
    "ENTIDADES",
    "VIEW_RULES",
    "Entidad",
    "GeoLocator",
    "Incident",
    "ReportOptions",
    "ReportSummary",
    "ViewRule",
    "classify_user_agent",
    "detect_format",
    "entidad_for",
    "read_events",
    "read_incidents_yaml",
    "write_report",
    "write_synthetic_log",
]
