"""Images: find, pull, bootstrap, build and prune the platforms' images."""
