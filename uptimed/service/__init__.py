"""What the front ends ask for (the CLI, the API, /metrics, and later the portal): reports,
SLO figures, status and maintenance, each computed once from the database (through
:mod:`uptimed.store.reads`) with the pure core, into the typed values of
:mod:`uptimed.model.report`. Rendering them is :mod:`uptimed.render`'s job."""
