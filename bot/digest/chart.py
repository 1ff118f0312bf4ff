"""The digest's chart, a PNG made to be read at chat preview size (about 800 x 450 shown).

Left: every company of the channel with events that week, one stacked bar each (busiest on top),
one colour per event type with its count written on the bar and its total at the end; the quiet
companies named under it. Right, when given: the channel's events of the last weeks, stacked the
same way, this week marked. One legend of the event types, in words, under the title.

matplotlib is imported only here and only when drawing (it is slow to import), with the Agg
backend and its object API (no pyplot: no global state, safe in a worker thread). The figure is
8 x 4.5 inches at 200 dpi (1600 x 900 px): sharp on high-density screens, readable scaled down.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING, Mapping, Sequence

from watchers.models import EVENT_TYPES

if TYPE_CHECKING:
    from bot.digest.trend import WeekCounts

TYPE_COLOURS = {
    "funding": "#2e7d32", "leadership_change": "#1565c0", "customer_loss": "#c62828", "acquisition": "#6a1b9a",
    "layoffs": "#ef6c00", "partnership": "#00838f", "legal": "#6d4c41",
}
MAX_COMPANIES = 12  # more rows than this are unreadable at preview size: the rest are summed up
WIDTH, HEIGHT, DPI = 8.0, 4.5, 200
TEXT, MUTED = "#222222", "#666666"


def type_label(kind: str) -> str:
    return kind.replace("_", " ")


def render_digest_chart(counts: Mapping[str, Mapping[str, int]], title: str, *, quiet: Sequence[str] = (),
                        trend: Sequence["WeekCounts"] = ()) -> bytes:
    """The chart as PNG bytes: `counts` is company name -> event type -> events of the week."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = sorted(((name, dict(by_type)) for name, by_type in counts.items() if sum(by_type.values())),
                  key=lambda row: (-sum(row[1].values()), row[0].lower()))
    hidden = rows[MAX_COMPANIES:]
    rows = rows[:MAX_COMPANIES]
    quiet = [name for name in quiet if name not in counts or not sum(counts[name].values())]
    weekly = [dict(week.counts) for week in trend]
    used = [k for k in EVENT_TYPES if any(r[1].get(k) for r in rows) or any(w.get(k) for w in weekly)]

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.patch.set_facecolor("white")
    figure.text(0.02, 0.955, _plain(title), fontsize=14, fontweight="bold", color=TEXT, va="center")
    columns = len(used) if len(used) <= 5 else 4  # one row, or two read left to right
    if used:
        order = [i + row * columns for i in range(columns) for row in (0, 1) if i + row * columns < len(used)]
        figure.legend(handles=[Patch(color=TYPE_COLOURS[used[i]], label=type_label(used[i])) for i in order],
                      loc="upper left", bbox_to_anchor=(0.015, 0.925), ncol=columns, frameon=False,
                      fontsize=10, handlelength=1.2, columnspacing=1.2, handletextpad=0.4)
    top = 0.8 if len(used) <= columns else 0.74
    bottom = 0.2 if quiet or hidden else 0.1
    bars = figure.add_axes((0.2, bottom, 0.44 if trend else 0.74, top - bottom))
    _company_bars(bars, rows)
    footnotes = []
    if hidden:
        footnotes.append(f"and {len(hidden)} more with {sum(sum(r[1].values()) for r in hidden)} events")
    if quiet:
        footnotes.append("Quiet this week: " + ", ".join(quiet))
    if footnotes:
        note = textwrap.fill("; ".join(footnotes), 95 if not trend else 70, max_lines=2, placeholder=" \u2026")
        figure.text(0.02, 0.06, _plain(note), fontsize=10, color=MUTED, va="center")
    if trend:
        _trend_panel(figure.add_axes((0.71, bottom, 0.25, top - bottom)), trend, weekly)
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor="white")
    return out.getvalue()


def _company_bars(axes, rows: list[tuple[str, dict[str, int]]]) -> None:  # noqa: ANN001
    _clean(axes)
    if not rows:
        axes.text(0.5, 0.5, "no events this week", ha="center", va="center", transform=axes.transAxes,
                  fontsize=12, color=MUTED)
        axes.set_xticks([])
        axes.set_yticks([])
        return
    rows = list(reversed(rows))  # barh draws bottom-up: busiest on top
    names = [_plain(textwrap.shorten(name, 22, placeholder="\u2026")) for name, _ in rows]
    positions = list(range(len(rows)))
    left = [0] * len(rows)
    height = 0.7 if len(rows) > 2 else 0.5
    for kind in EVENT_TYPES:
        values = [by_type.get(kind, 0) for _, by_type in rows]
        if not any(values):
            continue
        drawn = axes.barh(positions, values, left=left, color=TYPE_COLOURS[kind], height=height,
                          edgecolor="white", linewidth=1)
        axes.bar_label(drawn, labels=[str(v) if v else "" for v in values], label_type="center",
                       color="white", fontsize=10, fontweight="bold")
        left = [a + b for a, b in zip(left, values)]
    widest = max(left)
    for y, total in zip(positions, left):
        axes.text(total + widest * 0.02, y, str(total), va="center", fontsize=10, color=TEXT)
    axes.set_yticks(positions, names, fontsize=11, color=TEXT)
    axes.set_xlim(0, widest * 1.12)
    pad = max(0.0, (4 - len(rows)) / 2)  # a lone company gets a bar, not a wall
    axes.set_ylim(-0.6 - pad, len(rows) - 0.4 + pad)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="x", labelsize=9, colors=MUTED)
    axes.tick_params(axis="y", length=0)
    axes.set_title("Events this week, by company", loc="left", fontsize=11, color=TEXT)


def _trend_panel(axes, trend: Sequence["WeekCounts"], weekly: list[dict[str, int]]) -> None:  # noqa: ANN001
    _clean(axes)
    positions = list(range(len(trend)))
    bottom = [0] * len(trend)
    for kind in EVENT_TYPES:
        values = [week.get(kind, 0) for week in weekly]
        if any(values):
            axes.bar(positions, values, bottom=bottom, color=TYPE_COLOURS[kind], width=0.7,
                     edgecolor="white", linewidth=0.5)
            bottom = [a + b for a, b in zip(bottom, values)]
    top = max(bottom) if any(bottom) else 1
    axes.set_ylim(0, top * 1.25)
    # this week, marked: its total above its column
    axes.text(positions[-1], bottom[-1] + top * 0.04, str(bottom[-1]), ha="center", fontsize=10,
              fontweight="bold", color=TEXT)
    labels = [week.label if i == 0 or len(trend) <= 4 else "" for i, week in enumerate(trend)]
    labels[-1] = f"{trend[-1].label}\nthis week"
    axes.set_xticks(positions, labels, fontsize=9, color=MUTED)
    axes.tick_params(axis="x", length=0)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=9, colors=MUTED)
    axes.set_title(f"Last {len(trend)} weeks", loc="left", fontsize=11, color=TEXT)


def _clean(axes) -> None:  # noqa: ANN001
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#bbbbbb")


def _plain(text: str) -> str:
    """Keep matplotlib from reading `$...$` in a company name as math."""
    return text.replace("$", r"\$")
