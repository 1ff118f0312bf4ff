"""Stories: coverage of one event by many outlets, grouped (cluster decides, store files)."""
