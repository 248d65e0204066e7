"""culturedrift: a children's services organisation carrying out the Munro Review, and after.

The installed package maps the repository's top-level folders to unambiguous import names:
`culturedrift.model` is `model/` (the simulation) and `culturedrift.experiments` is `experiments/`
(everything that runs, analyses and reports on it).
"""

__version__ = "0.2.0"
