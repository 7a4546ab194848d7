"""The container engine: endpoints, the Engine API over HTTP, the Docker SDK (builds, pulls), podman."""
