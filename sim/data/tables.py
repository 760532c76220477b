"""Reading a user's CSV file: every problem located by file, line and column, with what
would be valid (never a traceback)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

#: Larger files are refused (a year of calls is far smaller).
MAX_BYTES = 500_000_000


class DataProblem(ValueError):
    """A problem in a user's data file, located: ``file:line: column: message``."""

    def __init__(self, file: str | Path, message: str, line: int | None = None, column: str = ""):
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {column + ': ' if column else ''}{message}")


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV file with a header row, every cell as text (``DataProblem`` if unreadable)."""
    if not path.is_file():
        raise DataProblem(path, "no such file")
    if path.stat().st_size > MAX_BYTES:
        raise DataProblem(path, f"larger than {MAX_BYTES // 1_000_000} MB")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataProblem(path, "the file is empty; give a header row and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataProblem(path, f"not a CSV file ({str(exc).splitlines()[0]})") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    table.attrs["lines"] = _data_lines(path, len(table))
    if table.empty:
        raise DataProblem(path, "no data rows under the header")
    return table


def _data_lines(path: Path, rows: int) -> list[int] | None:
    """The file's line number of each data row (pandas skips blank lines), or None when the
    file cannot be matched line by line (quoted cells spanning lines)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        numbers = [n for n, line in enumerate(fh, 1) if line.strip()][1:]
    return numbers if len(numbers) == rows else None


def column(table: pd.DataFrame, path: Path, names: Sequence[str], what: str) -> str:
    """The first of ``names`` that the table has (``DataProblem`` naming the choices)."""
    for name in names:
        if name in table.columns:
            return name
    raise DataProblem(
        path,
        f"no column for {what}: name it {' or '.join(repr(n) for n in names)} "
        f"(the header has {', '.join(repr(c) for c in table.columns)})",
        line=1,
    )


def numbers(
    table: pd.DataFrame, path: Path, name: str, low: float, high: float, whole: bool = False
) -> pd.Series:
    """A column as numbers from ``low`` to ``high``; the first bad cell is located."""
    values = pd.to_numeric(table[name].str.strip(), errors="coerce")
    bad = values.isna() | (values < low) | (values > high)
    if whole:
        bad |= values.notna() & (values != values.round())
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        kind = "a whole number" if whole else "a number"
        raise DataProblem(
            path,
            f"'{table[name].iloc[i]}' is not {kind} from {low:g} to {high:g}",
            line=line_of(table, i),
            column=name,
        )
    return values


def datetimes(table: pd.DataFrame, path: Path, name: str, what: str) -> pd.Series:
    """A column of dates or date-times (ISO 8601), as local Dutch clock time: stamps with a
    UTC offset (``+01:00``, ``Z``) are converted, so an export across a clock change reads
    right; the first bad cell is located."""
    text = table[name].str.strip()
    offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if offset.any() and not offset.all():
        i = int((~offset).to_numpy().nonzero()[0][0])
        raise DataProblem(
            path,
            f"'{text.iloc[i]}' has no UTC offset while other rows do: give every row one, or none",
            line=line_of(table, i),
            column=name,
        )
    values = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=bool(offset.any()))
    if values.isna().any():
        i = int(values.isna().to_numpy().nonzero()[0][0])
        raise DataProblem(
            path,
            f"'{text.iloc[i]}' is not {what} (give ISO 8601, e.g. 2026-01-05 18:30)",
            line=line_of(table, i),
            column=name,
        )
    if offset.any():
        values = values.dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None)
    return values


def line_of(table: pd.DataFrame, i: int) -> int:
    """The line in the file of the table's row ``i`` (blank lines counted)."""
    lines = table.attrs.get("lines")
    return int(lines[i]) if lines is not None else i + 2
