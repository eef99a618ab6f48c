"""The encrypted vault on disk: the store, its schema and migrations, the key slots, the
audit chain, backups and the anchor kept outside it."""
