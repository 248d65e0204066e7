"""Layer 3, reporting: one figure style, figures, one table writer and one HTML renderer.

Reporting reads what the analysis layer computed; it never runs simulations. Import submodules directly
(`reporting.figures`, `reporting.tables`, `reporting.html`, `reporting.write`...).
"""
