"""The scenario engine: plain Python (numpy, scipy, pyosmium), no Django.

Readers and writers of formats live at the edge (tntp, gmns, osm, package);
the network model and demand are arrays (network); the solver (assignment)
never parses. Django code calls this package; this package never imports Django.
"""

ENGINE_NAME = "reci-twins-engine"
__version__ = "0.1.0"
