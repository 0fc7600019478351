"""`python -m interzap_client`: the same as the interzap-client console script."""

from interzap_client.cli import main

main()
