"""Taking evidence in: screen grabs, windows, pictures from files, and the recorder that
turns each into an item in the vault."""
