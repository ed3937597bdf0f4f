# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Sphinx configuration of the Vireo guides.  Build with devtools/doc.sh
# (Debian's python3-sphinx, default theme, warnings are errors).

project = 'Vireo'
author = 'The Vireo Authors'
copyright = '2026, The Vireo Authors'
version = '0.1'
release = '0.1.0'

master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = ['_build']
# The features matrix is an .ini file shown by literalinclude, not a page.
templates_path = []
html_static_path = []

pygments_style = 'sphinx'
html_theme = 'alabaster'
html_title = 'Vireo %s documentation' % release
html_show_sourcelink = False
html_copy_source = False
