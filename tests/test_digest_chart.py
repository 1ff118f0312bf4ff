"""The digest chart: companies by event type, the quiet ones, the last 8 weeks (bot/digest/chart, trend)."""

from __future__ import annotations

import io
import struct
from datetime import date, datetime, timedelta, timezone

from bot.digest.build import trend_weeks
from bot.digest.chart import render_digest_chart
from bot.digest.trend import WeekCounts, load_trend
from tests.command_support import store_item
from watchers.models import Event

WEEK = date(2026, 11, 16)


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def trend(*weeks: dict[str, int]) -> list[WeekCounts]:
    return [WeekCounts(WEEK - timedelta(days=7 * (len(weeks) - 1 - i)), counts) for i, counts in enumerate(weeks)]


def test_the_chart_is_made_for_preview_size() -> None:
    png = render_digest_chart({"Scale AI": {"funding": 1, "customer_loss": 3}}, "Weekly digest: Nov 16 to Nov 22, 2026",
                              quiet=["Appen", "Mercor"], trend=trend({}, {"funding": 2}, {"funding": 1, "customer_loss": 3}))
    assert size(png) == (1600, 900)  # 16:9, shown about 800 x 450


def test_the_chart_draws_the_legend_in_words_the_quiet_names_and_the_trend() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    drawn: list[Figure] = []
    original = Figure.savefig

    def keep(self: Figure, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        drawn.append(self)
        return original(self, *args, **kwargs)

    Figure.savefig = keep  # type: ignore[method-assign]
    try:
        render_digest_chart({"Scale AI": {"leadership_change": 1, "customer_loss": 3}, "OpenAI": {"funding": 1}},
                            "Weekly digest", quiet=["Appen", "Mercor"], trend=trend(*([{}] * 7), {"funding": 1}))
    finally:
        Figure.savefig = original  # type: ignore[method-assign]
    figure = drawn[0]
    texts = [t.get_text() for t in figure.texts]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["funding", "leadership change", "customer loss"]
    assert any("Quiet this week: Appen, Mercor" in t for t in texts)
    bars, weeks = figure.axes
    assert [t.get_text() for t in bars.get_yticklabels()] == ["OpenAI", "Scale AI"]  # busiest on top
    assert weeks.get_title(loc="left") == "Last 8 weeks"
    assert [t.get_text() for t in weeks.get_xticklabels()][-1] == "Nov 16\nthis week"


def test_many_companies_are_capped_and_summed_up_and_awkward_names_are_text() -> None:
    counts = {f"Company {i}": {"funding": 1} for i in range(30)}
    counts["$Money$ Corp"] = {"legal": 5}
    png = render_digest_chart(counts, "Week of $x$", quiet=[f"Quiet {i}" for i in range(40)])
    assert size(png) == (1600, 900)
    assert render_digest_chart({}, "nothing").startswith(b"\x89PNG")


def test_trend_weeks_are_the_eight_weeks_up_to_this_one(settings) -> None:  # noqa: ANN001
    weeks = trend_weeks(WEEK, settings)
    assert len(weeks) == 8 and weeks[-1][0] == WEEK and weeks[0][0] == WEEK - timedelta(weeks=7)
    assert all(end - start == timedelta(days=7) for _, start, end in weeks)
    assert all(a[2] == b[1] for a, b in zip(weeks, weeks[1:]))


async def test_load_trend_bins_events_by_week_as_each_subscription_narrows_them(engine, settings) -> None:  # noqa: ANN001
    def at(days: float) -> datetime:
        return datetime(2026, 11, 16, 12, tzinfo=timezone.utc) + timedelta(days=days)

    await store_item(engine, key="a", title="Scale AI raises $1B", when=at(1),
                     events=[Event(type="funding", subject="scale-ai", amount_usd=1e9)])
    await store_item(engine, key="b", title="Scale AI lays off staff", when=at(-7),
                     events=[Event(type="layoffs", subject="scale-ai")])
    await store_item(engine, key="c", title="OpenAI cuts jobs", when=at(-14),
                     events=[Event(type="layoffs", subject="openai")])
    await store_item(engine, key="d", title="OpenAI raises $5B", when=at(-15),
                     events=[Event(type="funding", subject="openai", amount_usd=5e9)])
    await store_item(engine, key="old", title="Scale AI raised long ago", when=at(-70),
                     events=[Event(type="funding", subject="scale-ai")])
    await store_item(engine, key="next", title="Scale AI sued", when=at(8),
                     events=[Event(type="legal", subject="scale-ai")])
    weeks = await load_trend(engine, [("scale-ai", []), ("openai", ["funding"])], trend_weeks(WEEK, settings))
    # OpenAI's layoffs (Nov 2) are not in its subscription; its funding (Nov 1) is the week of Oct 26
    assert [w.counts for w in weeks] == [{}, {}, {}, {}, {"funding": 1}, {}, {"layoffs": 1}, {"funding": 1}]
    assert weeks[-1].label == "Nov 16"
