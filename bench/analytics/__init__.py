"""`python -m bench.analytics`: a year of a 300-bed hospital, generated in SQL, and every report timed on it.

Prints each report's time over the whole year and, in the same run, the time of one sequential
`count(*)` over the report's source table (the floor any report reading that table pays), as a ratio.
"""
