"""A region's own data into scenario inputs: a telephony export into a demand profile
(``import-profile``), measured durations into fitted distributions (``fit-durations``).
Each reads a CSV file, checks it with located errors, and returns a scenario snippet."""
