"""The command-line interface: one thin module per command, loaded only when it is invoked."""
