"""``spokenlm quickstart``: a speech LM synthesized, trained, evaluated and reported from one command."""
