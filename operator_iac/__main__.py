"""``python -m operator_iac`` runs the command-line interface."""

from operator_iac.cli.main import main

if __name__ == "__main__":
    main()
