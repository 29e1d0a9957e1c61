"""IIS logs (W3C extended log file format) as rows of the requests table.

IIS 10 writes one request per line, fields separated by single spaces in the order its
``#Fields:`` header names (``#Software``, ``#Version``, ``#Date`` and ``#Fields`` lines may
recur, e.g. at each restart); a field never holds a space (IIS writes the user agent's spaces as
``+``), ``-`` stands for an empty one, and ``date time`` is UTC. Fields are read by name, so any
selection of them that includes ``date``, ``time``, ``c-ip`` and ``sc-status`` reads; a file's
first ``#Fields:`` line names its fields.
"""

from __future__ import annotations


def w3c_select(lines: str, names: tuple[str, ...]) -> str:
    """A SELECT of :data:`prepcast.analytics.parse.PARSED_COLUMNS` from ``lines``, a table of
    raw lines (column ``line``) of files whose fields are ``names``."""

    def col(name: str) -> str:
        if name not in names:
            return "''"
        value = f"coalesce(f[{names.index(name) + 1}], '')"
        return f"CASE WHEN {value} = '-' THEN '' ELSE {value} END"

    return f"""
    WITH r AS (
      SELECT string_split(line, ' ') AS f FROM {lines}
      WHERE line IS NOT NULL AND line <> '' AND NOT starts_with(line, '#')
    ), p AS (
      SELECT f, try_strptime({col("date")} || ' ' || {col("time")} || ' +0000',
                             '%Y-%m-%d %H:%M:%S %z') AS ts
      FROM r
    )
    SELECT coalesce(ts IS NOT NULL AND {col("c-ip")} <> ''
             AND TRY_CAST({col("sc-status")} AS SMALLINT) BETWEEN 100 AND 599, false) AS ok,
           epoch(ts)::BIGINT, 0,
           {col("c-ip")}, {col("cs-method")}, {col("cs-uri-stem")}, {col("cs-uri-query")},
           {col("cs-version")}, TRY_CAST({col("sc-status")} AS SMALLINT),
           coalesce(TRY_CAST({col("sc-bytes")} AS BIGINT), 0),
           {col("cs(Referer)")}, replace({col("cs(User-Agent)")}, '+', ' '),
           split_part({col("cs-host")}, ':', 1),
           TRY_CAST({col("time-taken")} AS DOUBLE) / 1000
    FROM p
    """
