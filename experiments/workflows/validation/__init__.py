"""Credibility of the model: calibration to workforce statistics, stylized facts and Munro loop checks.

Modules:
    common       paired statistics, the process pool and the perturbation runner
    calibration  the committed ABC-SMC posterior and the predictive check of the defaults (CAL)
    facts        stylized facts SF1-SF6 as paired-seed experiments
    loops        polarity checks of Munro's feedback loops by perturbation
    odd_table    the generated parameter table of docs/ODD.md
    report       everything above as validation_report.md / .html (`culturedrift validate`)
"""
