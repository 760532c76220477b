"""How many staff each front desk needs to meet stated norms (the ``staffing`` command).

``measure`` runs replications with the front desks' pools observed and counts, per hour of
the week, what the search needs; ``search`` is the iterative staffing algorithm and the
search over its target; ``outputs`` writes the tables, the scenario snippet, costs, FTE,
the figure and the report.
"""
