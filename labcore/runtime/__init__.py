"""The low-level container runtime: namespaces, root filesystem, hardening and cgroups.

:func:`labcore.runtime.process.create` turns a :class:`labcore.runtime.spec.ContainerSpec` into a
process waiting in its namespaces (runc's "created" state); ``start()`` lets it exec the command.

``spec`` the data (like OCI ``config.json``) · ``process`` the caller's side (create, start, exec,
wait) · ``init`` the forked side (intermediate and init) · ``sync`` their messages · ``rootfs``
the mount plan · ``hardening`` user and capabilities · ``cgroups`` (+ ``cgroups_v1``,
``cgroups_v2``) limits, stats, OOM and kill.
"""
