"""``python -m adapters.cli`` runs the ``rmbot`` command line."""

from adapters.cli import main

main()
