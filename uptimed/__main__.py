import sys

from uptimed.cli import main

if __name__ == "__main__":  # not when a child process (uptimed.daemon.sla_worker) imports it
    sys.exit(main())
