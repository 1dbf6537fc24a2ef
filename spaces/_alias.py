"""Make this folder importable as the `spaces` package when an app file is run as a script.

A Space runs ``python app.py`` inside a copy of this folder, where there is no `spaces` package to import from
(and where Hugging Face's own ``spaces`` package may be installed). Importing this module from the script's folder
registers the folder itself under the name `spaces`, so ``from spaces.tabs import ...`` works the same as in the repo.
"""

import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if getattr(sys.modules.get("spaces"), "__file__", None) != str(_HERE / "__init__.py"):
    _spec = importlib.util.spec_from_file_location("spaces", _HERE / "__init__.py", submodule_search_locations=[str(_HERE)])
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["spaces"] = _module
    _spec.loader.exec_module(_module)
