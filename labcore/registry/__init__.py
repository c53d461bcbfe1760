"""A registry client: the OCI distribution API (Docker Registry HTTP API v2) over httpx.

Modules, low to high: :mod:`errors`, :mod:`hosts` (mirrors, insecure registries),
:mod:`credentials` (Docker-compatible config.json), :mod:`challenge` and :mod:`auth` (Basic and
Bearer token auth), :mod:`status` (HTTP status to error), :mod:`client` (one request per method),
:mod:`platforms`, :mod:`progress`, :mod:`transfer` and :mod:`upload` (one blob each way), then
:mod:`pull`, :mod:`push`, :mod:`search`, :mod:`login` and :mod:`seed`.

Entry points: :func:`labcore.registry.pull.pull_image`, :func:`labcore.registry.push.push_image`,
:func:`labcore.registry.search.search_registry`, :func:`labcore.registry.login.check_credentials`
and :func:`labcore.registry.seed.seed_lab_registry`.
"""
