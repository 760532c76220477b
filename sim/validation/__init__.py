"""Evidence that the model is right: exact queueing formulas, reductions of the model that
theory solves, and the Groningen scenario against published Dutch figures."""
