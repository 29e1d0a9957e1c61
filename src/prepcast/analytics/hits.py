"""The table of parsed requests (``hits``): ids, with each text once in its own table.

``hits`` has one row per line read (``ok`` false for a malformed one); an address, path,
referrer or user agent is an id into the tables of :data:`DIMENSIONS`, so the report's joins and
groupings are over integers. :func:`give_ids` fills those tables from the fast reader's ids
(:mod:`.fastparse`) and gives ids of the same texts to the rows of the exact reader
(``hits_text``, the shape of :data:`parse.TEXT_COLUMNS`).
"""

from __future__ import annotations

from typing import Any

from prepcast.analytics._db import run

# ``hits`` holds ids of the texts; each text is held once in its table of DIMENSIONS.
HITS_COLUMNS = (
    "ok BOOLEAN, epoch BIGINT, off_s INTEGER, ip_id INTEGER, path_id INTEGER, query VARCHAR, "
    "status SMALLINT, bytes BIGINT, ref_id INTEGER, ua_id INTEGER"
)
DIMENSIONS = (("hit_ip", "ip_id", "ip"), ("hit_path", "path_id", "path"),
              ("hit_ref", "ref_id", "referer"), ("hit_ua", "ua_id", "ua"))
# ``hits`` with its texts (the shape of TEXT_COLUMNS), for the few readers that need them.
HITS_TEXTS = """(SELECT h.ok, h.epoch, h.off_s, i.ip, p.path, h.query, h.status, h.bytes,
                        r.referer, u.ua
                 FROM hits h LEFT JOIN hit_ip i USING (ip_id) LEFT JOIN hit_path p USING (path_id)
                      LEFT JOIN hit_ref r USING (ref_id) LEFT JOIN hit_ua u USING (ua_id))"""


def give_ids(con: Any, reader: Any) -> None:
    """The texts' tables from the fast reader's ids, then the exact reader's rows (``hits_text``)
    given ids of the same texts (new texts get new ids)."""
    import pyarrow as pa

    sources = {"hit_ip": "ips", "hit_path": "paths", "hit_ref": "referers", "hit_ua": "agents"}
    for table, id_col, text_col in DIMENSIONS:
        texts = getattr(reader, sources[table]).texts if reader is not None else []
        con.register("_dim", pa.table({id_col: pa.array(range(1, len(texts) + 1), pa.int32()),
                                       text_col: pa.array(texts, pa.string())}))
        try:
            run(con, f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _dim")
        finally:
            con.unregister("_dim")
        run(con, f"""INSERT INTO {table}
                     SELECT (SELECT coalesce(max({id_col}), 0) FROM {table}) + row_number() OVER (),
                            v
                     FROM (SELECT DISTINCT {text_col} AS v FROM hits_text WHERE ok
                           EXCEPT SELECT {text_col} FROM {table})""")
    run(con, """INSERT INTO hits
                SELECT t.ok, t.epoch, t.off_s, i.ip_id, p.path_id, t.query, t.status, t.bytes,
                       r.ref_id, u.ua_id
                FROM hits_text t
                JOIN hit_ip i ON i.ip IS NOT DISTINCT FROM t.ip
                JOIN hit_path p ON p.path IS NOT DISTINCT FROM t.path
                JOIN hit_ref r ON r.referer IS NOT DISTINCT FROM t.referer
                JOIN hit_ua u ON u.ua IS NOT DISTINCT FROM t.ua
                WHERE t.ok""")
    run(con, """INSERT INTO hits
                SELECT ok, epoch, off_s, NULL, NULL, query, status, bytes, NULL, NULL
                FROM hits_text WHERE ok IS NOT TRUE""")
    run(con, "DROP TABLE hits_text")
