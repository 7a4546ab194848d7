"""The command line and settings: every setting's name, default, flag and variable, resolved in one place."""
