"""Filesystem work: safe paths inside a root, layer apply and diff, overlay mounts."""
