"""What optional engines and bundled weights this machine has (used by ``spokenlm doctor``)."""
