"""The /stats chart: messages sent and new chats per day, as PNG bytes.

Drawn on a bare `Figure` with the Agg canvas (no pyplot, so no global
state and no GUI backend); CPU-bound, so callers run it in a thread.
"""

from __future__ import annotations

import io

from bot.admin.stats import DailySeries


def render_chart(series: DailySeries) -> bytes:
    """Two bar charts over the same days; return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [d.strftime("%d %b") for d in series.days]
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.bar(labels, series.sent, color="#2a7ab0")
    top.set_title("Messages sent per day")
    bottom.bar(labels, series.new_chats, color="#3c9d5d")
    bottom.set_title("New chats per day")
    for axes in (top, bottom):
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="y", alpha=0.3)
    bottom.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
