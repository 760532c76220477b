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
    if table.empty:
        raise DataProblem(path, "no data rows under the header")
    return table


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
            line=i + 2,
            column=name,
        )
    return values


def datetimes(table: pd.DataFrame, path: Path, name: str, what: str) -> pd.Series:
    """A column of dates or date-times (ISO 8601); the first bad cell is located."""
    text = table[name].str.strip()
    values = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if values.isna().any():
        i = int(values.isna().to_numpy().nonzero()[0][0])
        raise DataProblem(
            path,
            f"'{text.iloc[i]}' is not {what} (give ISO 8601, e.g. 2026-01-05 18:30)",
            line=i + 2,
            column=name,
        )
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None)
    return values
