"""Release: TAG-<arch> images pushed, joined into manifest lists through the registry API."""
