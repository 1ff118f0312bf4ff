"""The digest's chart: the week's events per company and type, as a PNG.

matplotlib is imported only here and only when drawing (it is slow to import), with the Agg
backend and its object API (no pyplot: no global state, safe in a worker thread).
"""

from __future__ import annotations

import io
from typing import Mapping

from watchers.models import EVENT_TYPES

TYPE_COLOURS = {
    "funding": "#2e7d32", "leadership_change": "#1565c0", "customer_loss": "#c62828", "acquisition": "#6a1b9a",
    "layoffs": "#ef6c00", "partnership": "#00838f", "legal": "#5d4037",
}
MAX_COMPANIES = 20


def render_digest_chart(counts: Mapping[str, Mapping[str, int]], title: str) -> bytes:
    """A horizontal stacked bar per company (busiest first), one colour per event type."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = sorted(((name, dict(by_type)) for name, by_type in counts.items() if sum(by_type.values())),
                  key=lambda row: (-sum(row[1].values()), row[0].lower()))[:MAX_COMPANIES]
    rows.reverse()  # barh draws bottom-up: busiest on top
    figure = Figure(figsize=(9, 1.6 + 0.45 * max(len(rows), 1)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    names = [_plain(name) for name, _ in rows]
    left = [0] * len(rows)
    for kind in EVENT_TYPES:
        values = [by_type.get(kind, 0) for _, by_type in rows]
        if any(values):
            axes.barh(names, values, left=left, color=TYPE_COLOURS[kind], label=kind.replace("_", " "))
            left = [a + b for a, b in zip(left, values)]
    if not rows:
        axes.text(0.5, 0.5, "no events this week", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    else:
        # beside the plot, never over a bar
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    axes.set_title(_plain(title))
    axes.set_xlabel("events")
    axes.xaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _plain(text: str) -> str:
    """Keep matplotlib from reading `$...$` in a company name as math."""
    return text.replace("$", r"\$")
