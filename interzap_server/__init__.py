"""The Interzap server: a single-threaded selectors loop in front of a peewee store."""
