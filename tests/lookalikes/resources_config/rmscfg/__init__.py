"""Tuning table shipped as package data, read with importlib.resources (the stdlib way for package data)."""
import json
from importlib import resources

TABLE = json.loads(resources.files(__package__).joinpath("table.json").read_text())
