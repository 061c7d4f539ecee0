"""TOML -> model: the config file, checked, as the frozen values of :mod:`uptimed.model.config`.

:func:`load_config` (and :func:`loads_config`, from text) returns a
:class:`~uptimed.model.config.Config` or raises :class:`~uptimed.errors.ConfigError` listing
every mistake found; :func:`summarize` is what ``uptimed check-config`` prints about a valid
one; :func:`default_database` is where the database goes when the config does not say.

These four are the package's interface. Its modules: :mod:`~uptimed.config.loader` (the file,
TOML, the sections in order), :mod:`~uptimed.config.checker` (errors and how they read),
:mod:`~uptimed.config.values` and :mod:`~uptimed.config.ids` (value kinds the sections share),
one module per section (daemon, monitors, retention, services, slos with service_hours,
maintenance, notifications, customers with agreements and [portal]), one per probe kind's keys
(http, tcp), secret references (:mod:`~uptimed.config.secrets`,
:mod:`~uptimed.config.secret_options`, :mod:`~uptimed.config.urls`) and
:mod:`~uptimed.config.summary`.
"""

from uptimed.config.daemon import default_database
from uptimed.config.loader import load_config, loads_config
from uptimed.config.summary import summarize

__all__ = ["default_database", "load_config", "loads_config", "summarize"]
