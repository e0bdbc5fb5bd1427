"""Command-line front end for longvid (installed as the ``longvid_cli`` package)."""
