"""Running longvid's pipeline on more than one machine (Ray)."""
