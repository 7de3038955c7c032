"""Files people bring or take: a Trakt export, Netflix's viewing activity, an iCalendar feed. Pure parsing and
building."""
