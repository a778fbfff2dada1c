"""Admin features: broadcasts, feed management, OPML, statistics, audit and alerts."""
