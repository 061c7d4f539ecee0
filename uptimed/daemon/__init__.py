"""The running daemon: start-up, reload and stop (:mod:`~uptimed.daemon.app`), the schedule,
what a monitor's job does when it fires (:mod:`~uptimed.daemon.runner`), the connectivity
canaries and systemd's notify protocol."""
