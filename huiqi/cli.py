"""`huiqi …`: Django's management commands with Huiqi's settings.

Two-word commands read naturally and map to one management command each:
`huiqi import registry FILE` → `import_data registry FILE`, `huiqi export registry FILE` → `export_data registry FILE`.
"""

from __future__ import annotations

import os
import sys

ALIASES = {"import": "import_data", "export": "export_data"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiqi.settings")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
