"""Sphinx configuration for the sklearn-em documentation."""

import os
import warnings

import sklearn_em

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

project = "sklearn-em"
author = "the sklearn-em developers"
copyright = "2026, the sklearn-em developers"
release = version = sklearn_em.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "DataFrame": "pandas.DataFrame",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "GaussianMixture": "sklearn_em.GaussianMixture",
}
numpydoc_xref_ignore = "all"

# The build machine reaches no documentation site, so the inventories are local stand-ins
# made from the installed packages by _inventories/make_inventories.py; the links they give
# point at each project's own pages.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_inventories/sklearn.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "_inventories/numpy.inv"),
    "pandas": ("https://pandas.pydata.org/docs/", "_inventories/pandas.inv"),
    "python": ("https://docs.python.org/3/", "_inventories/python.inv"),
}

plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "reference_url": {"sklearn_em": None},
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn-em"
html_theme_options = {
    "navigation_with_keys": False,
    # every top-level section in the header at a laptop's width, none under "More"
    "header_links_before_dropdown": 7,
    "show_nav_level": 2,
    "navigation_depth": 3,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# pages with no section of their own (the home page, the changelog, ...) list every section
html_sidebars = {
    "index": ["sidebar-nav-bs", "sidebar-sections"],
    "changelog": ["sidebar-sections"],
    "citing": ["sidebar-sections"],
    "api": ["sidebar-sections"],
}
exclude_patterns = ["_build", "_inventories", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["custom.css"]
