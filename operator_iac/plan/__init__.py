"""Pure planning: normalisation, diff and the frozen Plan value; no I/O here."""
