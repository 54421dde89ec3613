"""One-page HTML report of a run folder: results tables, plots and audio players (``spokenlm report RUN_DIR``)."""
