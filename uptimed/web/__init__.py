"""The HTTP listener (aiohttp): ``/metrics``, ``/healthz`` and the JSON API under ``/api/v1/``
(docs/api.md). Handlers ask :mod:`uptimed.service` for figures; they compute nothing themselves."""
