"""`python -m interzap_server.admin`: the same as the interzap-admin console script."""

import sys

from interzap_server.admin.cli import main

sys.exit(main())
