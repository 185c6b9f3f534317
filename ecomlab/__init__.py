"""EcomLab: an open course and analysis templates for e-commerce operations (电商运营).

The package holds everything the lessons compute: the synthetic Nestwell world
(:mod:`ecomlab.simulate`), the bundled-data loader (:mod:`ecomlab.datasets`), the one
definition of each KPI (:mod:`ecomlab.metrics`) and the chapter helpers.
"""

__version__ = "0.1.0"
