"""The gateway's outside world: the watch_channels table."""
