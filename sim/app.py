"""The web app: pick or upload scenarios, change the inputs that decide a comparison, run a
comparison of the organisational forms, read the verdict, the key figures and the KPI
table, and download the run folder, its tables and the HTML report.

Started by ``python run_sim.py app`` (Streamlit runs this file; the ``app`` extra installs
Streamlit). It uses the Python API (``sim.api``) only: every number it shows is the one the
command line would give for the same scenarios, changes and seed.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import streamlit as st

from sim import api

FORMS = ("separate", "colocated", "coordination_centre", "central")
FORM_WORDS = {
    "separate": "today: two numbers, two desks",
    "colocated": "co-located room, warm transfers",
    "coordination_centre": "coordination centre behind the GP post's number",
    "central": "one number, one pooled desk",
}
SETS = {
    "Groningen (shipped)": api.SCENARIOS / "groningen_{form}.yaml",
    "TEMPLATE region (shipped, fictional)": api.SCENARIOS / "regions" / "TEMPLATE" / "{form}.yaml",
}
UPLOAD = "Upload your own scenario files"
VERDICT_MARK = {"better": "better", "worse": "WORSE", "no detectable difference": "no difference"}


def main() -> None:
    """The page, top to bottom."""
    st.set_page_config(page_title="After-hours acute care simulator", layout="wide")
    st.title("After-hours acute care: compare the organisational forms")
    st.caption(
        "What changes for patients and scarce staff when the front doors of acute care "
        "(112 and the GP post's number) are joined? Paired replications with common random "
        "numbers; intervals are 95 %."
    )
    if st.sidebar.button("Start again", key="clear"):
        clear_session_folder()
    scenarios = _choose_scenarios()
    if len(scenarios) < 1:
        st.info("Choose at least one scenario (today's form first) in the sidebar.")
        return
    weeks, replications = _run_settings()
    run = st.sidebar.button("Run comparison", key="run", type="primary")
    results = st.container()  # above the inputs, filled once they are read
    values = _input_form(scenarios[0])
    with results:
        if run:
            _run(scenarios, weeks, replications, values)
        result = st.session_state.get("result")
        if result is not None:
            _show(result, st.session_state.get("changes", {}))
        else:
            st.info("Set the run in the sidebar, change inputs below if you wish, then run.")


# --------------------------------------------------------------------------- inputs


def _choose_scenarios() -> list[api.Scenario]:
    """The scenarios to compare, today's form first (shipped sets or uploads)."""
    st.sidebar.header("Scenarios")
    source = st.sidebar.radio("Region", [*SETS, UPLOAD], key="source")
    if source == UPLOAD:
        return _uploaded()
    forms = st.sidebar.multiselect(
        "Forms (today's first)",
        FORMS,
        default=list(FORMS),
        format_func=lambda f: f"{f} - {FORM_WORDS[f]}",
        key="forms",
    )
    ordered = [f for f in FORMS if f in forms]
    return [api.load_scenario(str(SETS[source]).format(form=f)) for f in ordered]


def _uploaded() -> list[api.Scenario]:
    files = st.sidebar.file_uploader(
        "Scenario files (YAML), today's form first; a file may extend the shipped ones "
        "(extends: [groningen_base.yaml, forms/central.yaml])",
        type=["yaml", "yml"],
        accept_multiple_files=True,
        key="uploads",
    )
    out = []
    for f in files or []:
        try:
            out.append(api.load_scenario_text(f.getvalue().decode("utf-8"), f.name))
        except (api.ScenarioError, UnicodeDecodeError) as exc:
            st.sidebar.error(f"{f.name}:\n\n{exc}")
    return out


def _run_settings() -> tuple[int, int]:
    st.sidebar.header("Run")
    weeks = st.sidebar.number_input(
        "Reporting weeks per replication", 1, 52, 2, key="weeks",
        help="Weeks reported after a one-week warm-up (run.weeks) [weeks].",
    )  # fmt: skip
    replications = st.sidebar.number_input(
        "Replications", 2, 100, 5, key="replications",
        help="Paired replications per form; more give narrower intervals.",
    )  # fmt: skip
    return int(weeks), int(replications)


def _input_form(today: api.Scenario) -> dict[str, float]:
    """The declared uncertain inputs as number fields (value, range, unit, help, source and
    confidence); the values changed from the scenario's own."""
    declared = api.inputs(today)
    changed: dict[str, float] = {}
    with st.expander(f"Inputs that decide the comparison ({len(declared)})", expanded=False):
        if not declared:
            st.write("This scenario declares no uncertain inputs (its uncertainty: block).")
        columns = st.columns(3)
        for i, item in enumerate(declared):
            value = columns[i % 3].number_input(
                f"{item.name} [{item.unit}]",
                min_value=float(min(item.low, item.value)),
                max_value=float(max(item.high, item.value)),
                value=float(item.value),
                format="%.4g",
                key=f"input.{item.name}",
                help=_input_help(item),
            )
            if abs(value - item.value) > 1e-12 * max(1.0, abs(item.value)):
                changed[item.name] = float(value)
    return changed


def _input_help(item: api.Input) -> str:
    return (
        f"{item.description}\n\nMoves: {', '.join(item.fields)} ({item.how}).\n\n"
        f"Range shown: the central 98 % of its declared distribution, "
        f"{item.low:.4g} to {item.high:.4g}.\n\nSource ({item.confidence}): {item.source}"
    )


# --------------------------------------------------------------------------- run


def _run(scenarios: list[api.Scenario], weeks: int, reps: int, values: dict[str, float]) -> None:
    """Run the comparison into a folder of this session, with a progress bar."""
    forms = [
        api.load_scenario(api.with_inputs(sc, values) if values else sc, {"run.weeks": weeks})
        for sc in scenarios
    ]
    if "out" not in st.session_state:  # one folder per session, the last run kept in it
        st.session_state["out"] = tempfile.mkdtemp(prefix="afterhours-app-")
    out = Path(st.session_state["out"])
    for old in out.iterdir():
        shutil.rmtree(old, ignore_errors=True)
    bar = st.progress(0.0, text="Running replications ...")

    def progress(done: int, needed: int) -> None:
        bar.progress(done / max(needed, 1), text=f"{done} of {needed} replications")

    try:
        if len(forms) == 1:
            result = api.run(forms[0], reps, records=False, out=out, progress=progress)
        else:
            result = api.compare(forms, reps, out=out, progress=progress, report=True)
    except api.ScenarioError as exc:
        bar.empty()
        st.error(f"These changes do not make a valid scenario:\n\n{exc}")
        return
    except (ValueError, RuntimeError, api.StudyStopped) as exc:  # e.g. two forms of one name
        bar.empty()
        st.error(f"The comparison could not run: {exc}")
        return
    bar.empty()
    st.session_state["result"] = result
    st.session_state["changes"] = values


# --------------------------------------------------------------------------- results


def _show(result: api.Results, changes: dict[str, float]) -> None:
    if changes:
        listed = ", ".join(f"{k} = {v:.4g}" for k, v in changes.items())
        st.warning(f"Changed by you (every form): {listed}")
    scenarios = list(dict.fromkeys(result.summary["scenario"]))
    st.header("Verdict")
    if len(scenarios) < 2:
        st.write(f"One scenario ({scenarios[0]}): nothing to compare; see the KPI table.")
    verdicts = result.verdicts()
    for form in scenarios[1:]:
        st.subheader(f"{form} against {scenarios[0]}")
        rows = verdicts[verdicts["scenario"] == form]
        st.markdown("\n".join(_verdict_line(r) for r in rows.to_dict("records")))
    _figures(result)
    st.header("KPI table")
    table = result.summary.pivot_table(
        index=["label", "unit"], columns="scenario", values="mean", sort=False
    )
    st.dataframe(table[scenarios], width="stretch")
    _downloads(result)


def _verdict_line(row: dict[str, Any]) -> str:
    mark = VERDICT_MARK.get(str(row["verdict"]), "")
    unit = "" if row["unit"] in ("share", "min") else f" {row['unit']}"
    strong = f"**{mark}**" if mark in ("better", "WORSE") else mark or "(no direction)"
    return f"- {strong}: {row['label']}, {row['text']}{unit}"


def _figures(result: api.Results) -> None:
    if result.folder is None:
        return
    pictures = sorted((result.folder / "figures").glob("*.png"))[:4]
    if not pictures:
        return
    st.header("Key figures")
    columns = st.columns(2)
    for i, path in enumerate(pictures):
        columns[i % 2].image(str(path), caption=path.stem.replace("_", " "))


def _downloads(result: api.Results) -> None:
    if result.folder is None:
        return
    st.header("Downloads")
    folder = result.folder
    columns = st.columns(5)
    report = folder / "report.html"
    if report.exists():
        columns[0].download_button(
            "HTML report", report.read_bytes(), "report.html", "text/html", key="dl_report"
        )
    for i, name in enumerate(("summary.csv", "comparison.csv", "kpis_by_replication.csv"), 1):
        if (folder / name).exists():
            columns[i].download_button(
                name, (folder / name).read_bytes(), name, "text/csv", key=f"dl_{name}"
            )
    columns[4].download_button(
        "Run folder (zip)", _zipped(folder), f"{folder.name}.zip", "application/zip",
        key="dl_zip",
    )  # fmt: skip


def _zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()


def clear_session_folder() -> None:
    """Remove this session's run folders (the app's 'start again')."""
    out = st.session_state.pop("out", None)
    if out:
        shutil.rmtree(out, ignore_errors=True)
    st.session_state.pop("result", None)


if __name__ == "__main__":
    main()
