"""``python -m longvid_cli``: the same as the ``longvid`` command."""

from longvid_cli.guard import main

main()
