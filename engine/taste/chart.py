"""A PNG chart of persona weights over time (matplotlib, headless)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ..models import PersonaReport


def persona_chart(report: PersonaReport, title: str = "Your taste personas over time") -> bytes:
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    periods = list(report.periods)
    if periods and report.personas:
        xs = list(range(len(periods)))
        ys = [list(p.timeline) + [0.0] * (len(periods) - len(p.timeline)) for p in report.personas]
        labels = [f"{p.name} ({p.weight:.0%})" for p in report.personas]
        ax.stackplot(xs, ys, labels=labels, alpha=0.85)
        ax.set_xticks(xs)
        crowded = len(periods) > 8
        ax.set_xticklabels(periods, rotation=45 if crowded else 0, ha="right" if crowded else "center")
        ax.set_xlim(0, max(1, len(xs) - 1))
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of plays")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "No history yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
