"""Compiles the gettext catalogues (``.po`` → ``.mo``) whenever the package is built or
installed, editable installs included; everything else is in ``pyproject.toml``."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class CompileCatalogues(build_py):
    def run(self) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for source in Path("src/leadq/i18n/locale").glob("*/LC_MESSAGES/*.po"):
            with source.open("rb") as handle:
                catalogue = read_po(handle)
            with source.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalogue)
        super().run()


setup(cmdclass={"build_py": CompileCatalogues})
