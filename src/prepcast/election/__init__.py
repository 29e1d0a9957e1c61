"""The election model, counting rules and the figures of every cut — the pure core."""

from prepcast.election.acta import Acta, FieldValue, Mark, Status
from prepcast.election.catalog import ElectionDir, load_election_dir
from prepcast.election.model import (
    Alliance,
    Ambito,
    Candidatura,
    Casilla,
    ColumnKind,
    Election,
    Party,
    Proceso,
    VoteColumn,
    display_time,
)
from prepcast.election.night_tally import NightTally
from prepcast.election.rules import PROFILES, Preamble, get_profile
from prepcast.election.schedule import cut_number, cut_time, is_last_cut
from prepcast.election.tally import CutResults, ElectionResults, Totals, tally_cut

__all__ = [
    "PROFILES",
    "Acta",
    "Alliance",
    "Ambito",
    "Candidatura",
    "Casilla",
    "ColumnKind",
    "CutResults",
    "Election",
    "ElectionDir",
    "ElectionResults",
    "FieldValue",
    "Mark",
    "NightTally",
    "Party",
    "Preamble",
    "Proceso",
    "Status",
    "Totals",
    "VoteColumn",
    "cut_number",
    "cut_time",
    "display_time",
    "get_profile",
    "is_last_cut",
    "load_election_dir",
    "tally_cut",
]
