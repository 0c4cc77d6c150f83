"""The live page (``cxstream dashboard``): ``queries`` reads the BI views into a snapshot,
``server`` pushes snapshots to open pages, ``page`` is the HTML document itself."""
