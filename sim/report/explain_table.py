"""The table of where each headline difference comes from (``compare --explain``, and the
base point of an uncertainty study): structure, or a changed assumption, step by step."""

from __future__ import annotations

import math
from typing import Any

from sim.report.formatting import format_difference
from sim.report.style import e

EXPLAIN_INTRO = (
    "<p class='small'>Each form was also run with its structure only (its desks, numbers, "
    "transfers and pooling, but today's triage accuracy, call durations and caller patience), "
    "and then with its own assumptions put back one at a time, in this order. Each cell is "
    "the paired difference one step adds, with its 95 % interval; the steps add up to the "
    "total. What the structure column holds comes from the form's mechanisms; the other "
    "columns are set by the inputs named, which are assumptions to vary, not findings. The "
    "attribution is sequential: another order would share interactions differently.</p>"
)


def explain_table(rows: list[dict[str, Any]]) -> str:
    """Where each headline difference comes from: structure, or a changed assumption."""
    steps = list(dict.fromkeys(r["step"] for r in rows))
    out = ["<h2>Where the differences come from</h2>", EXPLAIN_INTRO, "<table><tr>"]
    out.append("<th class='l'>figure</th><th class='l'>form</th><th>total difference</th>")
    out.append("".join(f"<th>{e(s)}</th>" for s in steps) + "</tr>")
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["kpi"], r["form"]), {})[r["step"]] = r
    for (_, form), by_step in groups.items():
        first = next(iter(by_step.values()))
        unit = first["unit"]
        total = format_difference(first["total"], math.nan, math.nan, unit)
        cells = [
            f"<td>{e(format_difference(r['difference'], r['ci_low'], r['ci_high'], unit))}</td>"
            for r in (by_step[s] for s in steps)
        ]
        out.append(
            f"<tr><td class='l'>{e(first['label'])}</td><td class='l'>{e(form)}</td>"
            f"<td>{e(total)}</td>" + "".join(cells) + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)
