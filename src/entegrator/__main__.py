"""``python -m entegrator`` runs the command line."""

from entegrator.cli import main

main()
