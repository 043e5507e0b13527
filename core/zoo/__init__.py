"""The model zoo: the entries and how each is trained (recipes.py), shipping a run into
pretrained/ with its card and the manifest (ship.py), many runs at once (batch.py), and finding
shipped models and run directories on disk (discover.py)."""
