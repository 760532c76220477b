"""The look every report shares: a colour-blind-safe palette, the page style (screen and
A4 print), human names of inputs, and saving a figure as SVG and 300-dpi PNG."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from sim.experiments.runfiles import atomic_open

#: Okabe & Ito's palette (2008), distinguishable with every common colour-vision deficiency;
#: the report pairs colours with line styles or hatching so that grey print reads too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Better and worse in figures (blue and vermilion: safe for red-green deficiencies).
BETTER_COLOUR, WORSE_COLOUR, NEUTRAL_COLOUR = "#0072B2", "#D55E00", "#999999"

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #999;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0} th,td{border:1px solid #bbb;padding:.25em .45em;text-align:right;vertical-align:top}
th{background:#eee} td.l,th.l{text-align:left} tr.sec td{background:#f4f4f4;font-weight:bold;text-align:left}
.small{font-size:.85em;color:#444} figure{margin:1em 0;break-inside:avoid} figcaption{font-size:.85em;color:#333}
figure svg,figure img{max-width:100%;height:auto} li{margin:.25em 0}
.banner{border:2px solid #E69F00;background:#fff7e6;padding:.5em 1em;margin:1em 0}
.answer{border:2px solid #0072B2;padding:.4em 1em;margin:1em 0}
td.better{background:#dbeaf7} td.worse{background:#fbe3d6} td.depends{background:#fff3c4}
.changed{color:#8a4b00;font-weight:bold}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;margin:0;font-size:10pt} h2{break-after:avoid} figure,.answer{break-inside:avoid} table{font-size:7pt} tr{break-inside:avoid}}
"""  # noqa: E501  (one CSS rule per line reads better than wrapped rules)

#: Words that keep their capitals in a human name made from an identifier.
_UPPER = {"gp": "GP", "mka": "MKA", "ed": "ED", "a1": "A1", "u1": "U1", "u2": "U2"}


def e(text: Any) -> str:
    """Text escaped for HTML."""
    return html.escape(str(text))


def input_label(name: str) -> str:
    """A human name of an uncertain input or a field: ``gp_post_call_length`` becomes
    ``GP post call length``."""
    words = name.replace(".", " ").replace("_", " ").split()
    out = [_UPPER.get(w.lower(), w) for w in words]
    for i in range(len(out) - 1):  # "GP type" reads "GP-type"
        if out[i] == "GP" and out[i + 1] == "type":
            out[i : i + 2] = ["GP-type", ""]
    out = [w for w in out if w]
    if out and out[0] == out[0].lower():
        out[0] = out[0][0].upper() + out[0][1:]
    return " ".join(out)


def plain_value(value: Any) -> str:
    """A scenario value as a reader reads it: ``dist: lognormal, mean_min: 2.2, cv: 0.5``
    rather than a Python dict, lists joined by commas, numbers without trailing zeros."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {plain_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(plain_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return "none" if value is None else str(value)


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only backend (no screen needed), in the reports'
    style: small type, a light grid, text kept as text in SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 9,
            "axes.grid": True,
            "grid.color": "#dddddd",
            "svg.fonttype": "none",
            "axes.prop_cycle": plt.cycler(color=PALETTE),
        }
    )
    return plt


def save_svg_png(fig: Any, folder: Path, name: str) -> str:
    """Save a figure under ``folder/figures`` as SVG and as 300-dpi PNG (nothing clipped:
    the bounding box is the drawn one); return the SVG text to place in a report."""
    import io

    plt = pyplot()
    out = folder / "figures"
    out.mkdir(exist_ok=True)
    fig.tight_layout()
    # The drawn bounding box (what bbox_inches="tight" finds), found once for both files:
    # with "tight", or with a layout engine still set, every save lays the whole figure
    # out once more before it draws it. (Found before any draw: the same box as after one
    # for every figure the tests make, 149 of them.)
    fig.set_layout_engine(None)
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    box = box.padded(plt.rcParams["savefig.pad_inches"])
    with atomic_open(out / f"{name}.png", "wb") as fh:
        # zlib level 3: a third less CPU than the default 6 for files about a tenth larger
        fig.savefig(
            fh, format="png", dpi=300, bbox_inches=box, metadata={"Software": None},
            pil_kwargs={"compress_level": 3},
        )  # fmt: skip
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches=box, metadata={"Date": None})
    plt.close(fig)
    # no creation metadata: the same study writes the same file, and nothing names a web
    # address but the SVG namespace
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", buf.getvalue(), flags=re.S)
    with atomic_open(out / f"{name}.svg", "w", encoding="utf-8") as fh:
        fh.write(svg)
    return svg[svg.index("<svg") :]
