"""`drive-index`, the operator's command line: the runbook of a Drive Index deployment."""
