"""Logs in the W3C extended log file format as rows of the requests table: IIS and CloudFront.

Both write one request per line in the order a ``#Fields:`` header names (``#Software``,
``#Version``, ``#Date`` and ``#Fields`` lines may recur, e.g. at each restart), ``date time`` in
UTC; fields are read by name, so any selection of them that includes ``date``, ``time``,
``c-ip`` and ``sc-status`` reads.

- **IIS 10** separates fields with single spaces; a field never holds a space (IIS writes the
  user agent's spaces as ``+``), ``-`` stands for an empty one, ``time-taken`` is milliseconds.
- **CloudFront** (standard logs) separates them with tabs and URL-encodes the referrer and
  (twice) the user agent; ``-`` is an empty query or referrer, ``time-taken`` is seconds.
"""

from __future__ import annotations


def w3c_select(lines: str, names: tuple[str, ...], *, cloudfront: bool = False) -> str:
    """A SELECT of :data:`prepcast.analytics.parse.PARSED_COLUMNS` from ``lines``, a table of
    raw lines (column ``line``) of files whose fields are ``names``: IIS's dialect, or
    CloudFront's with ``cloudfront``."""

    def raw(name: str) -> str:
        return f"coalesce(f[{names.index(name) + 1}], '')" if name in names else "''"

    def empty_dash(value: str) -> str:
        return f"CASE WHEN {value} = '-' THEN '' ELSE {value} END"

    def col(name: str) -> str:  # IIS: '-' is empty in every field; CloudFront: as written
        return raw(name) if cloudfront or name not in names else empty_dash(raw(name))

    if cloudfront:
        sep, query, protocol = "\t", empty_dash(raw("cs-uri-query")), raw("cs-protocol-version")
        referer = (f"CASE WHEN {raw('cs(Referer)')} = '-' THEN '' "
                   f"ELSE url_decode({raw('cs(Referer)')}) END")
        agent = f"url_decode(url_decode({raw('cs(User-Agent)')}))"
        vhost, seconds = raw("x-host-header"), f"TRY_CAST({raw('time-taken')} AS DOUBLE)"
    else:
        sep, query, protocol = " ", col("cs-uri-query"), col("cs-version")
        referer, agent = col("cs(Referer)"), f"replace({col('cs(User-Agent)')}, '+', ' ')"
        vhost = f"split_part({col('cs-host')}, ':', 1)"
        seconds = f"TRY_CAST({col('time-taken')} AS DOUBLE) / 1000"
    return f"""
    WITH r AS (
      SELECT string_split(line, '{sep}') AS f FROM {lines}
      WHERE line IS NOT NULL AND line <> '' AND NOT starts_with(line, '#')
    ), p AS (
      SELECT f, try_strptime({col("date")} || ' ' || {col("time")} || ' +0000',
                             '%Y-%m-%d %H:%M:%S %z') AS ts
      FROM r
    )
    SELECT coalesce(ts IS NOT NULL AND {col("c-ip")} <> ''
             AND TRY_CAST({col("sc-status")} AS SMALLINT) BETWEEN 100 AND 599, false) AS ok,
           epoch(ts)::BIGINT, 0,
           {col("c-ip")}, {col("cs-method")}, {col("cs-uri-stem")}, {query},
           {protocol}, TRY_CAST({col("sc-status")} AS SMALLINT),
           coalesce(TRY_CAST({col("sc-bytes")} AS BIGINT), 0),
           {referer}, {agent}, {vhost}, {seconds}
    FROM p
    """
