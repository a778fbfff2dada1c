"""The /stats chart: messages sent and new chats per day, as PNG bytes.

Drawn on a bare `Figure` with the Agg canvas (no pyplot, so no global
state and no GUI backend); CPU-bound, so callers run it in a thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from bot.admin.stats import DailySeries
from bot.render import texts
from bot.render.i18n import Lang


@dataclass(frozen=True)
class ChartTexts:
    """The words drawn on the chart, in the chat's language."""

    sent: str
    new_chats: str
    days: tuple[str, ...]  # "8 Dec", "8. Dez.", "8 дек."


def chart_texts(series: DailySeries, lang: Lang) -> ChartTexts:
    return ChartTexts(
        sent=lang(texts.CHART_SENT),
        new_chats=lang(texts.CHART_NEW_CHATS),
        days=tuple(lang.day_month(day) for day in series.days),
    )


def render_chart(series: DailySeries, lang: Lang) -> bytes:
    """Two bar charts over the same days; return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    words = chart_texts(series, lang)
    labels = list(words.days)
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.bar(labels, series.sent, color="#2a7ab0")
    top.set_title(words.sent)
    bottom.bar(labels, series.new_chats, color="#3c9d5d")
    bottom.set_title(words.new_chats)
    for axes in (top, bottom):
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="y", alpha=0.3)
    bottom.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
