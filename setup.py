# The project is declared in pyproject.toml. This shim exists because scrapyd-deploy builds its egg with
# `python setup.py bdist_egg` and writes a setup.py of its own (name "project", no package data) when
# there is none.
from setuptools import setup

setup()
