"""The simulacro: a whole election night played on this machine, institute and difusores."""

from prepcast.simulacro.night import CutRecord, NightResult, cut_label, run_night

__all__ = ["CutRecord", "NightResult", "cut_label", "run_night"]
