"""Incident files as text cells: the encoding and delimiter found (or given), rows as read.

Encoding: the one given (`--encoding` or the mapping's `encoding`), else UTF-8 (with or without
BOM), else GB18030 when every non-ASCII character it yields is a common Chinese character or
symbol (the GB2312 set, as Chinese Windows exports write). Anything else is ambiguous (Latin-1
`Café` also decodes as GB18030, into other characters) and stops with a request for `--encoding`:
text is never lost silently.

Delimiter: the one given, else whichever of `,` `;` tab `|` splits the header and the first
rows into the same number of fields (most fields wins).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wxrisk.config import WxriskError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SNIFF_LINES = 50


@dataclass
class RawTable:
    """The file's rows as text: header, a frame of well-formed rows (`_row` = 1-based), rejects."""

    header: list[str]
    frame: pd.DataFrame
    rejected: list[tuple[int, str, dict]] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","

    def describe_layout(self) -> str:
        """`headers seen (semicolon-delimited): a, b, c` for error messages."""
        shown = ", ".join(repr(h) for h in self.header[:30]) + (", ..." if len(self.header) > 30 else "")
        return f"headers seen ({DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-delimited): {shown}"


def read_table(path: Path, encoding: str | None = None, delimiter: str | None = None) -> RawTable:
    """A CSV or Parquet file as text cells; structurally broken CSV rows are rejected, not fatal."""
    if not path.is_file():
        raise WxriskError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    data = path.read_bytes()
    text, encoding = decode(path, data, encoding)
    return _read_csv(path, text, encoding, delimiter)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise WxriskError(f"{path}: unreadable Parquet file ({str(exc).splitlines()[0]})") from exc
    text = pd.DataFrame({str(c): ["" if pd.isna(v) else str(v) for v in frame[c]] for c in frame.columns},
                        dtype=object)
    text["_row"] = np.arange(1, len(text) + 1)
    return RawTable(list(map(str, frame.columns)), text, encoding="parquet", delimiter="")


def decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding used (see the module docstring for the rules)."""
    if encoding:
        return _decode_as(path, data, encoding), encoding
    if b"\x00" in data[:4096]:
        raise WxriskError(f"{path}: not a text file (NUL bytes; UTF-16 exports need --encoding utf-16)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _common_chinese_only(text):
        return text, "gb18030"
    line = data.count(b"\n", 0, first_bad) + 1
    raise WxriskError(f"{path}: cannot tell the text encoding: byte {first_bad} (line {line}, "
                      f"{data[max(0, first_bad - 12):first_bad + 4]!r}) is not UTF-8 and the file is not "
                      "plain GB18030 Chinese; give it, e.g. --encoding latin-1, cp1252 or gb18030")


def _decode_as(path: Path, data: bytes, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise WxriskError(f"--encoding {encoding}: unknown encoding (e.g. utf-8, latin-1, cp1252, gb18030)") from exc
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise WxriskError(f"{path}: not {encoding} text: byte {exc.start} (line {line}) cannot be decoded "
                          f"({data[max(0, exc.start - 12):exc.start + 4]!r})") from exc
    return text.removeprefix("\ufeff")


def _common_chinese_only(text: str) -> bool:
    """True when every non-ASCII character is in GB2312 (common hanzi, CJK punctuation, full-width forms)."""
    extra = {ch for ch in text if ord(ch) > 127}
    try:
        "".join(extra).encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the most, equal, fields (`,` when none does)."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not counts:
            continue
        if counts[0] > best_fields and all(c == counts[0] for c in counts[: min(len(counts), 20)]):
            best, best_fields = delimiter, counts[0]
    return best


def _read_csv(path: Path, text: str, encoding: str, delimiter: str | None) -> RawTable:
    if not text.strip():
        raise WxriskError(f"{path}: empty file (no header row)")
    delimiter = delimiter or sniff_delimiter(text.splitlines()[:SNIFF_LINES])
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise WxriskError(f"{path}: unreadable CSV ({exc})") from exc
    if not records or not any(cell.strip() for cell in records[0]):
        raise WxriskError(f"{path}: empty file (no header row)")
    header = [cell.strip() for cell in records[0]]
    rows = records[1:]
    if rows and not text.endswith(("\n", "\r")) and len(rows[-1]) != len(header):
        raise WxriskError(f"{path}: truncated: the last row ({len(rows)}) has {len(rows[-1])} of "
                          f"{len(header)} fields and no line end")
    good, rejected = [], []
    for number, row in enumerate(rows, start=1):
        if len(row) == len(header):
            good.append([*row, number])
        elif not any(cell.strip() for cell in row):
            rejected.append((number, "empty row", {"fields": row}))
        else:
            rejected.append((number, f"{len(row)} fields, header has {len(header)}", {"fields": row}))
    frame = pd.DataFrame(good, columns=[*_unique(header), "_row"], dtype=object)
    return RawTable(header, frame, rejected, encoding=encoding, delimiter=delimiter)


def _unique(header: list[str]) -> list[str]:
    """Header names made unique (a repeated name gets `.1`, `.2`, like pandas does)."""
    seen: Counter = Counter()
    names = []
    for name in header:
        names.append(f"{name}.{seen[name]}" if seen[name] else name)
        seen[name] += 1
    return names
