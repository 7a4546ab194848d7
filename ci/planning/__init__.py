"""Planning, pure: the whole invocation decided as data (platforms, commands, dirs, run specs)."""
