"""Combined logs read fast: lines split by Arrow, each field an id of its distinct text.

The common shape of a combined line (``ip ident user [time zone] "request" status bytes
"referer" "agent"`` and anything after the agent, such as a request time) is read without SQL
string functions: Arrow's CSV reader (C++, two threads on two byte ranges of the file) splits
each line on its six double quotes, one RE2 match checks the part before the request, and every
field is dictionary-encoded, so Python and DuckDB see each distinct text once: an address, agent,
referrer or path becomes an integer id (:class:`TextIds`), and a timestamp, a request line or
``status bytes`` is turned into numbers once, by the very SQL expressions of the exact reader
(:mod:`.parse`), so the fast path cannot read a value differently.

Every line the fast path is not certain of goes, as its bytes, to the exact reader: a line
without exactly six double quotes (an escaped quote, a line cut short, common log format), an
unusual head (brackets, spaces or an empty address where the exact reader's two branches could
disagree), a line with a NUL or the byte DuckDB's line reader splits on, bytes that are not
UTF-8, and any line of a block Arrow refuses. Each physical line is thus read once, by one of the
two paths. A file with a carriage return anywhere (CRLF) is read whole by the exact reader:
DuckDB's line reader takes a lone CR as a line end or not depending on the lines before it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK_BYTES = 8 << 20
# Lines longer than this go to the exact reader (DuckDB refuses lines over 2 MB; Arrow does not).
MAX_LINE = 1 << 20
_FIELDS = [f"f{i}" for i in range(7)]
_HEAD_RE = r"^[^ \[\]]+ [^ \[\]]+ [^ \[\]]+ \[[^ \[\]]+ [^ \[\]]+\] $"
# `` status bytes `` as servers write them (``-`` for no body); other shapes: the exact reader.
_STATUS_RE = r"^ [0-9]{3} ([0-9]{1,18}|-) $"
_ODD_BYTES = (b"\x00", b"\x01")

# The exact reader's expressions (parse._combined_select), applied once per distinct text.
_TIME_SQL = """SELECT epoch(ts)::BIGINT, (tz // 100) * 3600 + (tz % 100) * 60
    FROM (SELECT i, try_strptime(t, '%d/%b/%Y:%H:%M:%S %z') AS ts,
                 TRY_CAST(substr(t, -5) AS INTEGER) AS tz FROM _new) ORDER BY i"""


class TextIds:
    """Distinct texts → ids 1, 2, … in order of first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.texts: list[str] = []

    def of(self, values: list[str]) -> list[int]:
        ids = self.ids
        out: list[Any] = list(map(ids.get, values))
        if None in out:
            texts = self.texts
            for k, v in enumerate(values):
                if out[k] is None:
                    i = ids.get(v)
                    if i is None:
                        texts.append(v)
                        i = ids[v] = len(texts)
                    out[k] = i
        return out


@dataclass
class FastResult:
    lines: int = 0  # lines stored by the fast path (ok or not)
    fallback: list[bytes] = field(default_factory=list)  # lines for the exact reader
    whole: bool = False  # the whole file is for the exact reader


@dataclass
class FastReader:
    """Reads combined files into ``hits`` (ids), sharing its ids across files."""

    con: Any
    keep_query: bool = True
    ips: TextIds = field(default_factory=TextIds)
    paths: TextIds = field(default_factory=TextIds)
    referers: TextIds = field(default_factory=TextIds)
    agents: TextIds = field(default_factory=TextIds)

    def read(self, path: Path, threads: int = 2) -> FastResult:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())  # freed blocks go back (memory goal)
        result = FastResult()
        with path.open("rb") as fh:
            fd = fh.fileno()
            size = os.fstat(fd).st_size
            if _has_carriage_return(fd, size):
                # DuckDB's line reader takes a lone CR as a line end depending on the lines
                # before it, so only the whole file read by it is certain: all to the exact one.
                result.whole = True
                return result
            with ThreadPoolExecutor(max_workers=threads) as pool:
                pending: list[Future[_Split]] = []
                for start, end in _ranges(fd, size):
                    pending.append(pool.submit(_split, fd, start, end, self.keep_query))
                    if len(pending) > threads:
                        self._store(pending.pop(0).result(), result)
                for fut in pending:
                    self._store(fut.result(), result)
        return result

    def _store(self, split: _Split, result: FastResult) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        result.fallback.extend(split.fallback)
        if split.columns is None:
            return
        c = split.columns
        result.lines += len(c["status"])
        ids = {}
        for name, texts in (("ip_id", self.ips), ("path_id", self.paths),
                            ("ref_id", self.referers), ("ua_id", self.agents)):
            values, idx = c[name]
            ids[name] = pa.array(texts.of(values), pa.int32()).take(idx)
        day, idx = c["time"]
        cur = self.con.cursor()
        try:  # each distinct time once, by the exact reader's expressions
            cur.register("_new", pa.table({"i": pa.array(range(len(day)), pa.int32()), "t": day}))
            times = cur.sql(_TIME_SQL).to_arrow_table()
        finally:
            cur.close()
        epoch = times.column(0).combine_chunks().take(idx)
        batch = pa.table({
            "ok": pc.is_valid(epoch), "epoch": epoch,
            "off_s": times.column(1).combine_chunks().take(idx), "ip_id": ids["ip_id"],
            "path_id": ids["path_id"], "query": c["query"], "status": c["status"],
            "bytes": c["bytes"], "ref_id": ids["ref_id"], "ua_id": ids["ua_id"],
        })
        self.con.register("_fast_batch", batch)
        try:
            self.con.execute("INSERT INTO hits SELECT * FROM _fast_batch")
        finally:
            self.con.unregister("_fast_batch")


def _target(request: Any) -> tuple[Any, Any]:
    """Each request line's path and query, as the exact reader takes them: the second of its
    space-separated parts ('' without one) split at its first ``?``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def second(column: Any, pattern: str, max_splits: int) -> Any:
        parts = pc.split_pattern(column, pattern, max_splits=max_splits)
        values = parts.values
        at = pc.add(parts.offsets.slice(0, len(parts)), 1)
        at = pc.min_element_wise(at, max(len(values) - 1, 0))
        found = values.take(at) if len(values) else pa.array([""] * len(column), pa.string())
        return pc.if_else(pc.greater(pc.list_value_length(parts), 1), found, "")

    target = second(request, " ", 2)
    path = pc.list_element(pc.split_pattern(target, "?", max_splits=1), 0)
    return path, second(target, "?", 1)


def _encoded(column: Any) -> tuple[list[str], Any]:
    """A column's distinct texts (Python) and each row's index into them."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(column)
    return enc.dictionary.to_pylist(), enc.indices


def _has_carriage_return(fd: int, size: int) -> bool:
    at = 0
    while at < size:
        block = os.pread(fd, 16 << 20, at)
        if not block:
            break
        if b"\r" in block:
            return True
        at += len(block)
    return False


def _ranges(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of about CHUNK_BYTES ending at a line break (the last at the file's end)."""
    start = 0
    while start < size:
        end = min(start + CHUNK_BYTES, size)
        while end < size:
            window = os.pread(fd, 1 << 16, end - 1)
            cut = window.find(b"\n")
            if cut >= 0:
                end += cut
                break
            end += len(window) - 1
        yield start, min(end, size)
        start = min(end, size)


@dataclass
class _Split:
    columns: dict[str, Any] | None
    fallback: list[bytes]


def _split(fd: int, start: int, end: int, keep_query: bool) -> _Split:
    """One byte range: its lines split into fields, and the lines for the exact reader."""
    fallback: list[bytes] = []
    data = os.pread(fd, end - start, start)
    if start == 0 and data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark: the exact reader
        first, _, data = data.partition(b"\n")
        fallback.append(first)
    if any(b in data for b in _ODD_BYTES):
        data = _clean(data, fallback)
    try:
        str(data, "utf-8")  # Arrow's handler would decode a refused line's bytes
    except UnicodeDecodeError:
        data = _clean(data, fallback, utf8=True)
    try:
        refused: list[bytes] = []
        return _Split(_fields(data, refused, keep_query), fallback + refused)
    except Exception:  # anything Arrow refuses: every line to the exact reader
        return _Split(None, fallback + [ln for ln in data.split(b"\n") if ln])


def _clean(data: bytes, fallback: list[bytes], *, utf8: bool = False) -> bytes:
    """``data`` without the lines that hold an odd byte (or, with ``utf8``, that are not
    UTF-8), which go to ``fallback``."""
    good = []
    for line in data.split(b"\n"):
        if not line:
            continue
        odd = any(b in line for b in _ODD_BYTES)
        if not odd and utf8:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                odd = True
        (fallback if odd else good).append(line)
    return b"\n".join(good) + b"\n" if good else b""


def _fields(data: Any, fallback: list[bytes], keep_query: bool) -> dict[str, Any] | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    if not len(data):
        return None
    refused: list[bytes] = []

    def handler(row: Any) -> str:
        refused.append(row.text.encode("utf-8", "surrogateescape"))
        return "skip"

    table = pcsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pcsv.ReadOptions(column_names=_FIELDS, block_size=len(data) + 1,
                                      use_threads=False),
        parse_options=pcsv.ParseOptions(delimiter='"', quote_char=False, escape_char=False,
                                        newlines_in_values=False, invalid_row_handler=handler),
        convert_options=pcsv.ConvertOptions(column_types={f: pa.string() for f in _FIELDS},
                                            check_utf8=False),
    ).combine_chunks()
    fallback.extend(refused)
    if not table.num_rows:
        return None
    cols = [table.column(i).chunk(0) if table.column(i).num_chunks else
            pa.array([], pa.string()) for i in range(7)]
    good = pc.and_(pc.and_(pc.match_substring_regex(cols[0], _HEAD_RE), pc.equal(cols[4], " ")),
                   pc.match_substring_regex(cols[2], _STATUS_RE))
    sizes = [pc.binary_length(c) for c in cols]
    total = sizes[0]
    for s in sizes[1:]:
        total = pc.add(total, s)
    good = pc.and_(good, pc.less(total, MAX_LINE))
    if pc.sum(good).as_py() != len(good):
        bad = pc.invert(good)
        rows = zip(*(pc.filter(c, bad).to_pylist() for c in cols), strict=True)
        fallback.extend('"'.join(r).encode("utf-8") for r in rows)
        cols = [pc.filter(c, good) for c in cols]
        if not len(cols[0]):
            return None
    parts = pc.split_pattern(cols[0], " ")
    base = parts.offsets.slice(0, len(parts))
    values = parts.values
    day = pc.dictionary_encode(values.take(pc.add(base, 3)))
    zone = pc.dictionary_encode(values.take(pc.add(base, 4)))
    zones = [z[:-1] for z in zone.dictionary.to_pylist()]
    days = [d[1:] for d in day.dictionary.to_pylist()]
    if len(zones) == 1:
        times, time_idx = [d + " " + zones[0] for d in days], day.indices
    else:
        key = pc.dictionary_encode(pc.add(pc.multiply(day.indices.cast(pa.int64()), len(zones)),
                                          zone.indices.cast(pa.int64())))
        time_idx = key.indices
        times = [days[k // len(zones)] + " " + zones[k % len(zones)]
                 for k in key.dictionary.to_pylist()]
    request = pc.dictionary_encode(cols[1])  # each distinct request line split once
    path, query = _target(request.dictionary)
    if not keep_query:  # parse._QUERY_MARK
        query = pc.if_else(pc.match_substring(query, "embed"), "embed", "")
    paths = pc.dictionary_encode(path)
    status_bytes = cols[2]
    size = pc.utf8_slice_codeunits(status_bytes, 5, -1)
    return {
        "ip_id": _encoded(values.take(base)),
        "path_id": (paths.dictionary.to_pylist(), paths.indices.take(request.indices)),
        "ref_id": _encoded(pc.if_else(pc.equal(cols[3], "-"), "", cols[3])),
        "ua_id": _encoded(cols[5]),
        "time": (pa.array(times, pa.string()), time_idx),
        "query": pa.DictionaryArray.from_arrays(request.indices, query),
        "status": pc.utf8_slice_codeunits(status_bytes, 1, 4).cast(pa.int16()),
        "bytes": pc.if_else(pc.equal(size, "-"), "0", size).cast(pa.int64()),
    }


def available() -> bool:
    """Whether the fast reader can run here (pyarrow installed)."""
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return os.name == "posix"
