"""The composition root: configuration, wiring of core, drivers and front ends, the CLI.

It is the one package allowed to import every other; the layering test holds the rest apart.
"""
