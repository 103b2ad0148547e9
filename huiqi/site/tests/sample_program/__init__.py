"""A new, empty program as a newcomer adds one: its folder, a line in INSTALLED_APPS and one in urls.py.

It declares a menu entry, an API route, a demo part and an importer in ``site.py`` and grants one
permission in ``permissions.py``; ``huiqi/site/tests/test_layout.py`` checks that the site finds each.
"""
