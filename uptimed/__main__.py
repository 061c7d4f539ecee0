import sys

from uptimed.cli import main

sys.exit(main())
