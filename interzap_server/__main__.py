"""`python -m interzap_server`."""

import sys

from interzap_server.cli import main

sys.exit(main())
