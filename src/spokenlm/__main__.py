"""``python -m spokenlm`` runs the command line."""

from spokenlm.cli import main

main()
