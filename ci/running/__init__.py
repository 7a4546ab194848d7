"""Running containers: each platform's steps, sources and mounts, transfer, cleanup, the watchdog."""
