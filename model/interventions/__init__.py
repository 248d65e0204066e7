"""Leadership interventions; every module in this package is imported so its class registers itself."""

import importlib
import pkgutil

from culturedrift.model.interventions.base import REGISTRY, Intervention

for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["REGISTRY", "Intervention"]
