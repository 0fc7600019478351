"""interzap-admin: the operator's command, on the database a server may be using right now.

cli.py reads the command line and carries out one command through the storage
package's Admin (storage/admin.py, the only place with its SQL); output.py
writes what it returns as an aligned table for people, or JSON for scripts.
Knows no sockets and no SQL: a running server hears of changes through the
database (storage/accounts.py), never through this process.
"""
