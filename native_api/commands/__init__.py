"""CloudStack commands, one module per resource family; importing them fills the table.

Every module of this package is imported (discovery, so a new family cannot be forgotten).
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)
